<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/**
 * The decision id was already used for another decision on this run: Temporal answered
 * with that first decision, and yours was not taken. Check status() and send yours with a
 * new decision id.
 */
final class DecisionIdReusedException extends OrderflowException
{
    /** @param array<string, mixed> $firstDecision the run's answer: the decision that id was used for */
    public function __construct(string $message, public readonly array $firstDecision)
    {
        parent::__construct($message);
    }
}
