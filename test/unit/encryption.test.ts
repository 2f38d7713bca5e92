/**
 * The payload codec (src/temporal/encryption.ts): AES-256-GCM round trips, the key id in
 * each payload, rotation, wrong and unknown keys, pass-through of unencrypted payloads, and
 * the refusals of malformed key configuration (which never print key material).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import { AesGcmPayloadCodec, EncryptionKeys, PayloadKeyError, orderflowDataConverter, readEncryptionKeys } from '../../src/temporal/encryption.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');

function keys(value: string): EncryptionKeys {
  const { keys: read, problems } = readEncryptionKeys({ ORDERFLOW_ENCRYPTION_KEYS: value });
  expect(problems).toEqual([]);
  if (read === undefined) throw new Error('no keys read');
  return read;
}

const text = (bytes: Uint8Array | null | undefined): string => new TextDecoder().decode(bytes ?? new Uint8Array());
const customer = { reason: 'parcel arrived crushed, Mrs Ivanova', amount: '12.34' };

describe('AesGcmPayloadCodec', () => {
  it('encrypts each payload under the first key, names the key id, and decodes it back exactly', async () => {
    const codec = new AesGcmPayloadCodec(keys(`A=${keyA},B=${keyB}`));
    const plain = defaultPayloadConverter.toPayload(customer);
    const [encoded] = await codec.encode([plain]);
    expect(text(encoded?.metadata?.['encoding'])).toBe('binary/encrypted');
    expect(text(encoded?.metadata?.['encryption-key-id'])).toBe('A');
    expect(Buffer.from(encoded!.data!).includes('Ivanova')).toBe(false);
    expect(Buffer.from(encoded!.data!).includes('12.34')).toBe(false);
    const [decoded] = await codec.decode([encoded!]);
    expect(decoded).toEqual(plain);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(customer);
  });

  it('uses a fresh IV for each payload: the same value twice gives two different ciphertexts', async () => {
    const codec = new AesGcmPayloadCodec(keys(`A=${keyA}`));
    const plain = defaultPayloadConverter.toPayload(customer);
    const [first, second] = await codec.encode([plain, plain]);
    expect(Buffer.from(first!.data!).equals(Buffer.from(second!.data!))).toBe(false);
    expect(Buffer.from(first!.data!).subarray(0, 12).equals(Buffer.from(second!.data!).subarray(0, 12))).toBe(false);
  });

  it('passes payloads that are not encrypted through decode untouched (runs written before the key)', async () => {
    const codec = new AesGcmPayloadCodec(keys(`A=${keyA}`));
    const plain = defaultPayloadConverter.toPayload(customer);
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('rotation: a payload written under A stays readable after the keys become B,A, and new ones use B', async () => {
    const [underA] = await new AesGcmPayloadCodec(keys(`A=${keyA}`)).encode([defaultPayloadConverter.toPayload(customer)]);
    const rotated = new AesGcmPayloadCodec(keys(`B=${keyB},A=${keyA}`));
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([underA!]))[0]!)).toEqual(customer);
    const [underB] = await rotated.encode([defaultPayloadConverter.toPayload(customer)]);
    expect(text(underB?.metadata?.['encryption-key-id'])).toBe('B');
  });

  it('an unknown key id is a PayloadKeyError naming the key and the variable to add it to', async () => {
    const [underA] = await new AesGcmPayloadCodec(keys(`A=${keyA}`)).encode([defaultPayloadConverter.toPayload(customer)]);
    const error = await new AesGcmPayloadCodec(keys(`B=${keyB}`)).decode([underA!]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PayloadKeyError);
    expect((error as PayloadKeyError).keyId).toBe('A');
    expect((error as Error).message).toMatch(/key "A", which is not configured here \(the configured keys are B\); add that key to ORDERFLOW_ENCRYPTION_KEYS/);
    expect((error as Error).message).not.toContain(keyB);
  });

  it('a wrong key under the right id fails authentication, named, without key material', async () => {
    const [underA] = await new AesGcmPayloadCodec(keys(`A=${keyA}`)).encode([defaultPayloadConverter.toPayload(customer)]);
    const error = await new AesGcmPayloadCodec(keys(`A=${keyB}`)).decode([underA!]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PayloadKeyError);
    expect((error as Error).message).toMatch(/encrypted with the key "A" fails authentication/);
    expect((error as Error).message).not.toContain(keyA);
    expect((error as Error).message).not.toContain(keyB);
  });

  it('an altered ciphertext fails authentication', async () => {
    const codec = new AesGcmPayloadCodec(keys(`A=${keyA}`));
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(customer)]);
    const data = Buffer.from(encoded!.data!);
    data[20] = (data[20] ?? 0) ^ 1;
    const altered: Payload = { metadata: encoded!.metadata, data: new Uint8Array(data) };
    await expect(codec.decode([altered])).rejects.toThrow(/fails authentication/);
  });
});

describe('ORDERFLOW_ENCRYPTION_KEYS', () => {
  it('unset or empty: encryption off, and the data converter is the default one', () => {
    expect(readEncryptionKeys({})).toEqual({ keys: undefined, problems: [] });
    expect(readEncryptionKeys({ ORDERFLOW_ENCRYPTION_KEYS: '' })).toEqual({ keys: undefined, problems: [] });
    expect(orderflowDataConverter(undefined)).toEqual({});
  });

  it('with keys: the codec and the failure converter that encodes messages and stack traces', () => {
    const converter = orderflowDataConverter(keys(`A=${keyA}`));
    expect(converter.payloadCodecs).toHaveLength(1);
    expect(converter.failureConverterPath).toMatch(/encrypting-failure-converter\.(ts|js)$/);
  });

  it('reads one key per line from the _FILE, skipping blank lines and comments', () => {
    const directory = mkdtempSync(join(tmpdir(), 'orderflow-keys-'));
    const path = join(directory, 'keys');
    writeFileSync(path, `# newest first\nB=${keyB}\n\nA=${keyA}\n`, { mode: 0o600 });
    const read = readEncryptionKeys({ ORDERFLOW_ENCRYPTION_KEYS_FILE: path }).keys;
    expect(read?.keyIds).toEqual(['B', 'A']);
    expect(read?.encryptingKeyId).toBe('B');
  });

  it('refuses both the variable and the _FILE', () => {
    expect(readEncryptionKeys({ ORDERFLOW_ENCRYPTION_KEYS: `A=${keyA}`, ORDERFLOW_ENCRYPTION_KEYS_FILE: '/nonexistent' }).problems).toEqual([
      'ORDERFLOW_ENCRYPTION_KEYS and ORDERFLOW_ENCRYPTION_KEYS_FILE are both set; set only one of them.',
    ]);
  });

  it('refuses malformed entries naming the variable and the position, never the key material', () => {
    const short = randomBytes(16).toString('base64');
    const { keys: read, problems } = readEncryptionKeys({ ORDERFLOW_ENCRYPTION_KEYS: `A=${keyA},${keyB},C=${short},A=${keyB},bad id=${keyA}` });
    expect(read).toBeUndefined();
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^entry 2 of ORDERFLOW_ENCRYPTION_KEYS is not of the form keyId=key/);
    expect(problems[1]).toMatch(/^entry 3 of ORDERFLOW_ENCRYPTION_KEYS \(key id C\) is not the base64 of exactly 32 bytes \(it decodes to 16\)/);
    expect(problems[2]).toMatch(/^entry 4 of ORDERFLOW_ENCRYPTION_KEYS repeats the key id A/);
    expect(problems[3]).toMatch(/^entry 5 of ORDERFLOW_ENCRYPTION_KEYS has a key id that is not a plain name/);
    for (const problem of problems) for (const secret of [keyA, keyB, short]) expect(problem).not.toContain(secret);
  });

  it('is read with the temporal section: a malformed value is a ConfigError at start; the keys print as their ids only', () => {
    const env = { ORDERFLOW_ENCRYPTION_KEYS: 'A=tooshort' };
    expect(() => loadConfig(env, ['temporal'])).toThrow(ConfigError);
    expect(() => loadConfig(env, ['temporal'])).toThrow(/entry 1 of ORDERFLOW_ENCRYPTION_KEYS \(key id A\)/);
    const config = loadConfig({ ORDERFLOW_ENCRYPTION_KEYS: `B=${keyB},A=${keyA}` }, ['temporal']).temporal;
    const printed = [String(config.encryption), JSON.stringify(config), inspect(config, { depth: 5 })].join('\n');
    expect(printed).toContain('B');
    expect(printed).not.toContain(keyA);
    expect(printed).not.toContain(keyB);
  });
});

describe('the failure converter with encryption on', () => {
  it('moves messages and stack traces into the encoded attributes, except an operator decision the run refuses', async () => {
    const { failureConverter, decisionRefusedType } = await import('../../src/temporal/encrypting-failure-converter.ts');
    const { ApplicationFailure } = await import('@temporalio/common');
    const encoded = failureConverter.errorToFailure(new Error('no such order for Mrs Ivanova'), defaultPayloadConverter);
    expect(encoded.message).toBe('Encoded failure');
    expect(encoded.stackTrace).toBe('');
    expect(text(encoded.encodedAttributes?.data)).toContain('Mrs Ivanova');
    expect(failureConverter.failureToError(encoded, defaultPayloadConverter).message).toBe('no such order for Mrs Ivanova');
    const refusal = failureConverter.errorToFailure(ApplicationFailure.create({ type: decisionRefusedType, message: 'decision refused: "note" must say why (a non-empty string)' }), defaultPayloadConverter);
    expect(refusal.message).toBe('decision refused: "note" must say why (a non-empty string)');
    expect(refusal.encodedAttributes).toBeFalsy();
  });
});
