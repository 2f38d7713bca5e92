<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/**
 * Temporal's HTTP API did not answer (connection refused, DNS, TLS, timeout): nothing may
 * have happened, or the request may have landed. Retrying the same call is safe: starts are
 * idempotent by business key, signals and decisions carry ids.
 */
final class TemporalUnreachableException extends OrderflowException
{
}
