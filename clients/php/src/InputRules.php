<?php

declare(strict_types=1);

namespace Orderflow;

use Orderflow\Exception\InvalidInputException;

/**
 * The input rules of orderflow's workflows, the same as the TypeScript starters'
 * (src/validation.ts): a shared table of valid and invalid inputs
 * (test/fixtures/input-cases.json) runs against both. Each validator answers the
 * normalised input (trimmed texts, amounts as "5.00", absent optional fields left out)
 * or throws InvalidInputException listing every problem.
 */
final class InputRules
{
    /** JavaScript's whitespace (String.prototype.trim), which is what the TS rules trim. */
    private const JS_SPACE = '[\x{0009}-\x{000D}\x{0020}\x{00A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}'
        . '\x{202F}\x{205F}\x{3000}\x{FEFF}]';
    private const BILL_ID = '/^[A-Za-z0-9_.-]{1,64}$/';
    private const REQUEST_ID = '/^[A-Za-z0-9_.:-]{1,100}$/';
    private const DECIMAL = '/^(0|[1-9]\d{0,12})(?:\.(\d{1,2}))?$/';
    private const DURATION = '/^(\d{1,6})' . self::JS_SPACE
        . '*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days)$/u';
    private const MAX_SAFE_INTEGER = 9007199254740991;
    private const WORKFLOW_TYPES = ['refundAndCancel', 'processPaidOrder', 'adjustCredit', 'cancelOrder'];
    private const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_LINE_TERMINATORS;
    /**
     * What a single-line text may not hold (src/single-line-text.ts; `singleLineText` in the
     * contract): control characters, line and paragraph separators, and invisible format
     * characters (Unicode category Cf: bidirectional controls, zero-width characters, U+FEFF).
     */
    private const CONTROL = '/[\p{Cc}\p{Cf}\x{2028}\x{2029}]/u';
    /** The bidirectional controls among them: they reorder what is displayed. */
    private const BIDI = '/^[\x{061C}\x{200E}\x{200F}\x{202A}-\x{202E}\x{2066}-\x{2069}]$/u';

    /** @var list<string> */
    private array $problems = [];
    /** @var array<string, mixed> */
    private array $fields = [];

    private function __construct(mixed $input)
    {
        if (!is_array($input) || ($input !== [] && array_is_list($input))) {
            $this->problems[] = 'the input must be a JSON object';
        } else {
            $this->fields = $input;
        }
    }

    /**
     * @return array<string, mixed> the normalised input
     * @throws InvalidInputException
     */
    public static function validate(string $workflowType, mixed $input): array
    {
        return match ($workflowType) {
            'refundAndCancel' => self::refundAndCancel($input),
            'processPaidOrder' => self::processPaidOrder($input),
            'adjustCredit' => self::adjustCredit($input),
            'cancelOrder' => self::cancelOrder($input),
            default => throw new InvalidInputException('unknown workflow type', [
                'workflowType must be one of ' . implode(', ', self::WORKFLOW_TYPES)
                . ' (got ' . self::display($workflowType) . ')',
            ]),
        };
    }

    /** @return array<string, mixed> */
    public static function refundAndCancel(mixed $input): array
    {
        $rules = new self($input);
        return $rules->finish('refund-and-cancel input refused', [
            'userId' => $rules->positiveId('userId'),
            'orderId' => $rules->positiveId('orderId'),
            'amount' => $rules->amount(),
            'justclickBillId' => $rules->billId(),
            'reason' => $rules->text('reason', 500) ?? '',
            'requestedBy' => $rules->text('requestedBy', 200) ?? '',
        ]);
    }

    /** @return array<string, mixed> */
    public static function processPaidOrder(mixed $input): array
    {
        $rules = new self($input);
        $deadline = $rules->fields['paymentDeadline'] ?? null;
        $present = array_key_exists('paymentDeadline', $rules->fields);
        if ($present && (!is_string($deadline) || preg_match(self::DURATION, self::jsTrim($deadline)) !== 1)) {
            $rules->problems[] = 'paymentDeadline must be a duration such as "30 minutes", "24 hours" or "7 days" (got '
                . self::display($deadline) . ')';
        }
        return $rules->finish('process-paid-order input refused', [
            'userId' => $rules->positiveId('userId'),
            'orderId' => $rules->positiveId('orderId'),
            'justclickBillId' => $rules->billId(),
            'paymentDeadline' => is_string($deadline) ? self::jsTrim($deadline) : null,
        ]);
    }

    /** @return array<string, mixed> */
    public static function adjustCredit(mixed $input): array
    {
        $rules = new self($input);
        $action = $rules->fields['action'] ?? null;
        if ($action !== 'add' && $action !== 'subtract') {
            $rules->problems[] = 'action must be "add" or "subtract" (got ' . $rules->shown('action') . ')';
        }
        return $rules->finish('adjust-credit input refused', [
            'userId' => $rules->positiveId('userId'),
            'action' => $action === 'subtract' ? 'subtract' : 'add',
            'amount' => $rules->amount(),
            'description' => $rules->text('description', 255) ?? '',
            'reason' => $rules->text('reason', 500) ?? '',
            'requestedBy' => $rules->text('requestedBy', 200, true),
            'requestId' => $rules->requestId(),
        ]);
    }

    /** @return array<string, mixed> */
    public static function cancelOrder(mixed $input): array
    {
        $rules = new self($input);
        $requester = $rules->fields['requester'] ?? null;
        if ($requester !== 'ADMIN' && $requester !== 'BUYER') {
            $rules->problems[] = 'requester must be "ADMIN" or "BUYER" (got ' . $rules->shown('requester') . ')';
        }
        return $rules->finish('cancel-order input refused', [
            'userId' => $rules->positiveId('userId'),
            'orderId' => $rules->positiveId('orderId'),
            'justclickBillId' => $rules->billId(),
            'requester' => $requester === 'BUYER' ? 'BUYER' : 'ADMIN',
            'reason' => $rules->text('reason', 500, true),
        ]);
    }

    /**
     * @param array<string, mixed> $value
     * @return array<string, mixed>
     */
    private function finish(string $what, array $value): array
    {
        if ($this->problems !== []) {
            throw new InvalidInputException($what, $this->problems);
        }
        return array_filter($value, static fn (mixed $field): bool => $field !== null);
    }

    /** The value as JSON.stringify shows it in a problem ("nothing" when absent). */
    private function shown(string $name): string
    {
        return array_key_exists($name, $this->fields) ? self::display($this->fields[$name]) : 'nothing';
    }

    private function positiveId(string $name): int
    {
        $value = $this->fields[$name] ?? null;
        if (is_float($value) && floor($value) === $value && abs($value) <= self::MAX_SAFE_INTEGER) {
            $value = (int) $value;
        }
        if (!is_int($value) || $value < 1 || $value > self::MAX_SAFE_INTEGER) {
            $this->problems[] = "{$name} must be a whole number ≥ 1 (got " . $this->shown($name) . ')';
            return 0;
        }
        return $value;
    }

    private function text(string $name, int $max, bool $optional = false): ?string
    {
        $value = $this->fields[$name] ?? null;
        if ($value === null) {
            if (!$optional) {
                $this->problems[] = "{$name} is required (a non-empty text)";
            }
            return null;
        }
        if (is_string($value) && !self::isUtf8($value)) {
            $this->problems[] = "{$name} must be UTF-8 text (it holds bytes that are not UTF-8)";
            return null;
        }
        // Empty is never "left out": a required text is missing, an optional one must be left out instead.
        if ($value === '') {
            $this->problems[] = $optional
                ? "{$name} must be a non-empty text, or left out"
                : "{$name} is required (a non-empty text)";
            return null;
        }
        if (!is_string($value) || self::jsTrim($value) === '') {
            $this->problems[] = "{$name} must be a non-empty text";
            return null;
        }
        if (self::utf16Length($value) > $max) {
            $this->problems[] = "{$name} must be at most {$max} characters";
            return null;
        }
        $control = self::controlProblem($name, $value);
        if ($control !== null) {
            $this->problems[] = $control;
            return null;
        }
        return self::jsTrim($value);
    }

    private function billId(): ?string
    {
        $value = $this->fields['justclickBillId'] ?? null;
        if ($value === null || $value === '') {
            return null;
        }
        if (!is_string($value) || preg_match(self::BILL_ID, $value) !== 1) {
            $this->problems[] = "justclickBillId must be 1–64 letters, digits, '.', '_' or '-' (got "
                . self::display($value) . ')';
            return null;
        }
        return $value;
    }

    private function requestId(): ?string
    {
        $value = $this->fields['requestId'] ?? null;
        if ($value === null || $value === '') {
            return null;
        }
        if (!is_string($value) || preg_match(self::REQUEST_ID, $value) !== 1) {
            $this->problems[] = "requestId must be 1–100 letters, digits, '.', '_', ':' or '-' (got "
                . self::display($value) . ')';
            return null;
        }
        return $value;
    }

    private function amount(): string
    {
        $value = $this->fields['amount'] ?? null;
        if (!is_string($value)) {
            $this->problems[] = 'amount must be a decimal text such as "5.00" (got ' . $this->shown('amount') . ')';
            return '';
        }
        if (preg_match(self::DECIMAL, self::jsTrim($value), $match) !== 1) {
            $this->problems[] = 'amount ' . self::display($value)
                . ' is not a decimal amount with at most two places (like 5 or 12.50)';
            return '';
        }
        $cents = (int) $match[1] * 100 + (int) str_pad($match[2] ?? '', 2, '0');
        if ($cents <= 0) {
            $this->problems[] = 'amount must be greater than 0, got ' . self::display($value);
            return '';
        }
        return intdiv($cents, 100) . '.' . str_pad((string) ($cents % 100), 2, '0', STR_PAD_LEFT);
    }

    /**
     * The problem of a UTF-8 text that must be one line: the first control, line separator or
     * invisible format character (bidirectional controls among them) and its position, in
     * the words of the TypeScript rule; null when there is none.
     */
    public static function controlProblem(string $name, string $value): ?string
    {
        if (preg_match(self::CONTROL, $value, $found, PREG_OFFSET_CAPTURE) !== 1) {
            return null;
        }
        return "{$name} must be one line of printable text; it holds " . self::controlName($found[0][0])
            . ' at position ' . (self::utf16Length(substr($value, 0, $found[0][1])) + 1);
    }

    private static function controlName(string $character): string
    {
        return match ($character) {
            "\n" => 'a line break',
            "\r" => 'a carriage return',
            "\t" => 'a tab',
            "\x1b" => 'an escape character (ESC)',
            default => match (true) {
                preg_match(self::BIDI, $character) === 1 => 'the bidirectional control character',
                preg_match('/^\p{Cf}$/u', $character) === 1 => 'the invisible format character',
                default => 'the control character',
            } . sprintf(' U+%04X', self::codePoint($character)),
        };
    }

    private static function codePoint(string $character): int
    {
        $bytes = array_values(unpack('C*', $character) ?: []);
        return match (count($bytes)) {
            1 => $bytes[0],
            2 => (($bytes[0] & 0x1F) << 6) | ($bytes[1] & 0x3F),
            3 => (($bytes[0] & 0x0F) << 12) | (($bytes[1] & 0x3F) << 6) | ($bytes[2] & 0x3F),
            4 => (($bytes[0] & 0x07) << 18) | (($bytes[1] & 0x3F) << 12)
                | (($bytes[2] & 0x3F) << 6) | ($bytes[3] & 0x3F),
            default => 0,
        };
    }

    /**
     * JSON as JavaScript's JSON.stringify writes it (slashes and non-ASCII unescaped), for
     * values that passed the rules (the request digest of an adjustment).
     *
     * @throws InvalidInputException the value has no JSON (text that is not UTF-8, NaN, …)
     */
    public static function json(mixed $value): string
    {
        try {
            return json_encode($value, self::JSON_FLAGS | JSON_THROW_ON_ERROR);
        } catch (\JsonException $error) {
            $problem = "the value cannot be written as JSON ({$error->getMessage()})";
            throw new InvalidInputException('value refused', [$problem]);
        }
    }

    /**
     * Any value as a message shows it, like json() but never failing: bytes that are not
     * UTF-8 become U+FFFD, NaN and infinities null (as JSON.stringify shows them).
     */
    public static function display(mixed $value): string
    {
        if (is_float($value) && !is_finite($value)) {
            return 'null';
        }
        $json = json_encode($value, self::JSON_FLAGS | JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR);
        return $json === false ? 'null' : $json;
    }

    /** Is the text valid UTF-8? */
    public static function isUtf8(string $value): bool
    {
        return preg_match('//u', $value) === 1;
    }

    /** Is the text non-blank UTF-8 without control characters or line separators? */
    public static function isOneLine(string $value): bool
    {
        return self::isUtf8($value) && trim($value) !== '' && preg_match(self::CONTROL, $value) !== 1;
    }

    /** The text without JavaScript's whitespace at either end (String.prototype.trim). */
    public static function jsTrim(string $value): string
    {
        return preg_replace('/^' . self::JS_SPACE . '+|' . self::JS_SPACE . '+$/u', '', $value) ?? $value;
    }

    /** The length JavaScript reports: UTF-16 code units. */
    private static function utf16Length(string $value): int
    {
        $codePoints = preg_match_all('/./su', $value);
        $astral = preg_match_all('/[\x{10000}-\x{10FFFF}]/u', $value);
        return ($codePoints === false ? strlen($value) : $codePoints) + ($astral === false ? 0 : $astral);
    }
}
