<?php

declare(strict_types=1);

namespace Orderflow;

use Orderflow\Exception\AccessDeniedException;
use Orderflow\Exception\ApiException;
use Orderflow\Exception\ConfigurationException;
use Orderflow\Exception\ConflictException;
use Orderflow\Exception\DecisionIdReusedException;
use Orderflow\Exception\DecisionRefusedException;
use Orderflow\Exception\InvalidInputException;
use Orderflow\Exception\NotFoundException;
use Orderflow\Exception\OrderflowException;
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
    /** The longest caller identity, in characters. */
    private const IDENTITY_MAX = 200;
    /**
     * Attempts for a call whose request did not get an answer (every call is safe to repeat:
     * starts, signals and updates carry ids).
     */
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
     * @param string|null $identity the caller identity Temporal records with each request (who
     *     decided, who started a run); default `orderflow-php:<hostname>`: name your backend,
     *     e.g. `orderflow-php:shop-backend-eu` (one line, at most 200 characters)
     * @param PayloadCodec|null $payloadCodec with payload encryption on: encodes what is sent,
     *     decodes what comes back (docs/encryption.md)
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
        $url = HttpAddress::parse($httpApiUrl);
        if ($url === null) {
            throw new ConfigurationException(
                'The Temporal HTTP API address must be an http(s) URL like http://127.0.0.1:7243, got '
                . HttpAddress::shown($httpApiUrl)
                . '. It is the address npm start prints for the HTTP API (not the gRPC port 7233, not the UI); '
                . 'credentials go in apiKey, not in the address.'
            );
        }
        if ($apiKey !== null && ($apiKey === '' || preg_match('/[\x00-\x20\x7F]/', $apiKey) === 1)) {
            throw new ConfigurationException(
                'The API key is empty or holds spaces or control characters; pass the key itself '
                . '(it is sent as "Authorization: Bearer <key>"), or null for none.'
            );
        }
        if ($apiKey !== null && $url['scheme'] !== 'https' && !HttpAddress::isLoopback($url)) {
            throw new ConfigurationException(
                "An API key is only sent over https; {$httpApiUrl} is plain http. "
                . "Use the https address of Temporal's HTTP API."
            );
        }
        if ($uiUrl !== null && HttpAddress::parse($uiUrl) === null) {
            throw new ConfigurationException(
                'The Temporal UI address (uiUrl) must be an http(s) URL like http://127.0.0.1:8233, or null; got '
                . HttpAddress::shown($uiUrl) . '.'
            );
        }
        if (preg_match('/^[A-Za-z0-9_.:-]*$/', $workflowIdPrefix) !== 1) {
            throw new ConfigurationException(
                "The workflow id prefix may contain only letters, digits, '.', '_', ':' and '-', got "
                . InputRules::display($workflowIdPrefix) . '.'
            );
        }
        // The identity Temporal records names this backend; by default the machine it runs on.
        $identity ??= 'orderflow-php:' . self::hostname();
        foreach (['namespace' => $namespace, 'taskQueue' => $taskQueue, 'identity' => $identity] as $name => $value) {
            if (!InputRules::isOneLine($value)) {
                throw new ConfigurationException(
                    "The {$name} must be one line of printable UTF-8 text, got " . InputRules::display($value) . '.'
                );
            }
        }
        $timeouts = ['timeoutSeconds' => $timeoutSeconds, 'connectTimeoutSeconds' => $connectTimeoutSeconds];
        foreach ($timeouts as $name => $value) {
            if (!is_finite($value) || $value <= 0) {
                throw new ConfigurationException(
                    "{$name} must be a number of seconds greater than 0, got " . InputRules::display($value) . '.'
                );
            }
        }
        if ($caFile !== null && (!is_file($caFile) || !is_readable($caFile))) {
            throw new ConfigurationException(
                'The CA file (caFile) ' . InputRules::display($caFile) . ' is not a readable file. '
                . "Give the path of the PEM bundle of the CA that signed Temporal's certificate, "
                . "or null for the system's CAs."
            );
        }
        $identityLength = (int) preg_match_all('/./su', $identity);
        if ($identityLength > self::IDENTITY_MAX) {
            throw new ConfigurationException(
                'The identity must be at most ' . self::IDENTITY_MAX . " characters, got {$identityLength}; "
                . 'name the backend, e.g. "orderflow-php:shop-backend-eu".'
            );
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
     * @throws InvalidInputException nothing was sent (also for an unknown workflow type)
     * @throws ConflictException the business key's run was started with a different request
     * @throws OtherWorkflowTypeException the business key's id holds a run of another workflow type
     */
    public function start(string $workflowType, array $input): StartedRun
    {
        $normal = InputRules::validate($workflowType, $input);
        $workflow = $this->contract->workflow($workflowType);

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
            $runId = self::runIdIn($answer['runId'] ?? null, "the start of {$workflowId}");
            return new StartedRun($workflowId, $runId, true, $this->uiLink($workflowId));
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
        if (is_nan($timeoutSeconds) || $timeoutSeconds < 0) {
            throw new InvalidInputException('result() refused', [
                'timeoutSeconds must be a number of seconds, 0 or more (got '
                . InputRules::display($timeoutSeconds) . ')',
            ]);
        }
        $segment = $this->idSegment($workflowId);
        $deadline = microtime(true) + $timeoutSeconds;
        $path = '/workflows/' . $segment . '/history?' . http_build_query([
            'waitNewEvent' => 'true',
            'historyEventFilterType' => 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT',
        ]);
        while (($remaining = $deadline - microtime(true)) > 0) {
            // Temporal holds a long poll for up to about 20 s, then answers without events.
            $answer = $this->call('GET', $path, null, min($remaining, 30.0), longPoll: true, what: "run {$workflowId}");
            $event = $answer['history']['events'][0] ?? null;
            if ($event !== null) {
                return $this->closed($workflowId, self::objectIn($event, "the close event of {$workflowId}"));
            }
        }
        throw new TimeoutException(
            "{$workflowId} did not finish within {$timeoutSeconds} s; it goes on. "
            . 'Ask again with result(), or see status().'
        );
    }

    /**
     * The run's `status` query: state, each step, decisions, and what it waits for.
     *
     * @return array<string, mixed>
     */
    public function status(string $workflowId): array
    {
        $path = '/workflows/' . $this->idSegment($workflowId) . '/query/status';
        $answer = $this->call('POST', $path, ['query' => ['queryType' => 'status']], what: "run {$workflowId}");
        if (isset($answer['queryRejected'])) {
            $rejected = self::textIn($answer['queryRejected']['status'] ?? null, 'no reason given');
            throw new ApiException("{$workflowId} did not answer the status query ({$rejected}).");
        }
        return self::objectIn($answer['queryResult'][0] ?? null, "the status of {$workflowId}");
    }

    /**
     * Resumes a run waiting for an operator (the `operatorDecision` update, which the run
     * validates and answers with what it took and what will happen). The decision names the
     * wait it answers ($waitId, e.g. `cancel-order#2`, as status() shows it in
     * `awaiting.waitId`); without one, the wait status() shows now is taken. A decision for a
     * wait that is over is refused. The decision id makes a repeated call the same decision:
     * pass the same one when you retry after an error.
     *
     * @return array<string, mixed> the reply: accepted, waitId, step, action, note, operator,
     *     identity (as Temporal recorded it), willHappen
     * @throws DecisionRefusedException the run waits for no decision, for another wait, or the
     *     action is not one of its choices
     * @throws DecisionIdReusedException the decision id was already used for another decision
     *     on this run (nothing new was decided)
     */
    public function decide(
        string $workflowId,
        string $action,
        string $note,
        string $operator,
        ?string $decisionId = null,
        ?string $waitId = null,
    ): array {
        $problems = [];
        if (!in_array($action, self::OPERATOR_ACTIONS, true)) {
            $problems[] = 'action must be one of ' . implode(', ', self::OPERATOR_ACTIONS);
        }
        if (!InputRules::isUtf8($note)) {
            $problems[] = 'note must be UTF-8 text';
        } elseif (trim($note) === '') {
            $problems[] = 'note must say why';
        } else {
            $problems[] = InputRules::controlProblem('note', $note);
        }
        if (!InputRules::isUtf8($operator)) {
            $problems[] = 'operator must be UTF-8 text';
        } elseif (trim($operator) === '') {
            $problems[] = 'operator must name who decides';
        } else {
            $problems[] = InputRules::controlProblem('operator', $operator);
        }
        if ($decisionId !== null && !InputRules::isOneLine($decisionId)) {
            $problems[] = 'decisionId must be one line of printable UTF-8 text (got '
                . InputRules::display($decisionId) . ')';
        }
        if ($waitId !== null && preg_match(self::WAIT_ID, $waitId) !== 1) {
            $problems[] = 'waitId must look like <step>#<number>, e.g. cancel-order#2 '
                . '(status() shows it in awaiting.waitId; got ' . InputRules::display($waitId) . ')';
        }
        $problems = array_values(array_filter($problems, static fn (?string $problem): bool => $problem !== null));
        if ($problems !== []) {
            throw new InvalidInputException('operator decision refused', $problems);
        }
        if ($waitId === null) {
            $awaiting = $this->status($workflowId)['awaiting'] ?? null;
            if (!is_array($awaiting) || !isset($awaiting['waitId'])) {
                throw new DecisionRefusedException(
                    "{$workflowId} waits for no decision now: nothing was sent. See status()."
                );
            }
            if (!is_string($awaiting['waitId']) || preg_match(self::WAIT_ID, $awaiting['waitId']) !== 1) {
                throw new ApiException(
                    "The status of {$workflowId} shows a wait id that is not <step>#<number> ("
                    . InputRules::display($awaiting['waitId']) . '); nothing was sent. '
                    . "Is the address Temporal's HTTP API, and the run an orderflow run?"
                );
            }
            $waitId = $awaiting['waitId'];
        }
        $step = substr($waitId, 0, (int) strpos($waitId, '#'));
        $decision = [
            'waitId' => $waitId,
            'step' => $step,
            'action' => $action,
            'note' => $note,
            'operator' => $operator,
        ];
        $path = '/workflows/' . $this->idSegment($workflowId) . '/update/operatorDecision';
        $decisionId ??= 'decision-' . self::uuid();
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
                throw new DecisionRefusedException(
                    "{$workflowId} is not running any more (or does not exist): nothing to decide. See status()."
                );
            }
            if ($status !== 200) {
                $this->fail($status, $answer, "send the decision to {$workflowId}");
            }
            if (isset($answer['outcome']['failure'])) {
                $reason = self::textIn($answer['outcome']['failure']['message'] ?? null, 'no reason given');
                throw new DecisionRefusedException("{$workflowId} refused the decision: {$reason}");
            }
            if (isset($answer['outcome']['success'])) {
                $reply = self::objectIn(
                    $answer['outcome']['success'][0] ?? null,
                    "the reply of {$workflowId} to the decision"
                );
                $this->checkSameDecision($workflowId, $decisionId, $decision, $reply);
                return $reply;
            }
            // Accepted but not finished within the server's wait: ask again with the same id.
            if (!is_string($answer['stage'] ?? null)) {
                throw new ApiException(
                    "Temporal's HTTP API answered the decision for {$workflowId} without an outcome or a stage; "
                    . "is the address Temporal's HTTP API?"
                );
            }
        } while (microtime(true) < $deadline);
        throw new TimeoutException(
            "{$workflowId} accepted decision {$decisionId} but did not finish it in time; "
            . 'call decide() again with the same decision id.'
        );
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
        $taken = [];
        foreach (['waitId', 'action', 'note', 'operator'] as $field) {
            if (!is_string($reply[$field] ?? null)) {
                throw new ApiException(
                    "Temporal's HTTP API answered the decision for {$workflowId} without the {$field} it took; "
                    . "is the address Temporal's HTTP API, and the run an orderflow run?"
                );
            }
            $taken[$field] = $reply[$field];
        }
        // The run keeps the note and operator trimmed (JavaScript's trim).
        $same = $taken['waitId'] === $sent['waitId'] && $taken['action'] === $sent['action']
            && $taken['note'] === InputRules::jsTrim($sent['note'])
            && $taken['operator'] === InputRules::jsTrim($sent['operator']);
        if ($same) {
            return;
        }
        $first = sprintf(
            '%s at %s by %s (Temporal identity: %s): %s',
            $taken['action'],
            $taken['waitId'],
            $taken['operator'],
            self::textIn($reply['identity'] ?? null, 'none recorded'),
            InputRules::display($taken['note']),
        );
        throw new DecisionIdReusedException(
            "{$workflowId}: this decision id ({$decisionId}) was already used for {$first}. "
            . "Your decision ({$sent['action']} at {$sent['waitId']}) was not taken; "
            . 'check status() and send it with a new decision id.',
            $reply,
        );
    }

    /** Tells a processPaidOrder run that the payment arrived (the `paymentReceived` signal). */
    public function paymentReceived(string $workflowId, ?string $note = null, ?string $by = null): void
    {
        $problems = [];
        foreach (['note' => $note, 'by' => $by] as $name => $value) {
            if ($value !== null && !InputRules::isUtf8($value)) {
                $problems[] = "{$name} must be UTF-8 text";
            }
        }
        if ($problems !== []) {
            throw new InvalidInputException('payment signal refused', $problems);
        }
        $this->call('POST', '/workflows/' . $this->idSegment($workflowId) . '/signal/paymentReceived', [
            'input' => [array_filter(['note' => $note, 'by' => $by], static fn (?string $text) => $text !== null)],
            'requestId' => self::uuid(),
            'identity' => $this->identity,
        ], what: "run {$workflowId}");
    }

    /**
     * The run id, input and workflow type the business key's current run started with.
     *
     * @return array{0: string, 1: array<string, mixed>, 2: string}
     */
    private function startedWith(string $workflowId): array
    {
        $path = '/workflows/' . $this->idSegment($workflowId) . '/history?maximumPageSize=1';
        $answer = $this->call('GET', $path, what: "run {$workflowId}");
        $started = $answer['history']['events'][0]['workflowExecutionStartedEventAttributes'] ?? null;
        if (!is_array($started)) {
            throw new ApiException(
                "The history of {$workflowId} does not begin with its start; cannot compare requests."
            );
        }
        $runId = self::runIdIn($started['originalExecutionRunId'] ?? null, "the start of {$workflowId}");
        $input = self::objectIn($started['input'][0] ?? null, "the input {$workflowId} started with");
        $workflowType = $started['workflowType']['name'] ?? null;
        if (!is_string($workflowType) || $workflowType === '') {
            throw new ApiException(
                "Temporal's HTTP API answered with the start of {$workflowId} without its workflow type; "
                . "is the address Temporal's HTTP API?"
            );
        }
        return [$runId, $input, $workflowType];
    }

    /**
     * @param array<string, mixed> $event the close event
     * @return array<string, mixed>
     */
    private function closed(string $workflowId, array $event): array
    {
        $type = self::textIn($event['eventType'] ?? null, '');
        if ($type === 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED') {
            $result = $event['workflowExecutionCompletedEventAttributes']['result'][0] ?? [];
            return self::objectIn($result, "the result of {$workflowId}");
        }
        if ($type === 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED') {
            $failure = $event['workflowExecutionFailedEventAttributes']['failure'] ?? null;
            $failureType = self::textIn($failure['applicationFailureInfo']['type'] ?? null, 'Failure');
            $message = self::textIn($failure['message'] ?? null, 'no message');
            $text = "{$workflowId} failed ({$failureType}): {$message}";
            throw new RunFailedException($workflowId, $failureType, $text);
        }
        if (!str_starts_with($type, 'EVENT_TYPE_WORKFLOW_EXECUTION_')) {
            throw new ApiException(
                "Temporal's HTTP API answered with an event that does not close a run ({$type}) for {$workflowId}; "
                . "is the address Temporal's HTTP API?"
            );
        }
        $how = strtolower(str_replace('EVENT_TYPE_WORKFLOW_EXECUTION_', '', $type));
        $text = "{$workflowId} ended without a result ({$how}). See it in the Temporal UI.";
        throw new RunFailedException($workflowId, $how, $text);
    }

    private function idSegment(string $workflowId): string
    {
        if (preg_match('/^[A-Za-z0-9_.:-]+$/', $workflowId) !== 1) {
            throw new InvalidInputException('workflow id refused', [
                'workflowId ' . InputRules::display($workflowId) . " cannot be addressed over Temporal's HTTP API "
                . "(only letters, digits, '.', '_', ':' and '-'); "
                . "orderflow's ids never contain anything else: check the id.",
            ]);
        }
        return $workflowId;
    }

    private function uiLink(string $workflowId): ?string
    {
        if ($this->uiUrl === null) {
            return null;
        }
        return rtrim($this->uiUrl, '/') . '/namespaces/' . rawurlencode($this->namespace)
            . '/workflows/' . rawurlencode($workflowId);
    }

    /**
     * One call that must succeed; errors become exceptions.
     *
     * @param array<string, mixed>|null $body
     * @return array<string, mixed>
     */
    private function call(
        string $method,
        string $path,
        ?array $body = null,
        ?float $timeout = null,
        bool $longPoll = false,
        string $what = '',
    ): array {
        [$status, $answer] = $this->send($method, $path, $body, $timeout, $longPoll);
        if ($status === 0) {
            return []; // a long poll that ended without an answer
        }
        if ($status !== 200) {
            if ($status === 404 && $what !== '') {
                $message = self::textIn($answer['message'] ?? null, 'not found');
                throw new NotFoundException("Temporal has no {$what} in namespace {$this->namespace}: {$message}");
            }
            $this->fail($status, $answer, "{$method} {$path}");
        }
        return $answer;
    }

    /** @param array<string, mixed> $answer */
    private function fail(int $status, array $answer, string $doing): never
    {
        $message = self::textIn($answer['message'] ?? null, 'no message');
        $code = $answer['code'] ?? null;
        if ($status === 401 || $status === 403 || $code === 16 || $code === 7) {
            throw new AccessDeniedException(
                "Temporal refused to {$doing} (HTTP {$status}): {$message}. "
                . "Check the API key and the namespace's permissions."
            );
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
     * @return array{0: int, 1: array<string, mixed>} the HTTP status (0: a long poll ended
     *     without one) and the JSON answer
     */
    private function send(
        string $method,
        string $path,
        ?array $body = null,
        ?float $timeout = null,
        bool $longPoll = false,
    ): array {
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
        $payload = null;
        if ($body !== null) {
            try {
                $payload = json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
            } catch (\JsonException $error) {
                $problem = "the request cannot be written as JSON ({$error->getMessage()})";
                throw new InvalidInputException('request refused', [$problem]);
            }
        }
        $options = [
            CURLOPT_URL => $url,
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_CONNECTTIMEOUT_MS => self::milliseconds($this->connectTimeoutSeconds),
            CURLOPT_TIMEOUT_MS => self::milliseconds($timeout ?? $this->timeoutSeconds),
            CURLOPT_SSL_VERIFYPEER => true,
            CURLOPT_SSL_VERIFYHOST => 2,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
        ];
        if ($payload !== null) {
            $options[CURLOPT_POSTFIELDS] = $payload;
        }
        if ($this->caFile !== null) {
            $options[CURLOPT_CAINFO] = $this->caFile;
        }
        $lastError = '';
        for ($attempt = 1; $attempt <= self::ATTEMPTS; $attempt++) {
            // A CurlHandle is freed when it goes out of scope (curl_close is a no-op since PHP 8).
            $curl = curl_init();
            if ($curl === false || !curl_setopt_array($curl, $options)) {
                throw new TemporalUnreachableException(
                    "PHP's curl could not set up a request to {$this->apiBase}"
                    . ($curl === false ? '' : ' (' . curl_error($curl) . ')')
                    . '; nothing was sent. Check the curl extension.'
                );
            }
            $text = curl_exec($curl);
            $errno = curl_errno($curl);
            $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
            $lastError = curl_error($curl);
            unset($curl);
            if ($errno === CURLE_OPERATION_TIMEDOUT && $longPoll) {
                return [0, []];
            }
            if ($errno === 0 && is_string($text)) {
                $answer = $text === '' ? [] : json_decode($text, true);
                if (!is_array($answer)) {
                    throw new ApiException(
                        "Temporal's HTTP API at {$this->apiBase} answered HTTP {$status} "
                        . 'with something that is not JSON; '
                        . "is this address Temporal's HTTP API (not the UI or gRPC port)?"
                    );
                }
                return [$status, $this->payloadCodec === null ? $answer : $this->payloadCodec->decodeAnswer($answer)];
            }
            if ($attempt < self::ATTEMPTS) {
                usleep(250_000 * $attempt);
            }
        }
        throw new TemporalUnreachableException(
            "Cannot reach Temporal's HTTP API at {$this->apiBase} ({$lastError}) after "
            . self::ATTEMPTS . ' attempts. '
            . 'Check the address (npm start prints it; the HTTP API is not the gRPC port 7233) and that Temporal runs. '
            . 'Repeating the call is safe.'
        );
    }

    /** This machine's name, for the default identity. */
    private static function hostname(): string
    {
        $name = gethostname();
        return is_string($name) && $name !== '' ? $name : 'unknown-host';
    }

    /** Whole milliseconds for curl, at least 1 (0 would mean no limit at all). */
    private static function milliseconds(float $seconds): int
    {
        return (int) max(1.0, min($seconds * 1000, (float) PHP_INT_MAX / 2));
    }

    /** A text in Temporal's answer, or $default when it is absent or not text. */
    private static function textIn(mixed $value, string $default): string
    {
        return is_string($value) || is_int($value) ? (string) $value : $default;
    }

    /**
     * A JSON object in Temporal's answer.
     *
     * @return array<string, mixed>
     * @throws ApiException it is something else
     */
    private static function objectIn(mixed $value, string $what): array
    {
        if (!is_array($value)) {
            throw new ApiException(
                "Temporal's HTTP API answered with {$what} as " . get_debug_type($value)
                . ", not a JSON object; is the address Temporal's HTTP API?"
            );
        }
        return $value;
    }

    /** @return array<mixed> a JSON array in Temporal's answer ([] when it is anything else) */
    private static function listOf(mixed $value): array
    {
        return is_array($value) ? $value : [];
    }

    /** A run id in Temporal's answer. */
    private static function runIdIn(mixed $value, string $what): string
    {
        if (!is_string($value) || $value === '') {
            throw new ApiException(
                "Temporal's HTTP API answered without a run id for {$what}; is the address Temporal's HTTP API?"
            );
        }
        return $value;
    }

    private static function uuid(): string
    {
        try {
            $bytes = random_bytes(16);
        } catch (\Exception $error) {
            $message = "PHP cannot make a random request id ({$error->getMessage()}); nothing was sent.";
            throw new OrderflowException($message, 0, $error);
        }
        $bytes[6] = chr((ord($bytes[6]) & 0x0f) | 0x40);
        $bytes[8] = chr((ord($bytes[8]) & 0x3f) | 0x80);
        return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($bytes), 4));
    }
}
