<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/** Every error the orderflow client throws; the message says what happened and what to do. */
class OrderflowException extends \RuntimeException
{
}
