<?php

declare(strict_types=1);

namespace Orderflow\Tests;

use Orderflow\Client;
use Orderflow\Exception\AccessDeniedException;
use Orderflow\Exception\ApiException;
use Orderflow\Exception\ConflictException;
use Orderflow\Exception\DecisionIdReusedException;
use Orderflow\Exception\DecisionRefusedException;
use Orderflow\Exception\NotFoundException;
use Orderflow\Exception\OrderflowException;
use Orderflow\Exception\OtherWorkflowTypeException;
use Orderflow\Exception\RunFailedException;
use Orderflow\Exception\TemporalUnreachableException;
use Orderflow\Exception\TimeoutException;
use Orderflow\Tests\Support\FakeTemporal;
use PHPUnit\Framework\TestCase;

/**
 * Whatever comes back (or does not) from the address the client was given — no answer, a
 * refusal, an error, something that is not JSON, JSON of another shape — becomes one of the
 * client's exceptions, never a PHP warning or error. (What the real Temporal answers is
 * covered by test/php/php-client.test.ts against the dev server.)
 */
final class ServerAnswersTest extends TestCase
{
    private const ID = 'refund-and-cancel:7:319';
    private const INPUT = ['userId' => 7, 'orderId' => 319, 'amount' => '5.00', 'reason' => 'damaged', 'requestedBy' => 'shop'];
    private const NORMALISED = self::INPUT;

    private static FakeTemporal $temporal;

    public static function setUpBeforeClass(): void
    {
        self::$temporal = FakeTemporal::start();
    }

    public static function tearDownAfterClass(): void
    {
        self::$temporal->stop();
    }

    /**
     * @param class-string<OrderflowException> $class
     * @param callable(): mixed $call
     */
    private static function assertThrows(string $class, string $message, callable $call): OrderflowException
    {
        try {
            $call();
        } catch (OrderflowException $error) {
            self::assertInstanceOf($class, $error, $error->getMessage());
            self::assertStringContainsString($message, $error->getMessage());
            return $error;
        }
        self::fail("nothing was thrown; expected {$class}");
    }

    private static function client(string ...$settings): Client
    {
        return new Client(self::$temporal->url, ...$settings);
    }

    /** @param array<string, mixed>|null $input */
    private static function startedEvent(?array $input, string $workflowType = 'refundAndCancel'): array
    {
        return ['history' => ['events' => [[
            'eventType' => 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
            'workflowExecutionStartedEventAttributes' => [
                'originalExecutionRunId' => 'run-1',
                'workflowType' => ['name' => $workflowType],
                'input' => [$input],
            ],
        ]]]];
    }

    public function testNoServerAtTheAddress(): void
    {
        $error = self::assertThrows(TemporalUnreachableException::class, '', static fn () => (new Client('http://127.0.0.1:1'))->status(self::ID));
        self::assertMatchesRegularExpression(
            "#^Cannot reach Temporal's HTTP API at http://127\\.0\\.0\\.1:1/api/v1/namespaces/default \\(.+\\) after 3 attempts\\. .*Repeating the call is safe\\.$#",
            $error->getMessage(),
        );
    }

    public function testTlsToAServerThatSpeaksPlainHttp(): void
    {
        self::$temporal->answer([['#.#', 200, []]]);
        $https = str_replace('http://', 'https://', self::$temporal->url);
        self::assertThrows(TemporalUnreachableException::class, "Cannot reach Temporal's HTTP API at {$https}", static fn () => (new Client($https))->status(self::ID));
    }

    public function testNoAnswerInTime(): void
    {
        // A server of its own: the slow answers keep it busy after the client has given up.
        $slow = FakeTemporal::start();
        try {
            $slow->answer([['#.#', 200, [], 1.0]]);
            self::assertThrows(
                TemporalUnreachableException::class,
                'after 3 attempts',
                static fn () => (new Client($slow->url, timeoutSeconds: 0.2))->status(self::ID),
            );
        } finally {
            $slow->stop();
        }
    }

    public function testRefusedApiKeySentAsABearerTokenAndNeverShown(): void
    {
        self::$temporal->answer([['#.#', 401, ['code' => 16, 'message' => 'Request unauthorized.']]]);
        $error = self::assertThrows(AccessDeniedException::class, 'Request unauthorized.', static fn () => self::client(apiKey: 'key-123')->status(self::ID));
        self::assertStringNotContainsString('key-123', $error->getMessage());
        self::assertSame('Bearer key-123', self::$temporal->requests()[0]['authorization']);

        self::$temporal->answer([['#.#', 403, ['code' => 7, 'message' => 'Request forbidden.']]]);
        self::assertThrows(AccessDeniedException::class, 'Check the API key', static fn () => self::client()->status(self::ID));
    }

    public function testNoSuchRun(): void
    {
        self::$temporal->answer([['#.#', 404, ['code' => 5, 'message' => 'workflow not found']]]);
        self::assertThrows(NotFoundException::class, 'Temporal has no run refund-and-cancel:7:319 in namespace default: workflow not found', static fn () => self::client()->status(self::ID));
        self::assertThrows(NotFoundException::class, 'Temporal has no run', static fn () => self::client()->paymentReceived(self::ID));
    }

    public function testAnErrorWhoseMessageIsNotText(): void
    {
        self::$temporal->answer([['#.#', 500, ['code' => 13, 'message' => ['not', 'text']]]]);
        self::assertThrows(ApiException::class, 'Temporal could not POST', static fn () => self::client()->status(self::ID));
        self::assertThrows(ApiException::class, '(HTTP 500): no message', static fn () => self::client()->status(self::ID));
    }

    public function testAnAnswerThatIsNotJson(): void
    {
        foreach (['<!doctype html><title>Temporal UI</title>', '"text"', '{"history": '] as $body) {
            self::$temporal->answer([['#.#', 200, $body]]);
            self::assertThrows(ApiException::class, 'answered HTTP 200 with something that is not JSON; is this address', static fn () => self::client()->status(self::ID));
        }
        self::$temporal->answer([['#.#', 502, '<html>Bad Gateway</html>']]);
        self::assertThrows(ApiException::class, 'answered HTTP 502 with something that is not JSON', static fn () => self::client()->start('refundAndCancel', self::INPUT));
    }

    public function testStatusAnswersOfAnotherShape(): void
    {
        self::$temporal->answer([['#/query/status$#', 200, ['queryResult' => ['a text']]]]);
        self::assertThrows(ApiException::class, 'answered with the status of refund-and-cancel:7:319 as string, not a JSON object', static fn () => self::client()->status(self::ID));
        self::$temporal->answer([['#/query/status$#', 200, []]]);
        self::assertThrows(ApiException::class, 'as null, not a JSON object', static fn () => self::client()->status(self::ID));
        self::$temporal->answer([['#/query/status$#', 200, ['queryRejected' => ['status' => ['x']]]]]);
        self::assertThrows(ApiException::class, 'did not answer the status query (no reason given)', static fn () => self::client()->status(self::ID));
        self::$temporal->answer([['#/query/status$#', 200, ['queryResult' => [['state' => 'running']]]]]);
        self::assertSame(['state' => 'running'], self::client()->status(self::ID));
    }

    public function testStartSendsTheContractsRequestAndReadsItsAnswer(): void
    {
        self::$temporal->answer([
            ['#^POST /api/v1/namespaces/shop/workflows/eu:refund-and-cancel:7:319$#', 200, ['started' => true, 'runId' => 'run-1']],
        ]);
        $run = self::client(namespace: 'shop', taskQueue: 'orders', workflowIdPrefix: 'eu:', uiUrl: 'http://ui.example.com/')->refundAndCancel(self::INPUT);
        self::assertSame(['eu:refund-and-cancel:7:319', 'run-1', true, 'http://ui.example.com/namespaces/shop/workflows/eu%3Arefund-and-cancel%3A7%3A319'], [$run->workflowId, $run->runId, $run->started, $run->uiUrl]);
        // One request: the start (no lookup of runs under another id).
        [$start] = self::$temporal->requests();
        self::assertCount(1, self::$temporal->requests());
        $body = json_decode($start['body'], true);
        self::assertSame(['name' => 'refundAndCancel'], $body['workflowType']);
        self::assertSame(['name' => 'orders'], $body['taskQueue']);
        self::assertSame([self::NORMALISED], $body['input']);
        self::assertSame('WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING', $body['workflowIdConflictPolicy']);
        self::assertSame('WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY', $body['workflowIdReusePolicy']);
        self::assertSame(['OrderflowState' => 'running', 'StoreUserId' => 7, 'StoreOrderId' => 319], $body['searchAttributes']['indexedFields']);
        self::assertSame('orderflow-php:' . gethostname(), $body['identity']);

        self::$temporal->answer([['#^POST #', 200, ['started' => true]]]);
        self::assertThrows(ApiException::class, 'answered without a run id for the start of refund-and-cancel:7:319', static fn () => self::client()->refundAndCancel(self::INPUT));
    }

    public function testAStartForABusinessKeyThatHasARun(): void
    {
        $answers = static fn (mixed $history): array => [
            ['#^POST #', 409, ['code' => 6, 'message' => 'Workflow execution is already running']],
            ['#/history\?maximumPageSize=1$#', 200, $history],
        ];
        self::$temporal->answer($answers(self::startedEvent(self::NORMALISED)));
        $run = self::client()->refundAndCancel(['requestedBy' => 'another shop'] + self::INPUT);
        self::assertSame([self::ID, 'run-1', false], [$run->workflowId, $run->runId, $run->started]);

        self::$temporal->answer($answers(self::startedEvent(['amount' => '6.00'] + self::NORMALISED)));
        $conflict = self::assertThrows(ConflictException::class, 'amount "6.00" there, "5.00" now', static fn () => self::client()->refundAndCancel(self::INPUT));
        self::assertInstanceOf(ConflictException::class, $conflict);
        self::assertSame([['field' => 'amount', 'existing' => '6.00', 'requested' => '5.00']], $conflict->differences);

        // The business key's id holds a run of another type (started by hand): not this request's run.
        self::$temporal->answer($answers(self::startedEvent(self::NORMALISED, 'refundAndCancelX')));
        $other = self::assertThrows(
            OtherWorkflowTypeException::class,
            'refund-and-cancel:7:319 (run run-1) is a run of workflow type "refundAndCancelX", not refundAndCancel: it was not started by an orderflow starter',
            static fn () => self::client()->refundAndCancel(self::INPUT),
        );
        self::assertInstanceOf(OtherWorkflowTypeException::class, $other);
        self::assertSame(['refund-and-cancel:7:319', 'run-1', 'refundAndCancelX', 'refundAndCancel'], [$other->workflowId, $other->runId, $other->existingType, $other->requestedType]);
        self::assertSame(['POST', 'GET'], array_column(self::$temporal->requests(), 'method'));

        self::$temporal->answer($answers(['history' => ['events' => 'none']]));
        self::assertThrows(ApiException::class, 'does not begin with its start; cannot compare requests', static fn () => self::client()->refundAndCancel(self::INPUT));
        self::$temporal->answer($answers(self::startedEvent(self::NORMALISED, '')));
        self::assertThrows(ApiException::class, 'answered with the start of refund-and-cancel:7:319 without its workflow type', static fn () => self::client()->refundAndCancel(self::INPUT));
        self::$temporal->answer($answers(self::startedEvent(null)));
        self::assertThrows(ApiException::class, 'the input refund-and-cancel:7:319 started with as null', static fn () => self::client()->refundAndCancel(self::INPUT));
    }

    public function testResultsAndRunsThatEndedWithout(): void
    {
        $closed = static fn (array $event): array => [['#/history\?#', 200, ['history' => ['events' => [$event]]]]];
        self::$temporal->answer($closed(['eventType' => 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED', 'workflowExecutionCompletedEventAttributes' => ['result' => [['outcome' => 'completed']]]]));
        self::assertSame(['outcome' => 'completed'], self::client()->result(self::ID, 5));
        self::assertStringContainsString('waitNewEvent=true', self::$temporal->requests()[0]['uri']);

        self::$temporal->answer($closed(['eventType' => 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED', 'workflowExecutionCompletedEventAttributes' => ['result' => ['done']]]));
        self::assertThrows(ApiException::class, 'the result of refund-and-cancel:7:319 as string', static fn () => self::client()->result(self::ID, 5));

        self::$temporal->answer($closed(['eventType' => 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED', 'workflowExecutionFailedEventAttributes' => ['failure' => [
            'message' => 'Refund compensated', 'applicationFailureInfo' => ['type' => 'RunCompensated'],
        ]]]));
        $failed = self::assertThrows(RunFailedException::class, 'refund-and-cancel:7:319 failed (RunCompensated): Refund compensated', static fn () => self::client()->result(self::ID, 5));
        self::assertInstanceOf(RunFailedException::class, $failed);
        self::assertSame([self::ID, 'RunCompensated'], [$failed->workflowId, $failed->failureType]);

        self::$temporal->answer($closed(['eventType' => 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED', 'workflowExecutionFailedEventAttributes' => ['failure' => 'boom']]));
        self::assertThrows(RunFailedException::class, 'failed (Failure): no message', static fn () => self::client()->result(self::ID, 5));

        self::$temporal->answer($closed(['eventType' => 'EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED']));
        self::assertThrows(RunFailedException::class, 'refund-and-cancel:7:319 ended without a result (terminated)', static fn () => self::client()->result(self::ID, 5));

        self::$temporal->answer($closed(['eventType' => ['not text']]));
        self::assertThrows(ApiException::class, 'answered with an event that does not close a run', static fn () => self::client()->result(self::ID, 5));
        self::$temporal->answer([['#/history\?#', 200, ['history' => ['events' => ['an event']]]]]);
        self::assertThrows(ApiException::class, 'the close event of refund-and-cancel:7:319 as string', static fn () => self::client()->result(self::ID, 5));

        // Answered at once: a request the client gave up on would reach the next test's log.
        self::$temporal->answer([['#/history\?#', 200, ['history' => ['events' => []]]]]);
        self::assertThrows(TimeoutException::class, 'refund-and-cancel:7:319 did not finish within 0.3 s; it goes on.', static fn () => self::client()->result(self::ID, 0.3));
    }

    /** The run's reply to a decision: what it took, as the operatorDecision update answers. */
    private static function reply(string $action, string $note, string $operator, string $waitId = 'cancel-order#1'): array
    {
        return ['outcome' => ['success' => [[
            'accepted' => true, 'waitId' => $waitId, 'step' => 'cancel-order', 'action' => $action,
            'note' => $note, 'operator' => $operator, 'identity' => 'orderflow-php:shop', 'willHappen' => 'the step is tried again',
        ]]]];
    }

    public function testADecisionForAWaitId(): void
    {
        $path = '#^POST /api/v1/namespaces/default/workflows/refund-and-cancel:7:319/update/operatorDecision$#';
        self::$temporal->answer([[$path, 200, self::reply('retry', 'key fixed', 'anna', 'cancel-order#2')]]);
        $reply = self::client(identity: 'orderflow-php:shop')->decide(self::ID, 'retry', ' key fixed ', 'anna', 'decision-1', 'cancel-order#2');
        self::assertSame(['accepted' => true, 'waitId' => 'cancel-order#2', 'action' => 'retry'], array_intersect_key($reply, ['accepted' => 0, 'waitId' => 0, 'action' => 0]));
        // Given a wait id, the client asks nothing first: the one request is the update.
        $requests = self::$temporal->requests();
        self::assertCount(1, $requests);
        $sent = json_decode($requests[0]['body'], true);
        self::assertSame(['updateId' => 'decision-1', 'identity' => 'orderflow-php:shop'], $sent['request']['meta']);
        self::assertSame('operatorDecision', $sent['request']['input']['name']);
        self::assertSame(
            [['waitId' => 'cancel-order#2', 'step' => 'cancel-order', 'action' => 'retry', 'note' => ' key fixed ', 'operator' => 'anna']],
            $sent['request']['input']['args'],
        );
        self::assertSame('UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED', $sent['waitPolicy']['lifecycleStage']);
    }

    public function testADecisionWithoutAWaitIdTakesTheOneStatusShows(): void
    {
        $update = '#/update/operatorDecision$#';
        self::$temporal->answer([
            ['#/query/status$#', 200, ['queryResult' => [['state' => 'awaiting-operator', 'awaiting' => ['step' => 'cancel-order', 'waitId' => 'cancel-order#3']]]]],
            [$update, 200, self::reply('skip', 'done by hand', 'ben', 'cancel-order#3')],
        ]);
        self::assertSame('cancel-order#3', self::client()->decide(self::ID, 'skip', 'done by hand', 'ben')['waitId']);
        [$query, $sent] = self::$temporal->requests();
        self::assertStringEndsWith('/query/status', $query['uri']);
        $body = json_decode($sent['body'], true);
        self::assertSame('cancel-order#3', $body['request']['input']['args'][0]['waitId']);
        // Without a decision id the client makes one; the identity is this machine's by default.
        self::assertMatchesRegularExpression('/^decision-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/', $body['request']['meta']['updateId']);
        self::assertSame('orderflow-php:' . gethostname(), $body['request']['meta']['identity']);

        self::$temporal->answer([['#/query/status$#', 200, ['queryResult' => [['state' => 'running']]]]]);
        self::assertThrows(DecisionRefusedException::class, 'refund-and-cancel:7:319 waits for no decision now: nothing was sent', static fn () => self::client()->decide(self::ID, 'retry', 'n', 'o'));
        self::assertCount(1, self::$temporal->requests());
        self::$temporal->answer([['#/query/status$#', 200, ['queryResult' => [['awaiting' => ['waitId' => ['cancel-order#1']]]]]]]);
        self::assertThrows(ApiException::class, 'shows a wait id that is not <step>#<number> (["cancel-order#1"]); nothing was sent', static fn () => self::client()->decide(self::ID, 'retry', 'n', 'o'));
        self::assertCount(1, self::$temporal->requests());
    }

    public function testADecisionIdUsedBeforeForAnotherDecision(): void
    {
        // Temporal answers an update id it has seen with that update's first outcome.
        self::$temporal->answer([['#/update/operatorDecision$#', 200, self::reply('retry', 'key fixed', 'anna')]]);
        $reused = self::assertThrows(
            DecisionIdReusedException::class,
            'refund-and-cancel:7:319: this decision id (decision-1) was already used for retry at cancel-order#1 by anna (Temporal identity: orderflow-php:shop): "key fixed". '
            . 'Your decision (skip at cancel-order#1) was not taken; check status() and send it with a new decision id.',
            static fn () => self::client()->decide(self::ID, 'skip', 'it is cancelled', 'ben', 'decision-1', 'cancel-order#1'),
        );
        self::assertInstanceOf(DecisionIdReusedException::class, $reused);
        self::assertSame('retry', $reused->firstDecision['action']);
        // Another wait with the same id is another decision, too.
        self::assertThrows(DecisionIdReusedException::class, 'Your decision (retry at cancel-order#2) was not taken', static fn () => self::client()->decide(self::ID, 'retry', 'key fixed', 'anna', 'decision-1', 'cancel-order#2'));
        // The same decision again (a retry after an error) is the first one's reply, not an error; the run trims note and operator.
        $again = self::client()->decide(self::ID, 'retry', "key fixed\u{00A0}", ' anna', 'decision-1', 'cancel-order#1');
        self::assertSame('retry', $again['action']);
        // A reply that does not say what was taken is not taken for a reuse.
        self::$temporal->answer([['#/update/operatorDecision$#', 200, ['outcome' => ['success' => [['accepted' => true, 'action' => ['retry']]]]]]]);
        self::assertThrows(ApiException::class, 'answered the decision for refund-and-cancel:7:319 without the waitId it took', static fn () => self::client()->decide(self::ID, 'retry', 'n', 'o', 'decision-2', 'cancel-order#1'));
    }

    public function testDecisionAnswersOfAnotherShape(): void
    {
        $path = '#^POST /api/v1/namespaces/default/workflows/refund-and-cancel:7:319/update/operatorDecision$#';
        $decide = static fn () => self::client()->decide(self::ID, 'retry', 'n', 'o', null, 'cancel-order#1');
        self::$temporal->answer([[$path, 200, ['outcome' => ['failure' => ['message' => 'not waiting for an operator']]]]]);
        self::assertThrows(DecisionRefusedException::class, 'refund-and-cancel:7:319 refused the decision: not waiting for an operator', $decide);
        self::$temporal->answer([[$path, 404, ['code' => 5, 'message' => 'not found']]]);
        self::assertThrows(DecisionRefusedException::class, 'is not running any more (or does not exist): nothing to decide', $decide);
        self::$temporal->answer([[$path, 200, ['updateRef' => []]]]);
        self::assertThrows(ApiException::class, 'answered the decision for refund-and-cancel:7:319 without an outcome or a stage', $decide);
        self::$temporal->answer([[$path, 200, ['outcome' => ['success' => 'yes']]]]);
        self::assertThrows(ApiException::class, 'the reply of refund-and-cancel:7:319 to the decision as string', $decide);
    }

    public function testPaymentReceived(): void
    {
        self::$temporal->answer([['#^POST /api/v1/namespaces/default/workflows/process-paid-order:7:319/signal/paymentReceived$#', 200, []]]);
        self::client()->paymentReceived('process-paid-order:7:319', 'gateway confirmed');
        $sent = json_decode(self::$temporal->requests()[0]['body'], true);
        self::assertSame([['note' => 'gateway confirmed']], $sent['input']);
    }
}
