<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/**
 * The business key's workflow id holds a run of another workflow type (started by hand,
 * not by an orderflow starter): it is not this request's run. Nothing was started.
 */
final class OtherWorkflowTypeException extends OrderflowException
{
    public function __construct(
        public readonly string $workflowId,
        public readonly string $runId,
        public readonly string $existingType,
        public readonly string $requestedType,
    ) {
        parent::__construct(
            "{$workflowId} (run {$runId}) is a run of workflow type \"{$existingType}\", not {$requestedType}: "
            . "it was not started by an orderflow starter and is not this request's run. Nothing was started. "
            . 'orderflow refuses such a run at once; once it has failed (status() or the Temporal UI), start again.'
        );
    }
}
