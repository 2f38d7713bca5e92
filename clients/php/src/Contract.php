<?php

declare(strict_types=1);

namespace Orderflow;

use Orderflow\Exception\ConfigurationException;
use Orderflow\Exception\InvalidInputException;

/**
 * orderflow's caller contract (resources/orderflow.contract.json, generated from the
 * TypeScript registry and types): workflow types, id templates, id policies, the fields
 * that make "the same request", search attributes and UI summary at start.
 */
final class Contract
{
    /** @param array<string, mixed> $document */
    private function __construct(private readonly array $document)
    {
    }

    /** @throws ConfigurationException the file cannot be read, is not JSON, or not a contract this client can follow */
    public static function load(?string $path = null): self
    {
        $path ??= dirname(__DIR__) . '/resources/orderflow.contract.json';
        $text = is_file($path) && is_readable($path) ? file_get_contents($path) : false;
        if ($text === false) {
            throw new ConfigurationException(
                "Cannot read the orderflow contract {$path}; reinstall the orderflow/client package."
            );
        }
        try {
            $document = json_decode($text, true, 512, JSON_THROW_ON_ERROR);
        } catch (\JsonException $error) {
            throw new ConfigurationException(
                "The orderflow contract {$path} is not JSON ({$error->getMessage()}); "
                . 'reinstall the orderflow/client package.'
            );
        }
        $problem = is_array($document) ? self::problemOf($document) : 'it is not a JSON object';
        if ($problem !== null) {
            throw new ConfigurationException(
                "The orderflow contract {$path} is not one this client can follow: {$problem}. "
                . 'Use the contract that came with the package (npm run contract writes it).'
            );
        }
        return new self($document);
    }

    /**
     * @return array<string, mixed>
     * @throws InvalidInputException orderflow has no such workflow
     */
    public function workflow(string $workflowType): array
    {
        $workflow = $this->document['workflows'][$workflowType] ?? null;
        if (!is_array($workflow)) {
            throw new InvalidInputException('unknown workflow type', [
                'workflowType must be one of ' . implode(', ', array_keys($this->document['workflows']))
                . ' (got ' . InputRules::display($workflowType) . ')',
            ]);
        }
        return $workflow;
    }

    /**
     * The business-key workflow id of a normalised input.
     *
     * @param array<string, mixed> $input
     */
    public function workflowId(string $workflowType, array $input): string
    {
        $workflow = $this->workflow($workflowType);
        $values = $input;
        if ($workflowType === 'adjustCredit' && !isset($values['requestId'])) {
            $values['requestId'] = $this->requestDigest($input);
        }
        return self::fill($workflow['workflowIdTemplate'], $values);
    }

    /**
     * The default requestId of an adjustment: sha256 of the JSON array of its values.
     *
     * @param array<string, mixed> $input
     */
    public function requestDigest(array $input): string
    {
        $rule = $this->document['workflowIds']['adjustCreditRequestIdDefault'];
        $values = array_map(static fn (string $field): mixed => $input[$field] ?? null, $rule['fields']);
        return substr(hash($rule['algorithm'], InputRules::json($values)), 0, $rule['hexDigits']);
    }

    /**
     * Search attributes at start, for the HTTP API's `searchAttributes.indexedFields`.
     *
     * @param array<string, mixed> $input
     * @return array<string, mixed>
     */
    public function searchAttributes(string $workflowType, array $input): array
    {
        $fields = [];
        foreach ($this->workflow($workflowType)['searchAttributesAtStart'] as $attribute) {
            if (array_key_exists('value', $attribute)) {
                $fields[$attribute['name']] = $attribute['value'];
            } elseif (isset($input[$attribute['field']])) {
                $fields[$attribute['name']] = $input[$attribute['field']];
            }
        }
        return $fields;
    }

    /**
     * The UI's static summary and details (a Markdown list).
     *
     * @param array<string, mixed> $input
     * @return array{summary: string, details: string}
     */
    public function userMetadata(string $workflowType, array $input): array
    {
        $workflow = $this->workflow($workflowType);
        $rows = [];
        foreach ($workflow['staticDetailsRows'] as $row) {
            $value = $input[$row['field']] ?? $row['whenAbsent'] ?? null;
            if ($value !== null) {
                $escaped = preg_replace('/([\\\\`*_\[\]|<>])/', '\\\\$1', (string) $value);
                $rows[] = "- **{$row['label']}:** {$escaped}";
            }
        }
        return ['summary' => self::fill($workflow['staticSummaryTemplate'], $input), 'details' => implode("\n", $rows)];
    }

    /**
     * The differences between an existing run's input and a new request, in the fields
     * that make "the same request".
     *
     * @param array<string, mixed> $existing
     * @param array<string, mixed> $requested
     * @return list<array{field: string, existing: mixed, requested: mixed}>
     */
    public function differences(string $workflowType, array $existing, array $requested): array
    {
        $differences = [];
        foreach ($this->workflow($workflowType)['sameRequestFields'] as $field) {
            $before = $existing[$field] ?? null;
            $now = $requested[$field] ?? null;
            if (InputRules::display($before) !== InputRules::display($now)) {
                $differences[] = ['field' => $field, 'existing' => $before, 'requested' => $now];
            }
        }
        return $differences;
    }

    /**
     * What makes the document unusable for this client, or null: the parts it reads, with
     * their types, so that a foreign file is refused here and not half-way through a call.
     *
     * @param array<mixed> $document
     */
    private static function problemOf(array $document): ?string
    {
        $digest = $document['workflowIds']['adjustCreditRequestIdDefault'] ?? null;
        if (
            !is_array($digest) || !self::isTextList($digest['fields'] ?? null) || !is_int($digest['hexDigits'] ?? null)
            || !in_array($digest['algorithm'] ?? null, hash_algos(), true)
        ) {
            return 'workflowIds.adjustCreditRequestIdDefault needs fields, a hash algorithm PHP knows, and hexDigits';
        }
        if (!is_array($document['workflows'] ?? null) || $document['workflows'] === []) {
            return 'it lists no workflows';
        }
        $texts = ['workflowType', 'workflowIdTemplate', 'workflowIdConflictPolicy',
            'workflowIdReusePolicy', 'staticSummaryTemplate'];
        foreach ($document['workflows'] as $name => $workflow) {
            foreach ($texts as $key) {
                if (!is_string($workflow[$key] ?? null)) {
                    return "workflow {$name} has no {$key}";
                }
            }
            if (!self::isTextList($workflow['sameRequestFields'] ?? null)) {
                return "workflow {$name} has no sameRequestFields";
            }
            $attributes = $workflow['searchAttributesAtStart'] ?? null;
            foreach (is_array($attributes) ? $attributes : [null] as $entry) {
                $named = is_string($entry['name'] ?? null);
                if (!$named || (!is_string($entry['field'] ?? null) && !array_key_exists('value', $entry))) {
                    return "workflow {$name} has no searchAttributesAtStart, or one without name, and field or value";
                }
            }
            $rows = $workflow['staticDetailsRows'] ?? null;
            foreach (is_array($rows) ? $rows : [null] as $row) {
                if (!is_string($row['label'] ?? null) || !is_string($row['field'] ?? null)) {
                    return "workflow {$name} has no staticDetailsRows, or one without label and field";
                }
            }
        }
        return null;
    }

    private static function isTextList(mixed $value): bool
    {
        return is_array($value) && array_is_list($value) && $value === array_filter($value, 'is_string');
    }

    /** @param array<string, mixed> $values */
    private static function fill(string $template, array $values): string
    {
        return preg_replace_callback('/\{(\w+)\}/', static function (array $match) use ($template, $values): string {
            $value = $values[$match[1]] ?? null;
            if (!is_string($value) && !is_int($value)) {
                throw new ConfigurationException(
                    "The orderflow contract's template {$template} needs {$match[1]}, which the input has not; "
                    . 'the contract does not fit this client. Use the contract that came with the package.'
                );
            }
            return (string) $value;
        }, $template);
    }
}
