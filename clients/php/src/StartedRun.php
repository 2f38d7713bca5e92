<?php

declare(strict_types=1);

namespace Orderflow;

/** The run that answers for a start: the new one, or the one its business key already had. */
final class StartedRun
{
    public function __construct(
        public readonly string $workflowId,
        public readonly string $runId,
        /** False when the run was already there (running, or completed) before this call. */
        public readonly bool $started,
        /** The run's page in the Temporal UI, when the client knows the UI's address. */
        public readonly ?string $uiUrl,
    ) {
    }
}
