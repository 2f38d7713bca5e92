<?php

declare(strict_types=1);

namespace Orderflow\Tests\Support;

/**
 * A loopback HTTP server (PHP's built-in server with router.php) that stands in for
 * Temporal's HTTP API: it answers each request with the first scripted answer whose pattern
 * matches "METHOD /path?query", and records every request, so a test can give the client
 * any answer (an error, something that is not JSON, JSON of another shape, a slow one) and
 * see what was sent.
 */
final class FakeTemporal
{
    /** @var resource */
    private $process;

    private function __construct(public readonly string $url, private readonly string $directory, mixed $process)
    {
        $this->process = $process;
    }

    public static function start(): self
    {
        $directory = sys_get_temp_dir() . '/orderflow-fake-temporal-' . bin2hex(random_bytes(6));
        if (!mkdir($directory, 0700)) {
            throw new \RuntimeException("Cannot create {$directory}.");
        }
        file_put_contents("{$directory}/answers.json", '[]');
        touch("{$directory}/requests.jsonl");
        $process = proc_open(
            [PHP_BINARY, '-d', 'display_errors=stderr', '-S', '127.0.0.1:0', __DIR__ . '/router.php'],
            [
                0 => ['file', '/dev/null', 'r'],
                1 => ['file', '/dev/null', 'w'],
                2 => ['file', "{$directory}/server.log", 'w'],
            ],
            $pipes,
            null,
            ['ORDERFLOW_FAKE_TEMPORAL' => $directory] + getenv(),
        );
        if (!is_resource($process)) {
            throw new \RuntimeException('Cannot start PHP\'s built-in server.');
        }
        // The server prints its address, with the port it was given, once it listens.
        for ($waited = 0; $waited < 200; $waited++) {
            $log = (string) file_get_contents("{$directory}/server.log");
            if (preg_match('#\(http://(127\.0\.0\.1:\d+)\) started#', $log, $match) === 1) {
                return new self("http://{$match[1]}", $directory, $process);
            }
            if (!proc_get_status($process)['running']) {
                break;
            }
            usleep(50_000);
        }
        proc_terminate($process);
        throw new \RuntimeException("PHP's built-in server did not start: {$log}");
    }

    /**
     * Scripts the answers: each is [pattern, status, body] or [pattern, status, body, seconds
     * to wait first]; the pattern is a regular expression for "METHOD /path?query"; the
     * body is sent as it is (a string) or as JSON. Forgets the requests seen so far.
     *
     * @param list<array{0: string, 1: int, 2: mixed, 3?: float}> $answers
     */
    public function answer(array $answers): void
    {
        $scripted = array_map(static fn (array $answer): array => [
            'pattern' => $answer[0],
            'status' => $answer[1],
            'body' => is_string($answer[2]) ? $answer[2] : json_encode($answer[2], JSON_THROW_ON_ERROR),
            'wait' => $answer[3] ?? 0.0,
        ], $answers);
        file_put_contents("{$this->directory}/answers.json", json_encode($scripted, JSON_THROW_ON_ERROR));
        file_put_contents("{$this->directory}/requests.jsonl", '');
    }

    /** @return list<array{method: string, uri: string, authorization: ?string, body: string}> the requests since answer() */
    public function requests(): array
    {
        $lines = file("{$this->directory}/requests.jsonl", FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES);
        $decode = static fn (string $line): array => json_decode($line, true, 512, JSON_THROW_ON_ERROR);
        return array_map($decode, $lines ?: []);
    }

    public function stop(): void
    {
        proc_terminate($this->process);
        proc_close($this->process);
        foreach (glob("{$this->directory}/*") ?: [] as $file) {
            unlink($file);
        }
        rmdir($this->directory);
    }
}
