<?php

declare(strict_types=1);

namespace Orderflow;

use Orderflow\Exception\ApiException;
use Orderflow\Exception\ConfigurationException;
use Orderflow\Exception\InvalidInputException;
use Orderflow\Exception\TemporalUnreachableException;

/**
 * Payload encryption for the PHP client, through orderflow's codec server
 * (`orderflow codec-server`, docs/encryption.md): the backend holds no encryption key, only
 * the codec server's address and token. Before a request goes to Temporal's HTTP API, the
 * values it carries (workflow input, signal and update arguments, the UI summary and
 * details) are sent to the codec server's `/encode`; every encrypted payload in Temporal's
 * answer (results, query answers, the input a run started with, failure messages) is sent
 * to `/decode`, and comes back as the plain JSON value the rest of the client reads.
 *
 * Give it to the client: `new Client($httpApiUrl, payloadCodec: new PayloadCodec($codecUrl, $token))`.
 */
final class PayloadCodec
{
    private const ENCRYPTED = 'binary/encrypted';
    private const JSON = 'json/plain';

    /**
     * @param string $codecServerUrl e.g. http://127.0.0.1:8234 (npm start) or https://codec.example.com
     * @param string|null $token the codec server's shared token (ORDERFLOW_CODEC_SERVER_TOKEN), sent as a bearer token
     * @param string $namespace sent as X-Namespace
     * @param string|null $caFile CA bundle for a private CA; TLS verification is never switched off
     */
    public function __construct(
        private readonly string $codecServerUrl,
        private readonly ?string $token = null,
        private readonly string $namespace = 'default',
        private readonly float $timeoutSeconds = 15.0,
        private readonly ?string $caFile = null,
    ) {
        $url = HttpAddress::parse($codecServerUrl);
        if ($url === null) {
            throw new ConfigurationException(
                'The codec server address must be an http(s) URL like http://127.0.0.1:8234, got '
                . HttpAddress::shown($codecServerUrl) . '; the token goes in token, not in the address.'
            );
        }
        if ($token !== null && ($token === '' || preg_match('/[\x00-\x20\x7F]/', $token) === 1)) {
            throw new ConfigurationException(
                'The codec server token is empty or holds spaces or control characters; pass the token itself '
                . '(ORDERFLOW_CODEC_SERVER_TOKEN, sent as "Authorization: Bearer <token>"), or null for none.'
            );
        }
        if ($token !== null && $url['scheme'] !== 'https' && !HttpAddress::isLoopback($url)) {
            throw new ConfigurationException(
                'The codec server token is only sent over https; ' . HttpAddress::shown($codecServerUrl)
                . ' is plain http. Use the https address of the codec server.'
            );
        }
        if (!InputRules::isOneLine($namespace)) {
            throw new ConfigurationException(
                'The codec server namespace must be one line of printable UTF-8 text, got '
                . InputRules::display($namespace) . '.'
            );
        }
        if (!is_finite($timeoutSeconds) || $timeoutSeconds <= 0) {
            throw new ConfigurationException(
                'The codec server timeoutSeconds must be a number of seconds greater than 0, got '
                . InputRules::display($timeoutSeconds) . '.'
            );
        }
        if ($caFile !== null && (!is_file($caFile) || !is_readable($caFile))) {
            throw new ConfigurationException(
                'The codec server CA file (caFile) ' . InputRules::display($caFile) . ' is not a readable file. '
                . "Give the path of the PEM bundle of the CA that signed the codec server's certificate, "
                . "or null for the system's CAs."
            );
        }
    }

    /**
     * A request body for Temporal's HTTP API with its values replaced by encrypted payloads.
     *
     * @param array<string, mixed> $body
     * @return array<string, mixed>
     */
    public function encodeRequest(array $body): array
    {
        $lists = ['input' => $body['input'] ?? [], 'request.input.args' => $body['request']['input']['args'] ?? []];
        foreach ($lists as $name => $list) {
            if (!is_array($list)) {
                throw new InvalidInputException('request refused', [
                    "{$name} must be a list of values to encrypt (got " . get_debug_type($list) . ')',
                ]);
            }
        }
        $values = [];
        foreach ($body['input'] ?? [] as $value) {
            $values[] = $value;
        }
        foreach ($body['request']['input']['args'] ?? [] as $value) {
            $values[] = $value;
        }
        foreach (['summary', 'details'] as $field) {
            if (isset($body['userMetadata'][$field])) {
                $values[] = $body['userMetadata'][$field];
            }
        }
        if ($values === []) {
            return $body;
        }
        $encoded = $this->encode(array_map(self::jsonPayload(...), $values));
        $next = 0;
        if (isset($body['input'])) {
            foreach (array_keys($body['input']) as $key) {
                $body['input'][$key] = $encoded[$next++];
            }
        }
        if (isset($body['request']['input']['args'])) {
            foreach (array_keys($body['request']['input']['args']) as $key) {
                $body['request']['input']['args'][$key] = $encoded[$next++];
            }
        }
        foreach (['summary', 'details'] as $field) {
            if (isset($body['userMetadata'][$field])) {
                $body['userMetadata'][$field] = $encoded[$next++];
            }
        }
        return $body;
    }

    /**
     * Temporal's answer with every encrypted payload decoded: JSON values as the HTTP API
     * shows unencrypted ones, and a failure's encoded message and stack trace put back.
     *
     * @param array<mixed> $answer
     * @return array<mixed>
     */
    public function decodeAnswer(array $answer): array
    {
        $found = [];
        self::collect($answer, $found);
        if ($found === []) {
            return $answer;
        }
        $decoded = $this->decode($found);
        $next = 0;
        return $this->replace($answer, $decoded, $next);
    }

    /**
     * POST /encode: payloads in protobuf JSON (metadata values and data base64).
     *
     * @param list<array<string, mixed>> $payloads
     * @return list<array<string, mixed>>
     */
    public function encode(array $payloads): array
    {
        return $this->call('encode', $payloads);
    }

    /**
     * POST /decode.
     *
     * @param list<array<string, mixed>> $payloads
     * @return list<array<string, mixed>>
     */
    public function decode(array $payloads): array
    {
        return $this->call('decode', $payloads);
    }

    /**
     * @return array{metadata: array<string, string>, data: string}
     * @throws InvalidInputException the value has no JSON (text that is not UTF-8, NaN, …)
     */
    private static function jsonPayload(mixed $value): array
    {
        try {
            $json = json_encode(
                $value,
                JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR
            );
        } catch (\JsonException $error) {
            throw new InvalidInputException('request refused', [
                "a value to encrypt cannot be written as JSON ({$error->getMessage()}); nothing was sent",
            ]);
        }
        return ['metadata' => ['encoding' => base64_encode(self::JSON)], 'data' => base64_encode($json)];
    }

    private static function isEncrypted(mixed $value): bool
    {
        return is_array($value)
            && isset($value['metadata']['encoding'], $value['data'])
            && is_string($value['metadata']['encoding'])
            && base64_decode($value['metadata']['encoding'], true) === self::ENCRYPTED;
    }

    /**
     * @param array<mixed> $value
     * @param list<array<string, mixed>> $found
     */
    private static function collect(array $value, array &$found): void
    {
        foreach ($value as $child) {
            if (self::isEncrypted($child)) {
                $found[] = $child;
            } elseif (is_array($child)) {
                self::collect($child, $found);
            }
        }
    }

    /**
     * The same walk as collect(), putting the decoded payloads back in order.
     *
     * @param array<mixed> $value
     * @param list<array<string, mixed>> $decoded
     * @return array<mixed>
     */
    private function replace(array $value, array $decoded, int &$next): array
    {
        foreach ($value as $key => $child) {
            if (self::isEncrypted($child)) {
                $value[$key] = $this->plainValue($decoded[$next++]);
            } elseif (is_array($child)) {
                $child = $this->replace($child, $decoded, $next);
                // The HTTP API shows a Payloads message as the list of its values when every
                // payload is plain JSON, as {"payloads": [...]} otherwise: now they are plain.
                if (
                    array_keys($child) === ['payloads'] && is_array($child['payloads'])
                    && array_is_list($child['payloads']) && !self::anyPayload($child['payloads'])
                ) {
                    $child = $child['payloads'];
                }
                $value[$key] = $child;
            }
        }
        // A failure whose message and stack trace were encoded (encodeCommonAttributes).
        if (isset($value['encodedAttributes']['message']) && is_array($value['encodedAttributes'])) {
            $value['message'] = $value['encodedAttributes']['message'];
            $value['stackTrace'] = $value['encodedAttributes']['stack_trace'] ?? '';
        }
        return $value;
    }

    /** @param list<mixed> $values */
    private static function anyPayload(array $values): bool
    {
        foreach ($values as $value) {
            $payload = is_array($value) && count($value) === 2;
            if ($payload && isset($value['metadata']) && array_key_exists('data', $value)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A decoded payload as the HTTP API shows an unencrypted one: its JSON value when it is
     * json/plain with no other metadata, the payload itself otherwise.
     *
     * @param array<string, mixed> $payload
     * @throws ApiException a json/plain payload whose data is not JSON
     */
    private function plainValue(array $payload): mixed
    {
        $metadata = $payload['metadata'] ?? [];
        $json = is_array($metadata) && array_keys($metadata) === ['encoding'] && is_string($metadata['encoding'])
            && base64_decode($metadata['encoding'], true) === self::JSON;
        if (!$json) {
            return $payload;
        }
        $data = $payload['data'] ?? '';
        $text = is_string($data) ? base64_decode($data, true) : false;
        try {
            return json_decode($text === false ? '' : $text, true, 512, JSON_THROW_ON_ERROR);
        } catch (\JsonException $error) {
            throw new ApiException(
                "The codec server at {$this->shownUrl()} decoded a json/plain payload whose data is not JSON "
                . "({$error->getMessage()}); is its key the one the payload was encrypted with?"
            );
        }
    }

    private function shownUrl(): string
    {
        return trim(HttpAddress::shown($this->codecServerUrl), '"');
    }

    /**
     * @param list<array<string, mixed>> $payloads
     * @return list<array<string, mixed>>
     * @throws TemporalUnreachableException no answer from the codec server
     * @throws ApiException an error answer, or one that is not the payloads asked for
     */
    private function call(string $operation, array $payloads): array
    {
        if (!array_is_list($payloads)) {
            throw new InvalidInputException("payloads to {$operation} refused", ['payloads must be a list']);
        }
        foreach ($payloads as $index => $payload) {
            if (!self::isPayload($payload)) {
                throw new InvalidInputException("payloads to {$operation} refused", [
                    "payload {$index} must be a Payload in protobuf JSON: {\"metadata\": {…}, \"data\": \"<base64>\"}",
                ]);
            }
        }
        try {
            $body = json_encode(['payloads' => $payloads], JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        } catch (\JsonException $error) {
            throw new InvalidInputException("payloads to {$operation} refused", [
                "the payloads cannot be written as JSON ({$error->getMessage()})",
            ]);
        }
        $headers = ['Content-Type: application/json', 'Accept: application/json', 'X-Namespace: ' . $this->namespace];
        if ($this->token !== null) {
            $headers[] = 'Authorization: Bearer ' . $this->token;
        }
        $options = [
            CURLOPT_URL => rtrim($this->codecServerUrl, '/') . '/' . $operation,
            CURLOPT_POST => true,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_TIMEOUT_MS => (int) max(1.0, min($this->timeoutSeconds * 1000, (float) PHP_INT_MAX / 2)),
            CURLOPT_SSL_VERIFYPEER => true,
            CURLOPT_SSL_VERIFYHOST => 2,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
        ];
        if ($this->caFile !== null) {
            $options[CURLOPT_CAINFO] = $this->caFile;
        }
        // A CurlHandle is freed when it goes out of scope (curl_close is a no-op since PHP 8).
        $curl = curl_init();
        if ($curl === false || !curl_setopt_array($curl, $options)) {
            throw new TemporalUnreachableException(
                "PHP's curl could not set up a request to the codec server at {$this->shownUrl()}"
                . ($curl === false ? '' : ' (' . curl_error($curl) . ')')
                . '; nothing was sent. Check the curl extension.'
            );
        }
        $text = curl_exec($curl);
        $error = curl_error($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        unset($curl);
        if (!is_string($text)) {
            throw new TemporalUnreachableException(
                "Cannot reach the codec server at {$this->shownUrl()} ({$error}); "
                . 'check the address (npm start prints it) and that it runs. Nothing was sent to Temporal.'
            );
        }
        $answer = json_decode($text, true);
        $answered = is_array($answer) && isset($answer['payloads']) && is_array($answer['payloads'])
            && array_is_list($answer['payloads']) && count($answer['payloads']) === count($payloads);
        if ($status !== 200 || !$answered) {
            $message = is_array($answer) && is_string($answer['message'] ?? null)
                ? $answer['message']
                : 'no explanation';
            $what = match (true) {
                $status === 401 => 'refused the token (set the codec server token this client sends)',
                $status === 200 => 'answered with something other than the ' . count($payloads) . ' payloads asked for',
                default => "answered HTTP {$status}",
            };
            throw new ApiException(
                "The codec server at {$this->shownUrl()} {$what} for /{$operation}: {$message}"
            );
        }
        foreach ($answer['payloads'] as $payload) {
            if (!self::isPayload($payload)) {
                throw new ApiException(
                    "The codec server at {$this->shownUrl()} answered /{$operation} with something that is not a "
                    . 'payload; is the address the codec server (orderflow codec-server)?'
                );
            }
        }
        return $answer['payloads'];
    }

    /** A Payload in protobuf JSON: metadata (texts) and data (a text, base64). */
    private static function isPayload(mixed $value): bool
    {
        if (!is_array($value) || !is_string($value['data'] ?? null)) {
            return false;
        }
        $metadata = $value['metadata'] ?? [];
        if (!is_array($metadata)) {
            return false;
        }
        foreach ($metadata as $entry) {
            if (!is_string($entry)) {
                return false;
            }
        }
        return true;
    }
}
