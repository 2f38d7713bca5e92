<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/** Temporal answered an error this client has no more specific exception for. */
final class ApiException extends OrderflowException
{
}
