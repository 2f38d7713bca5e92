/**
 * Generates the caller contract, clients/php/resources/orderflow.contract.json: what a
 * backend in any language needs to start and steer orderflow runs over Temporal's HTTP
 * API. It is built from the workflow registry (src/client/workflow-registry.ts: types, id
 * templates, policies, search attributes at start, summaries) and from the types in
 * src/contracts.ts (turned into JSON Schemas by the TypeScript compiler), so nothing is
 * written twice. test/contract/contract.test.ts fails when the committed file is stale;
 * `npm run contract` (scripts/contract.ts) rewrites it.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { adjustmentDigest, idSeparator } from '../src/business-keys.ts';
import { workflowIdPattern } from '../src/client/workflow-ids.ts';
import { idPolicies, operatorMessages, stateAtStart, workflowRegistry } from '../src/client/workflow-registry.ts';
import type { WorkflowTypeName } from '../src/client/workflow-registry.ts';
import { startOptions } from '../src/cli/start-options.ts';
import { searchAttributeRegistrations } from '../src/search-attributes.ts';
import { controlCharacters } from '../src/single-line-text.ts';
import { encryptedEncoding, encryptionScope, keyIdMetadataKey } from '../src/temporal/encryption.ts';

export const contractPath = fileURLToPath(new URL('../clients/php/resources/orderflow.contract.json', import.meta.url));
const contractsSource = fileURLToPath(new URL('../src/contracts.ts', import.meta.url));

type JsonSchema = { [keyword: string]: unknown };

/** JSON Schemas of the named interfaces in src/contracts.ts and of every interface they use. */
class SchemaBuilder {
  readonly definitions: Record<string, JsonSchema> = {};
  readonly #checker: ts.TypeChecker;
  readonly #interfaces = new Map<string, ts.InterfaceDeclaration>();

  constructor() {
    const program = ts.createProgram([contractsSource], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, noEmit: true, allowImportingTsExtensions: true });
    this.#checker = program.getTypeChecker();
    const source = program.getSourceFile(contractsSource);
    if (!source) throw new Error(`The TypeScript compiler cannot read ${contractsSource}.`);
    source.forEachChild((node) => {
      if (ts.isInterfaceDeclaration(node)) this.#interfaces.set(node.name.text, node);
    });
  }

  /** A `$ref` to the named interface, defining it (and what it uses) on first use. */
  reference(name: string): JsonSchema {
    const declaration = this.#interfaces.get(name);
    if (!declaration) throw new Error(`src/contracts.ts has no interface ${name} (named by the workflow registry).`);
    if (!(name in this.definitions)) {
      this.definitions[name] = {}; // placeholder against cycles
      const schema = this.#objectSchema(this.#checker.getTypeAtLocation(declaration));
      const description = ts.displayPartsToString(this.#checker.getSymbolAtLocation(declaration.name)?.getDocumentationComment(this.#checker));
      this.definitions[name] = description ? { description, ...schema } : schema;
    }
    return { $ref: `#/$defs/${name}` };
  }

  #schema(type: ts.Type): JsonSchema {
    const flags = type.flags;
    if (flags & ts.TypeFlags.Boolean) return { type: 'boolean' };
    if (type.isUnion()) {
      const members = type.types.filter((member) => !(member.flags & ts.TypeFlags.Undefined));
      const booleans = members.filter((member) => member.flags & ts.TypeFlags.BooleanLiteral);
      const rest = members.filter((member) => !(member.flags & ts.TypeFlags.BooleanLiteral));
      const schemas = [...(booleans.length === 2 ? [{ type: 'boolean' }] : booleans.map((member) => this.#schema(member))), ...rest.map((member) => this.#schema(member))];
      if (schemas.length === 1) return schemas[0]!;
      if (schemas.every((schema) => 'const' in schema && typeof schema['const'] === 'string')) return { type: 'string', enum: schemas.map((schema) => schema['const']) };
      return { anyOf: schemas };
    }
    if (type.isStringLiteral()) return { const: type.value };
    if (type.isNumberLiteral()) return { const: type.value };
    if (flags & ts.TypeFlags.BooleanLiteral) return { const: this.#checker.typeToString(type) === 'true' };
    if (flags & ts.TypeFlags.String) return { type: 'string' };
    if (flags & ts.TypeFlags.Number) return { type: 'number' };
    if (flags & ts.TypeFlags.Null) return { type: 'null' };
    if (flags & (ts.TypeFlags.Unknown | ts.TypeFlags.Any)) return {};
    if (this.#checker.isArrayType(type)) {
      const [item] = this.#checker.getTypeArguments(type as ts.TypeReference);
      return { type: 'array', items: item ? this.#schema(item) : {} };
    }
    const symbol = type.getSymbol();
    if (symbol && this.#interfaces.has(symbol.getName()) && symbol.flags & ts.SymbolFlags.Interface) return this.reference(symbol.getName());
    if (flags & ts.TypeFlags.Object) return this.#objectSchema(type);
    throw new Error(`The contract generator cannot describe the type ${this.#checker.typeToString(type)}.`);
  }

  #objectSchema(type: ts.Type): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const property of this.#checker.getPropertiesOfType(type)) {
      const propertyType = this.#checker.getTypeOfSymbol(property);
      const description = ts.displayPartsToString(property.getDocumentationComment(this.#checker));
      const schema = this.#schema(propertyType);
      properties[property.getName()] = description ? { description, ...schema } : schema;
      if (!(property.flags & ts.SymbolFlags.Optional)) required.push(property.getName());
    }
    const index = this.#checker.getIndexInfoOfType(type, ts.IndexKind.String);
    return {
      type: 'object',
      properties,
      ...(required.length > 0 ? { required } : {}),
      additionalProperties: index ? this.#schema(index.type) : false,
    };
  }
}

const apiEnum = {
  conflict: `WORKFLOW_ID_CONFLICT_POLICY_${idPolicies.conflict}`,
  reuse: `WORKFLOW_ID_REUSE_POLICY_${idPolicies.reuse}`,
};

export function buildContract(): Record<string, unknown> {
  const schemas = new SchemaBuilder();
  const workflows = Object.fromEntries(
    Object.entries(workflowRegistry).map(([name, registration]) => [
      name,
      {
        workflowType: name,
        cliCommand: `orderflow start ${startOptions[name as WorkflowTypeName].name}`,
        summary: startOptions[name as WorkflowTypeName].summary,
        workflowIdTemplate: registration.idTemplate,
        workflowIdConflictPolicy: apiEnum.conflict,
        workflowIdReusePolicy: apiEnum.reuse,
        sameRequestFields: registration.sameRequestFields,
        searchAttributesAtStart: [
          { name: stateAtStart.attribute, value: stateAtStart.value },
          ...Object.entries(registration.searchAttributesAtStart).map(([attribute, field]) => ({ name: attribute, field })),
        ],
        staticSummaryTemplate: registration.summary,
        staticDetailsRows: registration.details.map(([label, field, whenAbsent]) => ({ label, field, ...(whenAbsent === undefined ? {} : { whenAbsent }) })),
        input: schemas.reference(registration.contractTypes.input),
        result: schemas.reference(registration.contractTypes.result),
        signals: [...operatorMessages.signals, ...registration.extraSignals].map((signal) => ({ name: signal.name, argument: schemas.reference(signal.argument) })),
        updates: operatorMessages.updates.map((update) => ({ name: update.name, argument: schemas.reference(update.argument), result: schemas.reference(update.result) })),
        queries: operatorMessages.queries.map((query) => ({ name: query.name, result: schemas.reference(query.result) })),
      },
    ]),
  );
  return {
    $comment: 'Generated by `npm run contract` from src/client/workflow-registry.ts and src/contracts.ts. Do not edit.',
    name: 'orderflow',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    workflowIds: {
      separator: idSeparator,
      allowedCharacters: workflowIdPattern.source,
      placeholders: '{field} is the normalised input field (see the input rules); an optional workflow id prefix goes before the whole id',
      adjustCreditRequestIdDefault: {
        description: 'Without requestId, adjustCredit uses this digest of the normalised input as {requestId}: JSON.stringify of the array of values (no spaces, "/" and non-ASCII unescaped), sha256, hex, first digits',
        fields: adjustmentDigest.fields,
        algorithm: adjustmentDigest.algorithm,
        hexDigits: adjustmentDigest.hexDigits,
      },
    },
    singleLineText: {
      description:
        'Every text field (reasons, descriptions, requestedBy, operator names and notes) and every workflow id is refused when it holds one of these characters: ' +
        'control characters (Cc), line and paragraph separators, and invisible format characters (Cf: bidirectional controls such as U+202E, zero-width characters, U+FEFF, the soft hyphen). ' +
        'A workflow refuses such input itself (InvalidInput), before any effect',
      refusedCharacters: controlCharacters.source,
      regexFlags: controlCharacters.flags,
    },
    sameRequest: 'A start for a business key that already has a run (running, or completed) must carry the same values in sameRequestFields as the input that run started with; otherwise it is a conflict and nothing starts',
    searchAttributes: Object.fromEntries(searchAttributeRegistrations.map(({ name, cliType }) => [name, cliType])),
    payloadEncryption: {
      description:
        'When orderflow runs with ORDERFLOW_ENCRYPTION_KEYS (npm start does), every payload below is stored encrypted. A backend sends the values it gives Temporal ' +
        'through the codec server\'s /encode and the payloads it reads through /decode (docs/encryption.md; the PHP client does it with Orderflow\\PayloadCodec). ' +
        'Payloads without this encoding are read as they are.',
      encoding: encryptedEncoding,
      keyIdMetadata: keyIdMetadataKey,
      codecServer: {
        encode: 'POST <codec server URL>/encode',
        decode: 'POST <codec server URL>/decode',
        body: '{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]} (protobuf JSON of temporal.api.common.v1.Payloads), answered in the same shape',
        headers: ['Content-Type: application/json', 'X-Namespace: <namespace>', 'Authorization: Bearer <ORDERFLOW_CODEC_SERVER_TOKEN> (unless the codec server is open on loopback)'],
      },
      encrypted: encryptionScope.encrypted,
      inClear: encryptionScope.inClear,
    },
    workflows,
    $defs: Object.fromEntries(Object.entries(schemas.definitions).sort(([a], [b]) => a.localeCompare(b))),
  };
}

export function renderContract(): string {
  return `${JSON.stringify(buildContract(), null, 2)}\n`;
}
