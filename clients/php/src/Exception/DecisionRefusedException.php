<?php

declare(strict_types=1);

namespace Orderflow\Exception;

/** The run refused the operator decision (it is not waiting for one, or the action is not among its choices). */
final class DecisionRefusedException extends OrderflowException
{
}
