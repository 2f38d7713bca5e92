<?php

declare(strict_types=1);

namespace Orderflow\Tests;

use Orderflow\Client;
use Orderflow\Exception\ApiException;
use Orderflow\Exception\ConfigurationException;
use Orderflow\Exception\InvalidInputException;
use Orderflow\Exception\OrderflowException;
use Orderflow\Exception\TemporalUnreachableException;
use Orderflow\PayloadCodec;
use Orderflow\Tests\Support\FakeTemporal;
use PHPUnit\Framework\TestCase;

/**
 * Payload encryption through the codec server, with a loopback stand-in for the codec
 * server (and one for Temporal): what the client sends is what /encode answered, what comes
 * back is decoded through /decode, and whatever goes wrong there is one of the client's
 * exceptions, with nothing sent to Temporal. (The real codec server and worker are covered
 * by test/php/encryption-interop.test.ts.)
 */
final class PayloadCodecTest extends TestCase
{
    private const INPUT = ['userId' => 7, 'orderId' => 319, 'amount' => '5.00', 'reason' => 'damaged', 'requestedBy' => 'shop'];

    private static FakeTemporal $codecServer;
    private static FakeTemporal $temporal;

    public static function setUpBeforeClass(): void
    {
        self::$codecServer = FakeTemporal::start();
        self::$temporal = FakeTemporal::start();
    }

    public static function tearDownAfterClass(): void
    {
        self::$codecServer->stop();
        self::$temporal->stop();
    }

    /** An encrypted payload as the codec server's /encode answers it (its data opaque here). */
    private static function sealed(string $data): array
    {
        return ['metadata' => ['encoding' => base64_encode('binary/encrypted'), 'encryption-key-id' => base64_encode('k1')], 'data' => base64_encode($data)];
    }

    private static function plain(mixed $value): array
    {
        return ['metadata' => ['encoding' => base64_encode('json/plain')], 'data' => base64_encode(json_encode($value, JSON_THROW_ON_ERROR))];
    }

    private static function codec(?string $token = 'token-123'): PayloadCodec
    {
        return new PayloadCodec(self::$codecServer->url, $token);
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

    /** @return array<string, array{array<string, mixed>, string}> */
    public static function unusableSettings(): array
    {
        return [
            'an address that is not a URL' => [['codecServerUrl' => '127.0.0.1:8234'], 'The codec server address must be an http(s) URL like http://127.0.0.1:8234, got "127.0.0.1:8234"'],
            'credentials in the address' => [['codecServerUrl' => 'https://me:secret@codec.example.com'], 'got "https://…@codec.example.com"; the token goes in token'],
            'a token over plain http' => [['codecServerUrl' => 'http://codec.example.com', 'token' => 'token-123'], 'The codec server token is only sent over https; "http://codec.example.com" is plain http'],
            'a token with a line break' => [['codecServerUrl' => 'http://127.0.0.1:8234', 'token' => "token\r\nX-Other: 1"], 'The codec server token is empty or holds spaces or control characters'],
            'a namespace with a bidirectional control' => [['codecServerUrl' => 'http://127.0.0.1:8234', 'namespace' => "default\u{202E}"], 'The codec server namespace must be one line of printable UTF-8 text'],
            'a timeout of 0' => [['codecServerUrl' => 'http://127.0.0.1:8234', 'timeoutSeconds' => 0.0], 'The codec server timeoutSeconds must be a number of seconds greater than 0, got 0'],
            'a CA file that is not there' => [['codecServerUrl' => 'https://codec.example.com', 'caFile' => '/nonexistent/ca.pem'], 'The codec server CA file (caFile) "/nonexistent/ca.pem" is not a readable file'],
        ];
    }

    /**
     * @dataProvider unusableSettings
     * @param array<string, mixed> $settings
     */
    public function testRefusesUnusableSettings(array $settings, string $message): void
    {
        try {
            new PayloadCodec(...$settings);
            self::fail('the settings were accepted');
        } catch (ConfigurationException $refusal) {
            self::assertStringContainsString($message, $refusal->getMessage());
            self::assertStringNotContainsString('secret', $refusal->getMessage());
        }
    }

    public function testAStartSendsWhatTheCodecServerEncoded(): void
    {
        self::$codecServer->answer([['#^POST /encode$#', 200, ['payloads' => [self::sealed('input'), self::sealed('summary'), self::sealed('details')]]]]);
        self::$temporal->answer([['#^POST /api/v1/namespaces/default/workflows/refund-and-cancel:7:319$#', 200, ['started' => true, 'runId' => 'run-1']]]);
        $run = (new Client(self::$temporal->url, payloadCodec: self::codec()))->refundAndCancel(self::INPUT);
        self::assertSame('run-1', $run->runId);

        [$encode] = self::$codecServer->requests();
        self::assertSame('Bearer token-123', $encode['authorization']);
        $asked = json_decode($encode['body'], true)['payloads'];
        self::assertCount(3, $asked);
        self::assertSame(self::INPUT, json_decode(base64_decode($asked[0]['data']), true));
        self::assertSame('json/plain', base64_decode($asked[0]['metadata']['encoding']));

        [$start] = self::$temporal->requests();
        $body = json_decode($start['body'], true);
        self::assertSame([self::sealed('input')], $body['input']);
        self::assertSame(['summary' => self::sealed('summary'), 'details' => self::sealed('details')], $body['userMetadata']);
        self::assertStringNotContainsString('damaged', $start['body']);
    }

    public function testAnswersAreDecodedThroughTheCodecServer(): void
    {
        self::$temporal->answer([['#/query/status$#', 200, ['queryResult' => ['payloads' => [self::sealed('status')]]]]]);
        self::$codecServer->answer([['#^POST /decode$#', 200, ['payloads' => [self::plain(['state' => 'running'])]]]]);
        self::assertSame(['state' => 'running'], (new Client(self::$temporal->url, payloadCodec: self::codec()))->status('refund-and-cancel:7:319'));
        self::assertSame([self::sealed('status')], json_decode(self::$codecServer->requests()[0]['body'], true)['payloads']);

        // A failure whose message was encoded (encodeCommonAttributes) gets its message back.
        $failure = ['message' => 'Encoded failure', 'encodedAttributes' => self::sealed('attributes'), 'applicationFailureInfo' => ['type' => 'RunCompensated']];
        $answer = ['history' => ['events' => [['eventType' => 'EVENT_TYPE_WORKFLOW_EXECUTION_FAILED', 'workflowExecutionFailedEventAttributes' => ['failure' => $failure]]]]];
        self::$codecServer->answer([['#^POST /decode$#', 200, ['payloads' => [self::plain(['message' => 'Refund compensated', 'stack_trace' => ''])]]]]);
        self::assertSame('Refund compensated', self::codec()->decodeAnswer($answer)['history']['events'][0]['workflowExecutionFailedEventAttributes']['failure']['message']);
    }

    public function testNoCodecServerAtTheAddress(): void
    {
        self::$temporal->answer([['#.#', 200, ['started' => true, 'runId' => 'run-1']]]);
        $client = new Client(self::$temporal->url, payloadCodec: new PayloadCodec('http://127.0.0.1:1', 'token-123'));
        self::assertThrows(TemporalUnreachableException::class, 'Cannot reach the codec server at http://127.0.0.1:1', static fn () => $client->refundAndCancel(self::INPUT));
        self::assertSame([], self::$temporal->requests(), 'nothing was sent to Temporal');
    }

    /** @return array<string, array{int, mixed, class-string<OrderflowException>, string}> */
    public static function codecServerAnswers(): array
    {
        return [
            'a refused token' => [401, ['message' => 'unauthorized'], ApiException::class, 'refused the token (set the codec server token this client sends) for /encode: unauthorized'],
            'an error whose message is not text' => [500, ['message' => ['not', 'text']], ApiException::class, 'answered HTTP 500 for /encode: no explanation'],
            'something that is not JSON' => [200, '<html>codec</html>', ApiException::class, 'answered with something other than the 3 payloads asked for'],
            'fewer payloads than asked for' => [200, ['payloads' => [self::sealed('one')]], ApiException::class, 'answered with something other than the 3 payloads asked for'],
            'payloads that are not payloads' => [200, ['payloads' => ['a', 'b', ['data' => 7]]], ApiException::class, 'answered /encode with something that is not a payload'],
            'metadata that is not text' => [200, ['payloads' => array_fill(0, 3, ['metadata' => ['encoding' => ['x']], 'data' => ''])], ApiException::class, 'with something that is not a payload'],
        ];
    }

    /**
     * @dataProvider codecServerAnswers
     * @param class-string<OrderflowException> $class
     */
    public function testWhatTheCodecServerAnswersBecomesAnOrderflowException(int $status, mixed $body, string $class, string $message): void
    {
        self::$codecServer->answer([['#^POST /encode$#', $status, $body]]);
        self::$temporal->answer([['#.#', 200, ['started' => true, 'runId' => 'run-1']]]);
        $error = self::assertThrows($class, $message, static fn () => (new Client(self::$temporal->url, payloadCodec: self::codec()))->refundAndCancel(self::INPUT));
        self::assertStringNotContainsString('token-123', $error->getMessage());
        self::assertSame([], self::$temporal->requests(), 'nothing was sent to Temporal');
    }

    public function testADecodedPayloadThatIsNotJson(): void
    {
        self::$temporal->answer([['#/query/status$#', 200, ['queryResult' => [self::sealed('status')]]]]);
        self::$codecServer->answer([['#^POST /decode$#', 200, ['payloads' => [['metadata' => ['encoding' => base64_encode('json/plain')], 'data' => base64_encode('{"state": ')]]]]]);
        self::assertThrows(
            ApiException::class,
            'decoded a json/plain payload whose data is not JSON (Syntax error); is its key the one the payload was encrypted with?',
            static fn () => (new Client(self::$temporal->url, payloadCodec: self::codec()))->status('refund-and-cancel:7:319'),
        );
    }

    public function testPayloadsTheCallerGivesAreChecked(): void
    {
        self::$codecServer->answer([['#.#', 200, ['payloads' => []]]]);
        self::assertThrows(InvalidInputException::class, 'payload 0 must be a Payload in protobuf JSON', static fn () => self::codec()->encode([['data' => 7]]));
        self::assertThrows(InvalidInputException::class, 'payloads must be a list', static fn () => self::codec()->decode(['a' => self::sealed('x')]));
        self::assertThrows(InvalidInputException::class, 'the payloads cannot be written as JSON (Malformed UTF-8', static fn () => self::codec()->encode([['metadata' => [], 'data' => "\xFF"]]));
        self::assertSame([], self::$codecServer->requests());
    }

    public function testAValueWithoutJsonIsRefusedBeforeAnythingIsSent(): void
    {
        self::$codecServer->answer([['#.#', 200, ['payloads' => []]]]);
        self::assertThrows(
            InvalidInputException::class,
            'a value to encrypt cannot be written as JSON (Inf and NaN cannot be JSON encoded); nothing was sent',
            static fn () => self::codec()->encodeRequest(['input' => [['amount' => NAN]]]),
        );
        self::assertThrows(
            InvalidInputException::class,
            'request.input.args must be a list of values to encrypt (got string)',
            static fn () => self::codec()->encodeRequest(['request' => ['input' => ['args' => 'retry']]]),
        );
        self::assertSame([], self::$codecServer->requests());
    }
}
