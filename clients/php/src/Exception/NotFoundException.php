<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/** No run with this workflow id in this namespace. */
final class NotFoundException extends OrderflowException
{
}
