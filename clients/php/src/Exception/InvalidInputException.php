<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/** The input was refused before anything was sent: no request, no run. */
final class InvalidInputException extends OrderflowException
{
    /** @param list<string> $problems every problem, each starting with the field's name */
    public function __construct(string $what, public readonly array $problems)
    {
        parent::__construct($what . ': ' . implode('; ', $problems));
    }
}
