<?php

declare(strict_types=1);

namespace Orderflow;

use Orderflow\Exception\AccessDeniedException;
use Orderflow\Exception\ApiException;
use Orderflow\Exception\ConflictException;
use Orderflow\Exception\DecisionIdReusedException;
use Orderflow\Exception\DecisionRefusedException;
use Orderflow\Exception\InvalidInputException;
use Orderflow\Exception\NotFoundException;
use Orderflow\Exception\OtherWorkflowTypeException;
use Orderflow\Exception\RunFailedException;
use Orderflow\Exception\TemporalUnreachableException;
use Orderflow\Exception\TimeoutException;

/**
 * Starts and steers orderflow runs through Temporal's HTTP API (`/api/v1/…`, served by the
 * Temporal frontend; `npm start` serves it on http://127.0.0.1:7243). Inputs are checked by
 * the same rules as orderflow's TypeScript starters before anything is sent; every start
 * uses the business-key workflow id and the id policies of the contract, so the same
 * request twice is one run and a different request for the same business key is refused.
 */
final class Client
{
    private const OPERATOR_ACTIONS = ['retry', 'skip', 'compensate', 'abort', 'approve'];
    private const WAIT_ID = '/^([a-z][a-z0-9-]{0,63})#[1-9][0-9]{0,5}$/';
    private const ANSWERING_STATUSES = ['WORKFLOW_EXECUTION_STATUS_RUNNING', 'WORKFLOW_EXECUTION_STATUS_COMPLETED', 'WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW'];
    /** Attempts for a call whose request did not get an answer (every call is safe to repeat: starts, signals and updates carry ids). */
    private const ATTEMPTS = 3;

    private readonly string $apiBase;
    private readonly Contract $contract;
    /** The caller identity Temporal records with every start, update and signal this client sends. */
    private readonly string $identity;

    /**
     * @param string $httpApiUrl Temporal's HTTP API, e.g. http://127.0.0.1:7243 or https://temporal.example.com:7243
     * @param string|null $apiKey sent as `Authorization: Bearer …` (only over https, or to this machine)
     * @param string|null $uiUrl the Temporal UI, for the links in StartedRun (e.g. http://127.0.0.1:8233)
     * @param string $workflowIdPrefix put before every workflow id (e.g. `shop-eu:`), as in the TS starters
     * @param string|null $caFile CA bundle for a private CA; TLS verification is never switched off
     * @param string|null $identity the caller identity Temporal records with each request (who decided, who started a run);
     *                              default `orderflow-php:<hostname>`: name your backend, e.g. `orderflow-php:shop-backend-eu`
     * @param PayloadCodec|null $payloadCodec with payload encryption on: encodes what is sent, decodes what comes back (docs/encryption.md)
     */
    public function __construct(
        string $httpApiUrl,
        private readonly string $namespace = 'default',
        private readonly string $taskQueue = 'orderflow',
        private readonly ?string $apiKey = null,
        private readonly ?string $uiUrl = null,
        private readonly string $workflowIdPrefix = '',
        private readonly float $timeoutSeconds = 15.0,
        private readonly float $connectTimeoutSeconds = 5.0,
        private readonly ?string $caFile = null,
        ?string $identity = null,
        ?Contract $contract = null,
        private readonly ?PayloadCodec $payloadCodec = null,
    ) {
        $url = parse_url($httpApiUrl);
        if ($url === false || !in_array($url['scheme'] ?? '', ['http', 'https'], true) || !isset($url['host'])) {
            throw new \InvalidArgumentException("The Temporal HTTP API address must be an http(s) URL like http://127.0.0.1:7243, got \"{$httpApiUrl}\".");
        }
        $loopback = in_array($url['host'], ['127.0.0.1', 'localhost', '::1', '[::1]'], true);
        if ($apiKey !== null && $url['scheme'] !== 'https' && !$loopback) {
            throw new \InvalidArgumentException("An API key is only sent over https; {$httpApiUrl} is plain http. Use the https address of Temporal's HTTP API.");
        }
        if (preg_match('/^[A-Za-z0-9_.:-]*$/', $workflowIdPrefix) !== 1) {
            throw new \InvalidArgumentException("The workflow id prefix may contain only letters, digits, '.', '_', ':' and '-', got \"{$workflowIdPrefix}\".");
        }
        $identity ??= 'orderflow-php:' . (gethostname() ?: 'unknown-host');
        if (trim($identity) === '' || strlen($identity) > 200 || preg_match('/[\x00-\x1f\x7f]/', $identity) === 1) {
            throw new \InvalidArgumentException('The identity must be one printable line of at most 200 characters, e.g. "orderflow-php:shop-backend".');
        }
        $this->identity = $identity;
        $this->apiBase = rtrim($httpApiUrl, '/') . '/api/v1/namespaces/' . rawurlencode($namespace);
        $this->contract = $contract ?? Contract::load();
    }

    /** @param array<string, mixed> $input userId, orderId, amount, reason, requestedBy[, justclickBillId] */
    public function refundAndCancel(array $input): StartedRun
    {
        return $this->start('refundAndCancel', $input);
    }

    /** @param array<string, mixed> $input userId, orderId[, justclickBillId, paymentDeadline] */
    public function processPaidOrder(array $input): StartedRun
    {
        return $this->start('processPaidOrder', $input);
    }

    /** @param array<string, mixed> $input userId, action, amount, description, reason[, requestedBy, requestId] */
    public function adjustCredit(array $input): StartedRun
    {
        return $this->start('adjustCredit', $input);
    }

    /** @param array<string, mixed> $input userId, orderId, requester[, justclickBillId, reason] */
    public function cancelOrder(array $input): StartedRun
    {
        return $this->start('cancelOrder', $input);
    }

    /**
     * Starts the workflow for this input, or answers with the run its business key already
     * has (when the request is the same).
     *
     * @param array<string, mixed> $input
     * @throws InvalidInputException nothing was sent
     * @throws ConflictException the business key's run was started with a different request
     * @throws OtherWorkflowTypeException the business key's id holds a run of another workflow type
     */
    public function start(string $workflowType, array $input): StartedRun
    {
        $normal = InputRules::validate($workflowType, $input);
        $workflow = $this->contract->workflow($workflowType);

        // Runs started before the ':' ids keep answering for their business key. Their ids
        // contain '/', which the HTTP API cannot put in a path, so they are found by a
        // visibility query and their input cannot be read here to compare.
        $legacyId = $this->workflowIdPrefix . $this->contract->workflowId($workflowType, $normal, legacy: true);
        $listed = $this->call('GET', '/workflows?' . http_build_query(['query' => "WorkflowId = \"{$legacyId}\""]));
        foreach ($listed['executions'] ?? [] as $execution) {
            if (in_array($execution['status'] ?? '', self::ANSWERING_STATUSES, true)) {
                return new StartedRun($legacyId, (string) $execution['execution']['runId'], false, $this->uiLink($legacyId));
            }
        }

        $workflowId = $this->workflowIdPrefix . $this->contract->workflowId($workflowType, $normal);
        $metadata = $this->contract->userMetadata($workflowType, $normal);
        [$status, $answer] = $this->send('POST', '/workflows/' . $this->idSegment($workflowId), [
            'workflowType' => ['name' => $workflow['workflowType']],
            'taskQueue' => ['name' => $this->taskQueue],
            'input' => [$normal],
            'workflowIdConflictPolicy' => $workflow['workflowIdConflictPolicy'],
            'workflowIdReusePolicy' => $workflow['workflowIdReusePolicy'],
            'searchAttributes' => ['indexedFields' => $this->contract->searchAttributes($workflowType, $normal)],
            'userMetadata' => $metadata,
            'requestId' => self::uuid(),
            'identity' => $this->identity,
        ]);
        if ($status === 200 && ($answer['started'] ?? false) === true) {
            return new StartedRun($workflowId, (string) $answer['runId'], true, $this->uiLink($workflowId));
        }
        if ($status !== 200 && ($answer['code'] ?? null) !== 6) {
            $this->fail($status, $answer, "start {$workflowType} as {$workflowId}");
        }
        // Joined a running run (USE_EXISTING), or refused because a run already completed
        // (ALLOW_DUPLICATE_FAILED_ONLY): compare with the input that run started with.
        [$runId, $existing, $existingType] = $this->startedWith($workflowId);
        if ($existingType !== $workflow['workflowType']) {
            throw new OtherWorkflowTypeException($workflowId, $runId, $existingType, $workflow['workflowType']);
        }
        $differences = $this->contract->differences($workflowType, $existing, $normal);
        if ($differences !== []) {
            throw new ConflictException($workflowId, $runId, $differences);
        }
        return new StartedRun($workflowId, $runId, false, $this->uiLink($workflowId));
    }

    /**
     * Waits for the run's result (its RunResult), at most $timeoutSeconds.
     *
     * @return array<string, mixed>
     * @throws RunFailedException the run failed, was terminated, cancelled or timed out
     * @throws TimeoutException it has not finished yet
     */
    public function result(string $workflowId, float $timeoutSeconds = 60.0): array
    {
        $deadline = microtime(true) + $timeoutSeconds;
        $path = '/workflows/' . $this->idSegment($workflowId) . '/history?' . http_build_query([
            'waitNewEvent' => 'true',
            'historyEventFilterType' => 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT',
        ]);
        while (($remaining = $deadline - microtime(true)) > 0) {
            // Temporal holds a long poll for up to about 20 s, then answers without events.
            $answer = $this->call('GET', $path, null, min($remaining, 30.0), longPoll: true, what: "the run {$workflowId}");
            $event = $answer['history']['events'][0] ?? null;
            if (is_array($event)) {
                return $this->closed($workflowId, $event);
            }
        }
        throw new TimeoutException("{$workflowId} did not finish within {$timeoutSeconds} s; it goes on. Ask again with result(), or see status().");
    }

    /**
     * The run's `status` query: state, each step, decisions, and what it waits for.
     *
     * @return array<string, mixed>
     */
    public function status(string $workflowId): array
    {
        $answer = $this->call('POST', '/workflows/' . $this->idSegment($workflowId) . '/query/status', ['query' => ['queryType' => 'status']], what: "the run {$workflowId}");
        if (isset($answer['queryRejected'])) {
            throw new ApiException("{$workflowId} did not answer the status query ({$answer['queryRejected']['status']}).");
        }
        return $answer['queryResult'][0] ?? [];
    }

    /**
     * Resumes a run waiting for an operator (the `operatorDecision` update, which the run
     * validates and answers with what it took and what will happen). The decision names the
     * wait it answers ($waitId, e.g. `cancel-order#2`, as status() shows it in
     * `awaiting.waitId`); without one, the wait status() shows now is taken. A decision for a
     * wait that is over is refused. The decision id makes a repeated call the same decision:
     * pass the same one when you retry after an error.
     *
     * @return array<string, mixed> the reply: accepted, waitId, step, action, note, operator, identity (as Temporal recorded it), willHappen
     * @throws DecisionRefusedException the run waits for no decision, for another wait, or the action is not one of its choices
     * @throws DecisionIdReusedException the decision id was already used for another decision on this run (nothing new was decided)
     */
    public function decide(string $workflowId, string $action, string $note, string $operator, ?string $decisionId = null, ?string $waitId = null): array
    {
        $problems = [];
        if (!in_array($action, self::OPERATOR_ACTIONS, true)) {
            $problems[] = 'action must be one of ' . implode(', ', self::OPERATOR_ACTIONS);
        }
        if (trim($note) === '') {
            $problems[] = 'note must say why';
        }
        if (trim($operator) === '') {
            $problems[] = 'operator must name who decides';
        }
        if ($waitId !== null && preg_match(self::WAIT_ID, $waitId) !== 1) {
            $problems[] = 'waitId must look like <step>#<number>, e.g. cancel-order#2 (status() shows it in awaiting.waitId)';
        }
        if ($problems !== []) {
            throw new InvalidInputException('operator decision refused', $problems);
        }
        if ($waitId === null) {
            $awaiting = $this->status($workflowId)['awaiting'] ?? null;
            if (!is_array($awaiting) || !isset($awaiting['waitId'])) {
                throw new DecisionRefusedException("{$workflowId} waits for no decision now: nothing was sent. See status().");
            }
            $waitId = (string) $awaiting['waitId'];
        }
        $step = substr($waitId, 0, (int) strpos($waitId, '#'));
        $decision = ['waitId' => $waitId, 'step' => $step, 'action' => $action, 'note' => $note, 'operator' => $operator];
        $decisionId ??= 'decision-' . self::uuid();
        $path = '/workflows/' . $this->idSegment($workflowId) . '/update/operatorDecision';
        $body = [
            'request' => [
                'meta' => ['updateId' => $decisionId, 'identity' => $this->identity],
                'input' => ['name' => 'operatorDecision', 'args' => [$decision]],
            ],
            'waitPolicy' => ['lifecycleStage' => 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED'],
        ];
        $deadline = microtime(true) + max($this->timeoutSeconds, 30.0);
        do {
            [$status, $answer] = $this->send('POST', $path, $body);
            if ($status === 404) {
                throw new DecisionRefusedException("{$workflowId} is not running any more (or does not exist): nothing to decide. See status().");
            }
            if ($status !== 200) {
                $this->fail($status, $answer, "send the decision to {$workflowId}");
            }
            if (isset($answer['outcome']['failure'])) {
                throw new DecisionRefusedException("{$workflowId} refused the decision: " . ($answer['outcome']['failure']['message'] ?? 'no reason given'));
            }
            if (isset($answer['outcome']['success'])) {
                $reply = $answer['outcome']['success'][0] ?? [];
                $this->checkSameDecision($workflowId, $decisionId, $decision, is_array($reply) ? $reply : []);
                return $reply;
            }
            // Accepted but not finished within the server's wait: ask again with the same id.
        } while (microtime(true) < $deadline);
        throw new TimeoutException("{$workflowId} accepted decision {$decisionId} but did not finish it in time; call decide() again with the same decision id.");
    }

    /**
     * Temporal answers an update id it has seen with that update's first outcome: when the
     * run's answer is not the decision sent, the id was used before, for another decision.
     *
     * @param array<string, string> $sent
     * @param array<string, mixed> $reply
     */
    private function checkSameDecision(string $workflowId, string $decisionId, array $sent, array $reply): void
    {
        foreach (['waitId', 'action', 'note', 'operator'] as $field) {
            if (($reply[$field] ?? null) !== trim($sent[$field])) {
                $first = sprintf(
                    '%s at %s by %s (Temporal identity: %s): "%s"',
                    (string) ($reply['action'] ?? '?'),
                    (string) ($reply['waitId'] ?? '?'),
                    (string) ($reply['operator'] ?? '?'),
                    (string) ($reply['identity'] ?? 'none recorded'),
                    (string) ($reply['note'] ?? ''),
                );
                throw new DecisionIdReusedException(
                    "{$workflowId}: this decision id ({$decisionId}) was already used for {$first}. Your decision ({$sent['action']} at {$sent['waitId']}) was not taken; check status() and send it with a new decision id.",
                    $reply,
                );
            }
        }
    }

    /** Tells a processPaidOrder run that the payment arrived (the `paymentReceived` signal). */
    public function paymentReceived(string $workflowId, ?string $note = null, ?string $by = null): void
    {
        $this->call('POST', '/workflows/' . $this->idSegment($workflowId) . '/signal/paymentReceived', [
            'input' => [array_filter(['note' => $note, 'by' => $by], static fn (?string $value): bool => $value !== null)],
            'requestId' => self::uuid(),
            'identity' => $this->identity,
        ], what: "the run {$workflowId}");
    }

    /**
     * The run id, input and workflow type the business key's current run started with.
     *
     * @return array{0: string, 1: array<string, mixed>, 2: string}
     */
    private function startedWith(string $workflowId): array
    {
        $answer = $this->call('GET', '/workflows/' . $this->idSegment($workflowId) . '/history?maximumPageSize=1', what: "the run {$workflowId}");
        $started = $answer['history']['events'][0]['workflowExecutionStartedEventAttributes'] ?? null;
        if (!is_array($started)) {
            throw new ApiException("The history of {$workflowId} does not begin with its start; cannot compare requests.");
        }
        return [(string) $started['originalExecutionRunId'], $started['input'][0] ?? [], (string) ($started['workflowType']['name'] ?? '')];
    }

    /**
     * @param array<string, mixed> $event the close event
     * @return array<string, mixed>
     */
    private function closed(string $workflowId, array $event): array
    {
        $type = $event['eventType'] ?? '';
        if ($type === 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED') {
            return $event['workflowExecutionCompletedEventAttributes']['result'][0] ?? [];
        }
        if ($type === 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED') {
            $failure = $event['workflowExecutionFailedEventAttributes']['failure'] ?? [];
            $failureType = $failure['applicationFailureInfo']['type'] ?? 'Failure';
            throw new RunFailedException($workflowId, $failureType, "{$workflowId} failed ({$failureType}): " . ($failure['message'] ?? 'no message'));
        }
        $how = strtolower(str_replace('EVENT_TYPE_WORKFLOW_EXECUTION_', '', $type));
        throw new RunFailedException($workflowId, $how, "{$workflowId} ended without a result ({$how}). See it in the Temporal UI.");
    }

    private function idSegment(string $workflowId): string
    {
        if (preg_match('/^[A-Za-z0-9_.:-]+$/', $workflowId) !== 1) {
            throw new \InvalidArgumentException(
                "The workflow id \"{$workflowId}\" cannot be addressed over Temporal's HTTP API (only letters, digits, '.', '_', ':' and '-'). "
                . "Runs with '/' ids (the old format) can be seen with ./bin/orderflow status or in the Temporal UI."
            );
        }
        return $workflowId;
    }

    private function uiLink(string $workflowId): ?string
    {
        return $this->uiUrl === null ? null : rtrim($this->uiUrl, '/') . '/namespaces/' . rawurlencode($this->namespace) . '/workflows/' . rawurlencode($workflowId);
    }

    /**
     * One call that must succeed; errors become exceptions.
     *
     * @param array<string, mixed>|null $body
     * @return array<string, mixed>
     */
    private function call(string $method, string $path, ?array $body = null, ?float $timeout = null, bool $longPoll = false, string $what = ''): array
    {
        [$status, $answer] = $this->send($method, $path, $body, $timeout, $longPoll);
        if ($status === 0) {
            return []; // a long poll that ended without an answer
        }
        if ($status !== 200) {
            if ($status === 404 && $what !== '') {
                throw new NotFoundException("Temporal has no {$what} in namespace {$this->namespace}: " . ($answer['message'] ?? 'not found'));
            }
            $this->fail($status, $answer, "{$method} {$path}");
        }
        return $answer;
    }

    /** @param array<string, mixed> $answer */
    private function fail(int $status, array $answer, string $doing): never
    {
        $message = $answer['message'] ?? 'no message';
        $code = $answer['code'] ?? null;
        if ($status === 401 || $status === 403 || $code === 16 || $code === 7) {
            throw new AccessDeniedException("Temporal refused to {$doing} (HTTP {$status}): {$message}. Check the API key and the namespace's permissions.");
        }
        if ($status === 404) {
            throw new NotFoundException("Temporal found nothing to {$doing}: {$message}");
        }
        throw new ApiException("Temporal could not {$doing} (HTTP {$status}): {$message}");
    }

    /**
     * One HTTP exchange, repeated when no answer came (connection refused, timeout).
     *
     * @param array<string, mixed>|null $body
     * @return array{0: int, 1: array<string, mixed>} the HTTP status (0: a long poll ended without one) and the JSON answer
     */
    private function send(string $method, string $path, ?array $body = null, ?float $timeout = null, bool $longPoll = false): array
    {
        $url = $this->apiBase . $path;
        $headers = ['Accept: application/json'];
        if ($body !== null) {
            $headers[] = 'Content-Type: application/json';
        }
        if ($this->apiKey !== null) {
            $headers[] = 'Authorization: Bearer ' . $this->apiKey;
        }
        if ($body !== null && $this->payloadCodec !== null) {
            $body = $this->payloadCodec->encodeRequest($body);
        }
        $lastError = '';
        for ($attempt = 1; $attempt <= self::ATTEMPTS; $attempt++) {
            $curl = curl_init($url);
            $options = [
                CURLOPT_CUSTOMREQUEST => $method,
                CURLOPT_RETURNTRANSFER => true,
                CURLOPT_HTTPHEADER => $headers,
                CURLOPT_CONNECTTIMEOUT_MS => (int) ($this->connectTimeoutSeconds * 1000),
                CURLOPT_TIMEOUT_MS => (int) (($timeout ?? $this->timeoutSeconds) * 1000),
                CURLOPT_SSL_VERIFYPEER => true,
                CURLOPT_SSL_VERIFYHOST => 2,
                CURLOPT_FOLLOWLOCATION => false,
                CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            ];
            if ($body !== null) {
                $options[CURLOPT_POSTFIELDS] = json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
            }
            if ($this->caFile !== null) {
                $options[CURLOPT_CAINFO] = $this->caFile;
            }
            curl_setopt_array($curl, $options);
            $text = curl_exec($curl);
            $errno = curl_errno($curl);
            $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
            $lastError = curl_error($curl);
            curl_close($curl);
            if ($errno === CURLE_OPERATION_TIMEDOUT && $longPoll) {
                return [0, []];
            }
            if ($errno === 0 && is_string($text)) {
                $answer = $text === '' ? [] : json_decode($text, true);
                if (!is_array($answer)) {
                    throw new ApiException("Temporal's HTTP API at {$url} answered HTTP {$status} with something that is not JSON; is this address Temporal's HTTP API (not the UI or gRPC port)?");
                }
                return [$status, $this->payloadCodec === null ? $answer : $this->payloadCodec->decodeAnswer($answer)];
            }
            if ($attempt < self::ATTEMPTS) {
                usleep(250_000 * $attempt);
            }
        }
        throw new TemporalUnreachableException(
            "Cannot reach Temporal's HTTP API at {$this->apiBase} ({$lastError}) after " . self::ATTEMPTS . ' attempts. '
            . 'Check the address (npm start prints it; the HTTP API is not the gRPC port 7233) and that Temporal runs. '
            . 'Repeating the call is safe.'
        );
    }

    private static function uuid(): string
    {
        $bytes = random_bytes(16);
        $bytes[6] = chr((ord($bytes[6]) & 0x0f) | 0x40);
        $bytes[8] = chr((ord($bytes[8]) & 0x3f) | 0x80);
        return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($bytes), 4));
    }
}
