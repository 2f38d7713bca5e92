<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/**
 * The caller's input was refused before anything was sent: no request, no run. That is a
 * workflow input, an unknown workflow type, a workflow id the HTTP API cannot address (such
 * as one with a "/"), or a decision or signal argument that is not valid text.
 */
final class InvalidInputException extends OrderflowException
{
    /** @param list<string> $problems every problem, each starting with the field's name */
    public function __construct(string $what, public readonly array $problems)
    {
        parent::__construct($what . ': ' . implode('; ', $problems));
    }
}
