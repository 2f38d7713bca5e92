<?php

declare(strict_types=1);

namespace Orderflow;

use Orderflow\Exception\ApiException;
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
        $url = parse_url($codecServerUrl);
        if ($url === false || !in_array($url['scheme'] ?? '', ['http', 'https'], true) || !isset($url['host'])) {
            throw new \InvalidArgumentException(
                "The codec server address must be an http(s) URL like http://127.0.0.1:8234, got \"{$codecServerUrl}\"."
            );
        }
        $loopback = in_array($url['host'], ['127.0.0.1', 'localhost', '::1', '[::1]'], true);
        if ($token !== null && $url['scheme'] !== 'https' && !$loopback) {
            throw new \InvalidArgumentException(
                "The codec server token is only sent over https; {$codecServerUrl} is plain http."
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
        return self::replace($answer, $decoded, $next);
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

    /** @return array{metadata: array<string, string>, data: string} */
    private static function jsonPayload(mixed $value): array
    {
        return [
            'metadata' => ['encoding' => base64_encode(self::JSON)],
            'data' => base64_encode(json_encode(
                $value,
                JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR
            )),
        ];
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
    private static function replace(array $value, array $decoded, int &$next): array
    {
        foreach ($value as $key => $child) {
            if (self::isEncrypted($child)) {
                $value[$key] = self::plainValue($decoded[$next++]);
            } elseif (is_array($child)) {
                $child = self::replace($child, $decoded, $next);
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
            if (is_array($value) && count($value) === 2 && isset($value['metadata']) && array_key_exists('data', $value)) {
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
     */
    private static function plainValue(array $payload): mixed
    {
        $metadata = $payload['metadata'] ?? [];
        $json = is_array($metadata) && array_keys($metadata) === ['encoding']
            && base64_decode((string) $metadata['encoding'], true) === self::JSON;
        if ($json) {
            $text = (string) base64_decode((string) ($payload['data'] ?? ''), true);
            return json_decode($text, true, 512, JSON_THROW_ON_ERROR);
        }
        return $payload;
    }

    /**
     * @param list<array<string, mixed>> $payloads
     * @return list<array<string, mixed>>
     */
    private function call(string $operation, array $payloads): array
    {
        $url = rtrim($this->codecServerUrl, '/') . '/' . $operation;
        $headers = ['Content-Type: application/json', 'Accept: application/json', 'X-Namespace: ' . $this->namespace];
        if ($this->token !== null) {
            $headers[] = 'Authorization: Bearer ' . $this->token;
        }
        $curl = curl_init($url);
        $options = [
            CURLOPT_POST => true,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_POSTFIELDS => json_encode(['payloads' => $payloads], JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR),
            CURLOPT_TIMEOUT_MS => (int) ($this->timeoutSeconds * 1000),
            CURLOPT_SSL_VERIFYPEER => true,
            CURLOPT_SSL_VERIFYHOST => 2,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
        ];
        if ($this->caFile !== null) {
            $options[CURLOPT_CAINFO] = $this->caFile;
        }
        curl_setopt_array($curl, $options);
        $text = curl_exec($curl);
        $error = curl_error($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        curl_close($curl);
        if (!is_string($text)) {
            throw new TemporalUnreachableException(
                "Cannot reach the codec server at {$this->codecServerUrl} ({$error}); "
                . 'check the address (npm start prints it) and that it runs. Nothing was sent to Temporal.'
            );
        }
        $answer = json_decode($text, true);
        $answered = is_array($answer) && isset($answer['payloads']) && is_array($answer['payloads'])
            && count($answer['payloads']) === count($payloads);
        if ($status !== 200 || !$answered) {
            $message = is_array($answer) && isset($answer['message']) ? (string) $answer['message'] : 'no explanation';
            $what = $status === 401
                ? 'refused the token (set the codec server token this client sends)'
                : "answered HTTP {$status}";
            throw new ApiException("The codec server at {$this->codecServerUrl} {$what} for /{$operation}: {$message}");
        }
        return array_values($answer['payloads']);
    }
}
