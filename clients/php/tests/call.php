<?php

/**
 * One call of the PHP client, for the vitest test that drives it against a real Temporal
 * dev server (test/php/php-client.test.ts). Prints {"answer": …} or, for an exception,
 * {"exception": class, "message": …, …its public fields}.
 *
 *   php clients/php/tests/call.php '<client options JSON>' <method> '<arguments JSON>'
 */

declare(strict_types=1);

require __DIR__ . '/bootstrap.php';

use Orderflow\Client;
use Orderflow\StartedRun;

[, $optionsJson, $method, $argumentsJson] = $argv;
$options = json_decode($optionsJson, true, 512, JSON_THROW_ON_ERROR);
$arguments = json_decode($argumentsJson, true, 512, JSON_THROW_ON_ERROR);
try {
    $client = new Client(...$options);
    $answer = $client->{$method}(...$arguments);
    if ($answer instanceof StartedRun) {
        $answer = get_object_vars($answer);
    }
    echo json_encode(['answer' => $answer], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR), "\n";
} catch (Throwable $error) {
    echo json_encode(['exception' => get_class($error), 'message' => $error->getMessage()] + get_object_vars($error), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR), "\n";
}
