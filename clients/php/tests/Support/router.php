<?php

/**
 * The router of FakeTemporal's built-in server: records the request, then sends the first
 * scripted answer whose pattern matches "METHOD /path?query" (HTTP 599 when none does).
 */

declare(strict_types=1);

$directory = (string) getenv('ORDERFLOW_FAKE_TEMPORAL');
$headers = array_change_key_case(getallheaders(), CASE_LOWER);
$request = [
    'method' => $_SERVER['REQUEST_METHOD'],
    'uri' => $_SERVER['REQUEST_URI'],
    'authorization' => $headers['authorization'] ?? null,
    'body' => (string) file_get_contents('php://input'),
];
$line = json_encode($request, JSON_THROW_ON_ERROR) . "\n";
file_put_contents("{$directory}/requests.jsonl", $line, FILE_APPEND | LOCK_EX);

$answers = json_decode((string) file_get_contents("{$directory}/answers.json"), true, 512, JSON_THROW_ON_ERROR);
foreach ($answers as $answer) {
    if (preg_match($answer['pattern'], "{$request['method']} {$request['uri']}") === 1) {
        usleep((int) ($answer['wait'] * 1_000_000));
        http_response_code($answer['status']);
        header('Content-Type: application/json');
        echo $answer['body'];
        return;
    }
}
http_response_code(599);
echo json_encode(['message' => "no scripted answer for {$request['method']} {$request['uri']}"]);
