<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/**
 * Every error the orderflow client throws is this class or one of its subclasses (in this
 * namespace); catch it to handle them all. The message says what happened, to what, and
 * what to do. Thrown as itself only when PHP cannot make a random request id.
 */
class OrderflowException extends \RuntimeException
{
}
