<?php

/**
 * Runs the shared table of valid and invalid inputs (test/fixtures/input-cases.json)
 * through the PHP client's rules; prints one JSON answer per case for the vitest test
 * (test/php/php-client.test.ts) to compare with the table.
 *
 *   php clients/php/tests/input-cases.php test/fixtures/input-cases.json
 */

declare(strict_types=1);

require __DIR__ . '/bootstrap.php';

use Orderflow\Contract;
use Orderflow\Exception\InvalidInputException;
use Orderflow\InputRules;

$cases = json_decode((string) file_get_contents($argv[1]), true, 512, JSON_THROW_ON_ERROR);
$contract = Contract::load();
$answers = [];
foreach ($cases as $case) {
    try {
        $normalised = InputRules::validate($case['workflow'], $case['input']);
        $answers[] = ['valid' => true, 'normalised' => $normalised, 'workflowId' => $contract->workflowId($case['workflow'], $normalised)];
    } catch (InvalidInputException $refusal) {
        $answers[] = ['valid' => false, 'problems' => $refusal->problems];
    }
}
echo json_encode($answers, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR), "\n";
