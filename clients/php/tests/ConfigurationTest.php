<?php

declare(strict_types=1);

namespace Orderflow\Tests;

use Orderflow\Client;
use Orderflow\Contract;
use Orderflow\Exception\ConfigurationException;
use PHPUnit\Framework\TestCase;

/** Settings the client cannot work with are refused when it is made, as ConfigurationException. */
final class ConfigurationTest extends TestCase
{
    /** @return array<string, array{array<string, mixed>, string}> */
    public static function unusableSettings(): array
    {
        return [
            'an address that is not a URL' => [['httpApiUrl' => 'nope'], 'must be an http(s) URL like http://127.0.0.1:7243, got "nope"'],
            'an empty address' => [['httpApiUrl' => ''], 'must be an http(s) URL'],
            'another scheme' => [['httpApiUrl' => 'ftp://127.0.0.1:7243'], 'got "ftp://127.0.0.1:7243"'],
            'the gRPC form host:port' => [['httpApiUrl' => '127.0.0.1:7233'], 'not the gRPC port 7233'],
            'no host' => [['httpApiUrl' => 'http://'], 'must be an http(s) URL'],
            'a space' => [['httpApiUrl' => 'http://127.0.0.1:7243 '], 'must be an http(s) URL'],
            'a query' => [['httpApiUrl' => 'http://127.0.0.1:7243/?x=1'], 'must be an http(s) URL'],
            'credentials in the address' => [
                ['httpApiUrl' => 'https://me:secret@temporal.example.com'],
                'got "https://…@temporal.example.com". It is the address npm start prints for the HTTP API '
                . '(not the gRPC port 7233, not the UI); credentials go in apiKey, not in the address.',
            ],
            'an API key over plain http' => [
                ['httpApiUrl' => 'http://temporal.example.com:7243', 'apiKey' => 'key-123'],
                'An API key is only sent over https; http://temporal.example.com:7243 is plain http',
            ],
            'an empty API key' => [['apiKey' => ''], 'The API key is empty or holds spaces or control characters'],
            'an API key with a line break' => [['apiKey' => "key\r\nX-Other: 1"], 'The API key is empty or holds spaces'],
            'a UI address that is not a URL' => [['uiUrl' => 'localhost:8233'], 'The Temporal UI address (uiUrl) must be an http(s) URL'],
            'a prefix with a slash' => [['workflowIdPrefix' => 'shop/eu:'], "The workflow id prefix may contain only letters, digits, '.', '_', ':' and '-', got \"shop/eu:\""],
            'an empty namespace' => [['namespace' => ''], 'The namespace must be one line of printable UTF-8 text, got ""'],
            'a task queue with a line break' => [['taskQueue' => "orderflow\n"], 'The taskQueue must be one line'],
            'an identity that is not UTF-8' => [['identity' => "shop\xff"], "The identity must be one line of printable UTF-8 text, got \"shop\u{FFFD}\""],
            'an empty identity' => [['identity' => ''], 'The identity must be one line of printable UTF-8 text, got ""'],
            'an identity with a line break' => [['identity' => "shop\nX-Other: 1"], 'The identity must be one line of printable UTF-8 text, got "shop\nX-Other: 1"'],
            'an identity with a bidirectional control' => [['identity' => "orderflow-php:\u{202E}pohs"], 'The identity must be one line of printable UTF-8 text'],
            'an identity with a zero-width space' => [['identity' => "orderflow-php:shop\u{200B}"], 'The identity must be one line of printable UTF-8 text'],
            'an identity over 200 characters' => [['identity' => str_repeat('é', 201)], 'The identity must be at most 200 characters, got 201; name the backend, e.g. "orderflow-php:shop-backend-eu".'],
            'a timeout of 0' => [['timeoutSeconds' => 0.0], 'timeoutSeconds must be a number of seconds greater than 0, got 0'],
            'a negative connect timeout' => [['connectTimeoutSeconds' => -1.0], 'connectTimeoutSeconds must be a number of seconds greater than 0, got -1'],
            'a timeout that is not a number' => [['timeoutSeconds' => NAN], 'timeoutSeconds must be a number of seconds greater than 0, got null'],
            'an infinite timeout' => [['timeoutSeconds' => INF], 'timeoutSeconds must be a number of seconds greater than 0'],
            'a CA file that is not there' => [['caFile' => '/nonexistent/ca.pem'], 'The CA file (caFile) "/nonexistent/ca.pem" is not a readable file'],
        ];
    }

    /**
     * @dataProvider unusableSettings
     * @param array<string, mixed> $settings
     */
    public function testRefusesUnusableSettings(array $settings, string $message): void
    {
        $this->expectException(ConfigurationException::class);
        $this->expectExceptionMessage($message);
        new Client(...($settings + ['httpApiUrl' => 'http://127.0.0.1:7243']));
    }

    public function testNeverShowsTheApiKeyOrTheAddressCredentials(): void
    {
        foreach ([['apiKey' => "secret-key\n"], ['httpApiUrl' => 'https://me:secret-key@temporal.example.com']] as $settings) {
            try {
                new Client(...($settings + ['httpApiUrl' => 'https://temporal.example.com']));
                self::fail('the settings were accepted');
            } catch (ConfigurationException $refusal) {
                self::assertStringNotContainsString('secret-key', $refusal->getMessage());
            }
        }
    }

    public function testAcceptsWorkableSettings(): void
    {
        $caFile = tempnam(sys_get_temp_dir(), 'orderflow-ca-');
        try {
            foreach (
                [
                    ['httpApiUrl' => 'http://127.0.0.1:7243', 'apiKey' => 'key-123'],
                    ['httpApiUrl' => 'http://localhost:7243/', 'uiUrl' => 'http://localhost:8233'],
                    ['httpApiUrl' => 'http://[::1]:7243', 'apiKey' => 'key-123'],
                    ['httpApiUrl' => 'HTTPS://temporal.example.com/temporal-http', 'apiKey' => 'key-123', 'caFile' => $caFile],
                    ['httpApiUrl' => 'https://temporal.example.com:7243', 'namespace' => 'shop.eu-1', 'workflowIdPrefix' => 'shop-eu:'],
                    ['httpApiUrl' => 'http://127.0.0.1:7243', 'identity' => 'orderflow-php:' . str_repeat('é', 186)],
                    ['httpApiUrl' => 'http://127.0.0.1:7243', 'identity' => 'orderflow-php:Магазин shop-backend'],
                ] as $settings
            ) {
                self::assertInstanceOf(Client::class, new Client(...$settings));
            }
        } finally {
            unlink((string) $caFile);
        }
    }

    /** @return array<string, array{string, string}> */
    public static function unusableContracts(): array
    {
        $shipped = json_decode((string) file_get_contents(dirname(__DIR__) . '/resources/orderflow.contract.json'), true);
        $withoutTemplate = $shipped;
        unset($withoutTemplate['workflows']['cancelOrder']['workflowIdTemplate']);
        $unknownHash = $shipped;
        $unknownHash['workflowIds']['adjustCreditRequestIdDefault']['algorithm'] = 'sha-nonexistent';
        $badRows = $shipped;
        $badRows['workflows']['refundAndCancel']['staticDetailsRows'] = 'user';
        return [
            'not JSON' => ['{"workflows": ', 'is not JSON (Syntax error)'],
            'a JSON list' => ['[]', 'is not one this client can follow: workflowIds.adjustCreditRequestIdDefault needs'],
            'no workflows' => [json_encode(['workflowIds' => $shipped['workflowIds']]), 'it lists no workflows'],
            'a workflow without its id template' => [json_encode($withoutTemplate), 'workflow cancelOrder has no workflowIdTemplate'],
            'a hash PHP does not know' => [json_encode($unknownHash), 'a hash algorithm PHP knows'],
            'details rows that are not a list' => [json_encode($badRows), 'workflow refundAndCancel has no staticDetailsRows'],
        ];
    }

    /** @dataProvider unusableContracts */
    public function testRefusesAContractItCannotFollow(string $document, string $message): void
    {
        $path = (string) tempnam(sys_get_temp_dir(), 'orderflow-contract-');
        file_put_contents($path, $document);
        try {
            $this->expectException(ConfigurationException::class);
            $this->expectExceptionMessage($message);
            Contract::load($path);
        } finally {
            unlink($path);
        }
    }

    public function testSaysWhenTheContractFileIsMissing(): void
    {
        $this->expectException(ConfigurationException::class);
        $this->expectExceptionMessage('Cannot read the orderflow contract /nonexistent/contract.json; reinstall the orderflow/client package.');
        Contract::load('/nonexistent/contract.json');
    }
}
