<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/** Temporal refused the credentials (API key) or the caller's permissions (HTTP 401/403). */
final class AccessDeniedException extends OrderflowException
{
}
