/** Payload encryption: the keys, the AES-256-GCM codec and the data converter of every client and the worker (docs/encryption.md). */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import type { DataConverter, Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { errorCode } from '../config-reader.ts';
import type { Environment } from '../config-reader.ts';

export const encryptedEncoding = 'binary/encrypted';
export const keyIdMetadataKey = 'encryption-key-id';
export const encryptionKeysVariable = 'ORDERFLOW_ENCRYPTION_KEYS';
const ivBytes = 12;
const tagBytes = 16;
const keyBytes = 32;
/** A key id is printed in messages and stored in clear in each payload. */
const keyIdShape = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const base64Shape = /^[A-Za-z0-9+/]+={0,2}$/;

type ProtoPayloadType = typeof import('@temporalio/proto').temporal.api.common.v1.Payload;
let protoPayload: Promise<ProtoPayloadType> | undefined;
/** Temporal's `Payload` message, loaded on first use: every command reads this module, few code payloads. */
function loadProtoPayload(): Promise<ProtoPayloadType> {
  protoPayload ??= import('@temporalio/proto').then((module) => module.default.temporal.api.common.v1.Payload);
  return protoPayload;
}
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** The configured keys. Prints only the key ids, never key material. */
export class EncryptionKeys {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly encryptingKeyId: string;
  /** The encrypting one first. */
  readonly keyIds: readonly string[];

  constructor(entries: ReadonlyArray<readonly [string, Buffer]>) {
    const first = entries[0];
    if (first === undefined) throw new Error('EncryptionKeys needs at least one key');
    this.#keys = new Map(entries.map(([id, key]) => [id, Buffer.from(key)]));
    this.encryptingKeyId = first[0];
    this.keyIds = Object.freeze(entries.map(([id]) => id));
    Object.freeze(this);
  }

  key(keyId: string): Buffer | undefined {
    return this.#keys.get(keyId);
  }

  toString(): string {
    return `encryption keys ${this.keyIds.join(', ')} (encrypting with ${this.encryptingKeyId})`;
  }

  toJSON(): { keyIds: readonly string[]; encryptingKeyId: string } {
    return { keyIds: this.keyIds, encryptingKeyId: this.encryptingKeyId };
  }

  [inspect.custom](): string {
    return `EncryptionKeys ${inspect(this.toJSON())}`;
  }
}

/** Reads `ORDERFLOW_ENCRYPTION_KEYS` / `_FILE`: the keys (undefined: off) or problems that never show a key. */
export function readEncryptionKeys(env: Environment): { keys: EncryptionKeys | undefined; problems: string[] } {
  const name = encryptionKeysVariable;
  const fileName = `${name}_FILE`;
  const direct = env[name] || undefined;
  const filePath = env[fileName] || undefined;
  if (direct !== undefined && filePath !== undefined) {
    return { keys: undefined, problems: [`${name} and ${fileName} are both set; set only one of them.`] };
  }
  let entries: string[];
  let source: string;
  if (filePath !== undefined) {
    let text: string;
    try {
      text = readFileSync(filePath, 'utf8');
    } catch (error) {
      const code = errorCode(error);
      return { keys: undefined, problems: [`${fileName} names the file ${filePath}, which cannot be read (${code}); fix the path or the file's permissions.`] };
    }
    source = `${fileName} (${filePath})`;
    entries = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    if (entries.length === 0) return { keys: undefined, problems: [`the file ${filePath} (from ${fileName}) holds no key; write one keyId=base64 entry per line, or unset ${fileName} to turn encryption off.`] };
  } else if (direct !== undefined) {
    source = name;
    entries = direct.split(',').map((entry) => entry.trim());
  } else {
    return { keys: undefined, problems: [] };
  }
  const problems: string[] = [];
  const parsed = new Map<string, Buffer>();
  const how = `each entry is keyId=<base64 of ${keyBytes} random bytes>, e.g. made with: node -e "console.log('k1=' + require('crypto').randomBytes(32).toString('base64'))"`;
  entries.forEach((entry, index) => {
    const position = `entry ${index + 1} of ${source}`;
    const equals = entry.indexOf('=');
    const keyId = entry.slice(0, Math.max(equals, 0)).trim();
    const encoded = entry.slice(equals + 1).trim();
    const key = base64Shape.test(encoded) ? Buffer.from(encoded, 'base64') : undefined;
    if (equals <= 0 || encoded === '') {
      // A bare base64 key ends in "=": the same mistake, a key without its id.
      problems.push(`${position} is not of the form keyId=key (no key id, or nothing after "="); ${how}.`);
    } else if (!keyIdShape.test(keyId)) {
      problems.push(`${position} has a key id that is not a plain name (letters, digits, ".", "_", "-"; at most 64); ${how}.`);
    } else if (key === undefined || key.length !== keyBytes) {
      problems.push(`${position} (key id ${keyId}) is not the base64 of exactly ${keyBytes} bytes${key === undefined ? '' : ` (it decodes to ${key.length})`}; ${how}.`);
    } else if (parsed.has(keyId)) {
      problems.push(`${position} repeats the key id ${keyId}; each key needs its own id.`);
    } else {
      parsed.set(keyId, key);
    }
  });
  return { keys: problems.length > 0 ? undefined : new EncryptionKeys([...parsed]), problems };
}

/** A payload that cannot be decrypted: its key is not configured, or it fails authentication. */
export class PayloadKeyError extends Error {
  override readonly name = 'PayloadKeyError';
  readonly keyId: string | undefined;

  constructor(message: string, keyId: string | undefined) {
    super(message);
    this.keyId = keyId;
  }
}

/** The PayloadKeyError in `error` or its causes, if any (the SDK wraps codec errors). */
export function findPayloadKeyError(error: unknown): PayloadKeyError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (current instanceof PayloadKeyError) return current;
    current = typeof current === 'object' && 'cause' in current ? current.cause : undefined;
  }
  return undefined;
}

function metadataText(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value === undefined || value === null ? undefined : textDecoder.decode(value);
}

type PayloadKeyErrorListener = (error: PayloadKeyError, workflowId: string | undefined) => void;

export class AesGcmPayloadCodec implements PayloadCodec {
  readonly #keys: EncryptionKeys;
  readonly #onKeyError: PayloadKeyErrorListener | undefined;

  constructor(keys: EncryptionKeys, options: { onKeyError?: PayloadKeyErrorListener } = {}) {
    this.#keys = keys;
    this.#onKeyError = options.onKeyError;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const ProtoPayload = await loadProtoPayload();
    const keyId = this.#keys.encryptingKeyId;
    const key = this.#keys.key(keyId) as Buffer;
    return payloads.map((payload) => {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([iv, cipher.update(ProtoPayload.encode(payload).finish()), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: { [METADATA_ENCODING_KEY]: textEncoder.encode(encryptedEncoding), [keyIdMetadataKey]: textEncoder.encode(keyId) },
        data: new Uint8Array(sealed),
      };
    });
  }

  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const ProtoPayload = await loadProtoPayload();
    try {
      return payloads.map((payload) => this.#decodeOne(ProtoPayload, payload));
    } catch (error) {
      if (error instanceof PayloadKeyError) this.#onKeyError?.(error, context?.workflowId);
      throw error;
    }
  }

  #decodeOne(ProtoPayload: ProtoPayloadType, payload: Payload): Payload {
    if (metadataText(payload, METADATA_ENCODING_KEY) !== encryptedEncoding) return payload;
    const keyId = metadataText(payload, keyIdMetadataKey);
    const configured = `the configured keys are ${this.#keys.keyIds.join(', ')}`;
    if (keyId === undefined) {
      throw new PayloadKeyError(`An encrypted payload names no encryption key id (metadata ${keyIdMetadataKey}); it was not written by orderflow's codec and cannot be read (${configured}).`, undefined);
    }
    const key = this.#keys.key(keyId);
    if (key === undefined) {
      throw new PayloadKeyError(
        `A payload is encrypted with the key "${keyId}", which is not configured here (${configured}); ` +
          `add that key to ${encryptionKeysVariable} (or its _FILE) after the encrypting one, e.g. ${this.#keys.encryptingKeyId}=…,${keyId}=…, and restart.`,
        keyId,
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < ivBytes + tagBytes) {
      throw new PayloadKeyError(`A payload encrypted with the key "${keyId}" is too short to be one (${data.length} bytes); it was damaged or not written by orderflow's codec.`, keyId);
    }
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, ivBytes));
      decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
      plain = Buffer.concat([decipher.update(bytes.subarray(ivBytes, bytes.length - tagBytes)), decipher.final()]);
    } catch {
      throw new PayloadKeyError(
        `A payload encrypted with the key "${keyId}" fails authentication with the configured key of that id: ` +
          `the key under "${keyId}" in ${encryptionKeysVariable} is not the one it was written with (or the payload was altered); give "${keyId}" its original value.`,
        keyId,
      );
    }
    const decoded = ProtoPayload.decode(plain);
    // protobufjs hands out Buffers over `plain`: give plain Uint8Arrays of their own.
    const metadata = Object.entries(decoded.metadata ?? {}).map(([name, value]) => [name, new Uint8Array(value)]);
    return { metadata: Object.fromEntries(metadata), data: new Uint8Array(decoded.data ?? new Uint8Array()) };
  }
}

/** What encryption covers and what it cannot, for the caller contract and docs/encryption.md. */
export const encryptionScope = Object.freeze({
  encrypted: Object.freeze([
    'workflow input and result',
    'signal and update arguments, update and query results',
    'the UI summary and details given at start (userMetadata), timer summaries, current details (the __temporal_workflow_metadata query answer)',
    'activity inputs and results, local activity results',
    'failure messages and stack traces (moved into encodedAttributes), failure details',
  ]),
  inClear: Object.freeze([
    'workflow ids (business keys: store user and order ids, the adjustCredit request id)',
    'workflow types, task queues, activity types, signal, update and query names',
    'search attributes (store user id, order id, JustClick bill id, state, step, bulk id and counts)',
    'the message of an operator decision a run refuses (DecisionRefused: names the field and the allowed actions, never what was typed)',
    'the SDK\'s own marker data (patch ids; a local activity\'s attempt, type and times)',
  ]),
});

/** Bundled into the workflow sandbox when encryption is on. */
const encryptingFailureConverterPath = fileURLToPath(
  new URL(`./encrypting-failure-converter${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url),
);

/** The data converter of every orderflow client and the worker; the worker logs key errors with `onKeyError`. */
export function orderflowDataConverter(keys: EncryptionKeys | undefined, options: { onKeyError?: PayloadKeyErrorListener } = {}): DataConverter {
  if (keys === undefined) return {};
  return { payloadCodecs: [new AesGcmPayloadCodec(keys, options)], failureConverterPath: encryptingFailureConverterPath };
}
