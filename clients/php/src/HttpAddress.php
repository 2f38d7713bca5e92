<?php

declare(strict_types=1);

namespace Orderflow;

/**
 * The one rule for the http(s) addresses the client is given (Temporal's HTTP API, the UI,
 * the codec server): an http or https URL with a host, without credentials, query or
 * fragment; and how such an address is shown in a message (credentials left out).
 *
 * @internal
 */
final class HttpAddress
{
    private const LOOPBACK = ['127.0.0.1', 'localhost', '::1', '[::1]'];

    /**
     * The parts of an http(s) URL (scheme lower-cased); null for anything else.
     *
     * @return array{scheme: string, host: string, port?: int, path?: string}|null
     */
    public static function parse(string $value): ?array
    {
        if (preg_match('/[\x00-\x20\x7F]/', $value) === 1) {
            return null;
        }
        $url = parse_url($value);
        if (
            $url === false
            || !in_array(strtolower($url['scheme'] ?? ''), ['http', 'https'], true)
            || ($url['host'] ?? '') === ''
            || isset($url['user']) || isset($url['pass']) || isset($url['query']) || isset($url['fragment'])
        ) {
            return null;
        }
        $url['scheme'] = strtolower($url['scheme']);
        return $url;
    }

    /** Is the parsed address this machine (where a secret may go over plain http)? */
    public static function isLoopback(array $url): bool
    {
        return in_array($url['host'], self::LOOPBACK, true);
    }

    /** An address as a message may show it: what stands before an "@" (credentials) left out. */
    public static function shown(string $address): string
    {
        return InputRules::display(preg_replace('#^([^:/@]*://)[^/@]*@#', '$1…@', $address) ?? '(an address)');
    }
}
