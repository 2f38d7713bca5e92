<?php

/**
 * Not a test: the runner through which the vitest tests (test/php/php-client.test.ts) drive
 * the client against a real Temporal dev server with a worker and the vendor simulators,
 * which only the TypeScript suite can start. One call of Orderflow\Client; prints
 * {"answer": …} or, for an exception, {"exception": class, "message": …, …its public fields}.
 *
 *   php clients/php/tests/Support/call.php '<client options JSON>' <method> '<arguments JSON>'
 */

declare(strict_types=1);

require dirname(__DIR__) . '/bootstrap.php';

use Orderflow\Client;
use Orderflow\StartedRun;

[, $optionsJson, $method, $argumentsJson] = $argv;
$options = json_decode($optionsJson, true, 512, JSON_THROW_ON_ERROR);
$arguments = json_decode($argumentsJson, true, 512, JSON_THROW_ON_ERROR);
$flags = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR;
try {
    $client = new Client(...$options);
    $answer = $client->{$method}(...$arguments);
    if ($answer instanceof StartedRun) {
        $answer = get_object_vars($answer);
    }
    echo json_encode(['answer' => $answer], $flags), "\n";
} catch (Throwable $error) {
    $described = ['exception' => get_class($error), 'message' => $error->getMessage()] + get_object_vars($error);
    echo json_encode($described, $flags), "\n";
}
