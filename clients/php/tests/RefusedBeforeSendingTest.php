<?php

declare(strict_types=1);

namespace Orderflow\Tests;

use Orderflow\Client;
use Orderflow\Contract;
use Orderflow\Exception\InvalidInputException;
use Orderflow\Tests\Support\FakeTemporal;
use PHPUnit\Framework\TestCase;

/**
 * What the caller gives each call is checked before anything is sent: a refusal is an
 * InvalidInputException listing every problem, and the server sees no request.
 */
final class RefusedBeforeSendingTest extends TestCase
{
    private const VALID = ['userId' => 7, 'orderId' => 319, 'amount' => '5.00', 'reason' => 'damaged', 'requestedBy' => 'shop'];

    private static FakeTemporal $temporal;

    public static function setUpBeforeClass(): void
    {
        self::$temporal = FakeTemporal::start();
    }

    public static function tearDownAfterClass(): void
    {
        self::$temporal->stop();
    }

    /** @return array<string, array{callable(Client): mixed, list<string>}> */
    public static function refusedCalls(): array
    {
        return [
            'bad input, every problem' => [
                static fn (Client $client) => $client->refundAndCancel(['userId' => 'seven', 'amount' => '5.001'] + self::VALID),
                ['userId must be a whole number ≥ 1 (got "seven")', 'amount "5.001" is not a decimal amount with at most two places (like 5 or 12.50)'],
            ],
            'an unknown workflow type' => [
                static fn (Client $client) => $client->start('refundOrder', self::VALID),
                ['workflowType must be one of refundAndCancel, processPaidOrder, adjustCredit, cancelOrder (got "refundOrder")'],
            ],
            'a text that is not UTF-8' => [
                static fn (Client $client) => $client->refundAndCancel(['reason' => "damaged \xC3"] + self::VALID),
                ['reason must be UTF-8 text (it holds bytes that are not UTF-8)'],
            ],
            'a requester and a bill id that are not UTF-8' => [
                static fn (Client $client) => $client->cancelOrder(['userId' => 7, 'orderId' => 1, 'requester' => "ADMIN\xFF", 'justclickBillId' => "b\xFF"]),
                [
                    "requester must be \"ADMIN\" or \"BUYER\" (got \"ADMIN\u{FFFD}\")",
                    "justclickBillId must be 1–64 letters, digits, '.', '_' or '-' (got \"b\u{FFFD}\")",
                ],
            ],
            'NaN and infinity as ids, shown as JSON.stringify shows them' => [
                static fn (Client $client) => $client->processPaidOrder(['userId' => NAN, 'orderId' => INF, 'paymentDeadline' => "7 d\xFF"]),
                [
                    'paymentDeadline must be a duration such as "30 minutes", "24 hours" or "7 days" (got "7 d' . "\u{FFFD}" . '")',
                    'userId must be a whole number ≥ 1 (got null)',
                    'orderId must be a whole number ≥ 1 (got null)',
                ],
            ],
            'an object where a text belongs' => [
                static fn (Client $client) => $client->adjustCredit(['userId' => 7, 'action' => 'add', 'amount' => new \stdClass(), 'description' => 'd', 'reason' => 'r']),
                ['amount must be a decimal text such as "5.00" (got {})'],
            ],
            'a "/" in a workflow id (status)' => [
                static fn (Client $client) => $client->status('refund-and-cancel/7/319'),
                ["workflowId \"refund-and-cancel/7/319\" cannot be addressed over Temporal's HTTP API (only letters, digits, '.', '_', ':' and '-'); orderflow's ids never contain anything else: check the id."],
            ],
            'a "/" in a workflow id (result)' => [
                static fn (Client $client) => $client->result('refund-and-cancel/7/319', 1),
                ["workflowId \"refund-and-cancel/7/319\" cannot be addressed over Temporal's HTTP API (only letters, digits, '.', '_', ':' and '-'); orderflow's ids never contain anything else: check the id."],
            ],
            'an empty workflow id (paymentReceived)' => [
                static fn (Client $client) => $client->paymentReceived(''),
                ["workflowId \"\" cannot be addressed over Temporal's HTTP API (only letters, digits, '.', '_', ':' and '-'); orderflow's ids never contain anything else: check the id."],
            ],
            'a negative wait for the result' => [
                static fn (Client $client) => $client->result('refund-and-cancel:7:319', -1),
                ['timeoutSeconds must be a number of seconds, 0 or more (got -1)'],
            ],
            'a decision with an unknown action and blank texts' => [
                static fn (Client $client) => $client->decide('refund-and-cancel:7:319', 'undo', ' ', ''),
                ['action must be one of retry, skip, compensate, abort, approve', 'note must say why', 'operator must name who decides'],
            ],
            'a decision whose texts are not UTF-8' => [
                static fn (Client $client) => $client->decide('refund-and-cancel:7:319', 'retry', "fixed \xE2\x82", "anna\xFF", "decision\n1"),
                ['note must be UTF-8 text', 'operator must be UTF-8 text', 'decisionId must be one line of printable UTF-8 text (got "decision\n1")'],
            ],
            'a decision whose note and operator are not one line, or hold a bidirectional control' => [
                static fn (Client $client) => $client->decide('refund-and-cancel:7:319', 'retry', "key fixed\nby anna", "anna\u{202E}", null, 'cancel-order#1'),
                [
                    'note must be one line of printable text; it holds a line break at position 10',
                    'operator must be one line of printable text; it holds the bidirectional control character U+202E at position 5',
                ],
            ],
            'a decision whose note holds a zero-width space' => [
                static fn (Client $client) => $client->decide('refund-and-cancel:7:319', 'retry', "key\u{200B}fixed", 'anna', null, 'cancel-order#1'),
                ['note must be one line of printable text; it holds the invisible format character U+200B at position 4'],
            ],
            'a wait id that is not <step>#<number>' => [
                static fn (Client $client) => $client->decide('refund-and-cancel:7:319', 'retry', 'fixed', 'anna', null, 'cancel-order'),
                ['waitId must look like <step>#<number>, e.g. cancel-order#2 (status() shows it in awaiting.waitId; got "cancel-order")'],
            ],
            'a wait id with a bidirectional control' => [
                static fn (Client $client) => $client->decide('refund-and-cancel:7:319', 'retry', 'fixed', 'anna', "decision-\u{202E}1", "cancel-order#1\u{202E}"),
                [
                    'decisionId must be one line of printable UTF-8 text (got "decision-' . "\u{202E}" . '1")',
                    'waitId must look like <step>#<number>, e.g. cancel-order#2 (status() shows it in awaiting.waitId; got "cancel-order#1' . "\u{202E}" . '")',
                ],
            ],
            'a decision for a "/" id' => [
                static fn (Client $client) => $client->decide('refund-and-cancel/7/319', 'retry', 'fixed', 'anna'),
                ["workflowId \"refund-and-cancel/7/319\" cannot be addressed over Temporal's HTTP API (only letters, digits, '.', '_', ':' and '-'); orderflow's ids never contain anything else: check the id."],
            ],
            'a payment note that is not UTF-8' => [
                static fn (Client $client) => $client->paymentReceived('process-paid-order:7:319', "paid \xFF", "gateway\xC0"),
                ['note must be UTF-8 text', 'by must be UTF-8 text'],
            ],
        ];
    }

    public function testTheRequestDigestOfAnInputThatWasNotChecked(): void
    {
        $this->expectException(InvalidInputException::class);
        $this->expectExceptionMessage('value refused: the value cannot be written as JSON (Malformed UTF-8 characters');
        Contract::load()->requestDigest(['userId' => 7, 'action' => 'add', 'amount' => '1.00', 'description' => "\xFF", 'reason' => 'r']);
    }

    /**
     * @dataProvider refusedCalls
     * @param callable(Client): mixed $call
     * @param list<string> $problems
     */
    public function testRefusesAndSendsNothing(callable $call, array $problems): void
    {
        self::$temporal->answer([['#.#', 200, ['started' => true, 'runId' => 'r1']]]);
        try {
            $call(new Client(self::$temporal->url));
            self::fail('the call was not refused');
        } catch (InvalidInputException $refusal) {
            self::assertSame($problems, $refusal->problems);
            self::assertStringEndsWith(': ' . implode('; ', $problems), $refusal->getMessage());
        }
        self::assertSame([], self::$temporal->requests());
    }
}
