<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/**
 * Temporal answered an error this client has no more specific exception for, or answered
 * something that is not what Temporal's HTTP API answers (not JSON, or JSON of another
 * shape: is the address Temporal's HTTP API?).
 */
final class ApiException extends OrderflowException
{
}
