<?php

declare(strict_types=1);

namespace Orderflow;

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

    public static function load(?string $path = null): self
    {
        $path ??= dirname(__DIR__) . '/resources/orderflow.contract.json';
        $text = @file_get_contents($path);
        if ($text === false) {
            throw new \RuntimeException("Cannot read the orderflow contract {$path}; reinstall the orderflow/client package.");
        }
        return new self(json_decode($text, true, 512, JSON_THROW_ON_ERROR));
    }

    /** @return array<string, mixed> */
    public function workflow(string $workflowType): array
    {
        $workflow = $this->document['workflows'][$workflowType] ?? null;
        if (!is_array($workflow)) {
            throw new \InvalidArgumentException("The orderflow contract has no workflow {$workflowType}.");
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
            if (InputRules::json($before) !== InputRules::json($now)) {
                $differences[] = ['field' => $field, 'existing' => $before, 'requested' => $now];
            }
        }
        return $differences;
    }

    /** @param array<string, mixed> $values */
    private static function fill(string $template, array $values): string
    {
        return preg_replace_callback('/\{(\w+)\}/', static function (array $match) use ($template, $values): string {
            $value = $values[$match[1]] ?? null;
            if (!is_string($value) && !is_int($value)) {
                throw new \LogicException("The template {$template} needs {$match[1]}; the input has none.");
            }
            return (string) $value;
        }, $template);
    }
}
