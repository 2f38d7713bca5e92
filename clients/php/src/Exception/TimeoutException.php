<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/** The run did not finish within the time given to result(); it goes on. */
final class TimeoutException extends OrderflowException
{
}
