<?php

declare(strict_types=1);

namespace Orderflow\Exception;

use Orderflow\InputRules;

/**
 * The business key already has a run (running, or completed) that was started with a
 * different request. Nothing was started.
 */
final class ConflictException extends OrderflowException
{
    /** @param list<array{field: string, existing: mixed, requested: mixed}> $differences */
    public function __construct(
        public readonly string $workflowId,
        public readonly string $runId,
        public readonly array $differences,
    ) {
        $listed = implode('; ', array_map(
            static fn (array $d): string => $d['field'] . ' ' . self::shown($d['existing']) . ' there, '
                . self::shown($d['requested']) . ' now',
            $differences,
        ));
        parent::__construct(
            "{$workflowId} (run {$runId}) already exists for this business key with a different request: {$listed}. "
            . 'Nothing was started. If the new request is meant, it needs its own business key '
            . '(e.g. another requestId); otherwise look at the existing run.'
        );
    }

    private static function shown(mixed $value): string
    {
        return $value === null ? '(none)' : InputRules::display($value);
    }
}
