<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/** The run ended without a result: failed (e.g. RunCompensated, RunAborted), terminated, cancelled or timed out. */
final class RunFailedException extends OrderflowException
{
    /**
     * @param string $failureType e.g. RunCompensated, CreditAlreadySpent, or the close status
     *     for terminated, cancelled and timed-out runs
     */
    public function __construct(
        public readonly string $workflowId,
        public readonly string $failureType,
        string $message,
    ) {
        parent::__construct($message);
    }
}
