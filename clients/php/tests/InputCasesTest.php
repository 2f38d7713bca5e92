<?php

declare(strict_types=1);

namespace Orderflow\Tests;

use Orderflow\Contract;
use Orderflow\Exception\InvalidInputException;
use Orderflow\InputRules;
use PHPUnit\Framework\TestCase;

/**
 * The shared table of valid and invalid inputs (test/fixtures/input-cases.json at the root
 * of the orderflow repository), which the TypeScript starters follow too
 * (test/contract/contract.test.ts): a valid input gives the table's normalised input and
 * workflow id, a refused one the table's problems, word for word.
 */
final class InputCasesTest extends TestCase
{
    /** @return array<string, array{array<string, mixed>}> */
    public static function cases(): array
    {
        $path = dirname(__DIR__, 3) . '/test/fixtures/input-cases.json';
        $text = is_file($path) ? file_get_contents($path) : false;
        if ($text === false) {
            throw new \RuntimeException("The shared table of inputs {$path} is missing; run the tests in an orderflow checkout.");
        }
        $cases = [];
        foreach (json_decode($text, true, 512, JSON_THROW_ON_ERROR) as $index => $case) {
            $cases["#{$index} {$case['workflow']}: {$case['note']}"] = [$case];
        }
        return $cases;
    }

    /**
     * @dataProvider cases
     * @param array<string, mixed> $case
     */
    public function testFollowsTheSharedTable(array $case): void
    {
        try {
            $normalised = InputRules::validate($case['workflow'], $case['input']);
        } catch (InvalidInputException $refusal) {
            self::assertArrayHasKey('refused', $case, 'the table says this input is valid: ' . $refusal->getMessage());
            self::assertSame($case['problems'], $refusal->problems);
            return;
        }
        self::assertArrayNotHasKey('refused', $case, 'the table says this input is refused');
        self::assertSame(self::sorted($case['normalised']), self::sorted($normalised), 'the normalised input');
        self::assertSame($case['workflowId'], Contract::load()->workflowId($case['workflow'], $normalised));
    }

    public function testTheTableHasValidAndRefusedCasesOfEveryWorkflow(): void
    {
        $seen = [];
        foreach (self::cases() as [$case]) {
            $seen[] = $case['workflow'] . (isset($case['refused']) ? ' refused' : ' valid');
        }
        foreach (['refundAndCancel', 'processPaidOrder', 'adjustCredit', 'cancelOrder'] as $workflow) {
            self::assertContains("{$workflow} valid", $seen);
            self::assertContains("{$workflow} refused", $seen);
        }
    }

    /**
     * The fields of an object in one order (values and their types unchanged).
     *
     * @param array<string, mixed> $fields
     * @return array<string, mixed>
     */
    private static function sorted(array $fields): array
    {
        ksort($fields);
        return $fields;
    }
}
