<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/**
 * The client cannot work with what it was given at construction (the HTTP API address, an
 * API key over plain http, the workflow id prefix, a timeout, the CA file) or with its
 * contract file. Nothing was sent; fix the setting named in the message.
 */
final class ConfigurationException extends OrderflowException
{
}
