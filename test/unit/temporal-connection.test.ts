/**
 * The Temporal connection read with @temporalio/envconfig (src/temporal/connection.ts):
 * variables, profiles from the TOML file, every problem in one message, no secret printed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { readTemporalConnection } from '../../src/temporal/connection.ts';

const dir = mkdtempSync(join(tmpdir(), 'orderflow-envconfig-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const pemCertificate = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const pemKey = '-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, ['temporal']);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

describe('the Temporal connection (envconfig)', () => {
  it('defaults to localhost:7233, namespace default, no TLS, no credential', () => {
    const { settings, problems } = readTemporalConnection({});
    expect(problems).toEqual([]);
    expect(settings?.toJSON()).toEqual({ address: 'localhost:7233', namespace: 'default', profile: undefined, configFile: undefined, tls: 'off', credential: 'none' });
    expect(settings?.connectionOptions()).toEqual({ address: 'localhost:7233', tls: undefined, apiKey: undefined, metadata: undefined });
  });

  it('reads a profile from the TOML file; the variables win over it', () => {
    const ca = file('ca.pem', pemCertificate);
    const configFile = file(
      'profiles.toml',
      `[profile.default]\naddress = "dev:7233"\n\n[profile.cloud]\naddress = "shop.a1b2c.tmprl.cloud:7233"\nnamespace = "shop.a1b2c"\napi_key = "key-from-file"\n` +
        `[profile.cloud.tls]\nserver_ca_cert_path = "${ca}"\n`,
    );
    const cloud = readTemporalConnection({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'cloud' });
    expect(cloud.problems).toEqual([]);
    expect(cloud.settings?.toJSON()).toEqual({
      address: 'shop.a1b2c.tmprl.cloud:7233', namespace: 'shop.a1b2c', profile: 'cloud', configFile, tls: 'on (CA from the configuration)', credential: 'API key',
    });
    expect(cloud.settings?.connectionOptions().apiKey).toBe('key-from-file');
    const overridden = readTemporalConnection({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'cloud', TEMPORAL_NAMESPACE: 'other.a1b2c', TEMPORAL_API_KEY: 'key-from-env' });
    expect(overridden.settings?.namespace).toBe('other.a1b2c');
    expect(overridden.settings?.connectionOptions().apiKey).toBe('key-from-env');
    expect(readTemporalConnection({ TEMPORAL_CONFIG_FILE: configFile }).settings?.address).toBe('dev:7233');
  });

  it('an API key turns TLS on (system CAs); it may come from a file; it is never printed', () => {
    const keyFile = file('api-key', 'key-in-a-file\n');
    const { settings, problems } = readTemporalConnection({ TEMPORAL_ADDRESS: 'shop.a1b2c.tmprl.cloud:7233', TEMPORAL_API_KEY_FILE: keyFile });
    expect(problems).toEqual([]);
    expect(settings?.connectionOptions()).toMatchObject({ tls: true, apiKey: 'key-in-a-file' });
    expect(settings?.describe()).toBe('shop.a1b2c.tmprl.cloud:7233 (namespace default, TLS on (system CAs), credential API key)');
    const config = loadConfig({ TEMPORAL_API_KEY: 'key-in-the-env', TEMPORAL_TLS_CLIENT_CERT_DATA: pemCertificate, TEMPORAL_TLS_CLIENT_KEY_DATA: pemKey }, ['temporal']);
    for (const shown of [JSON.stringify(config), inspect(config, { depth: 10 }), String(config.temporal.connection), config.temporal.connection.describe()]) {
      expect(shown).not.toContain('key-in-the-env');
      expect(shown).not.toContain('TOPSECRETKEYMATERIAL');
    }
    expect(config.temporal.connection.credential).toBe('API key and client certificate');
  });

  it('lists every problem at once, naming variables and paths but no secret', () => {
    const notPem = file('not-pem.txt', 'hello');
    const problems = problemsOf({
      TEMPORAL_ADDRESS: 'https://temporal.example.com',
      TEMPORAL_NAMESPACE: 'has space',
      TEMPORAL_API_KEY: 'secret key with spaces',
      TEMPORAL_TLS: 'maybe',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'missing-ca.pem'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: notPem,
      TEMPORAL_UI_URL: 'ftp://x',
    });
    expect(problems).toEqual([
      'TEMPORAL_TLS ("maybe") must be true or false (1 or 0).',
      'TEMPORAL_ADDRESS ("https://temporal.example.com") must be host:port without a scheme, e.g. localhost:7233 or temporal.internal:7233.',
      'TEMPORAL_NAMESPACE ("has space") must not contain whitespace.',
      'TEMPORAL_API_KEY contains whitespace; it must be the API key exactly as issued.',
      `TEMPORAL_TLS_SERVER_CA_CERT_PATH names the file ${join(dir, 'missing-ca.pem')}, which cannot be read (ENOENT); fix the path or the file's permissions.`,
      "TEMPORAL_TLS_CLIENT_CERT_PATH does not hold a PEM certificate (-----BEGIN ...-----); give the client certificate.",
      'A TLS client certificate is set but no client key; set TEMPORAL_TLS_CLIENT_KEY_PATH (or client_key_path in the profile) too.',
      'TEMPORAL_UI_URL must be an https URL ("ftp://x"), e.g. https://temporal.example.com.',
    ]);
    expect(problems.join('\n')).not.toContain('secret key with spaces');
  });

  it('names a missing profile, a missing config file and a broken one', () => {
    const configFile = file('one-profile.toml', '[profile.staging]\naddress = "staging:7233"\n');
    expect(problemsOf({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'prod' })).toEqual([
      `TEMPORAL_PROFILE is "prod", but the Temporal config file ${configFile} has no such profile (it has: staging); add [profile.prod] or fix TEMPORAL_PROFILE.`,
    ]);
    expect(problemsOf({ TEMPORAL_CONFIG_FILE: join(dir, 'nowhere.toml') })).toEqual([
      `TEMPORAL_CONFIG_FILE names the file ${join(dir, 'nowhere.toml')}, which cannot be read; fix the path, or unset it to use the variables alone.`,
    ]);
    const broken = file('broken.toml', '[profile.default\napi_key = "do-not-print"\n');
    const [problem, ...others] = problemsOf({ TEMPORAL_CONFIG_FILE: broken });
    expect(others).toEqual([]);
    expect(problem).toMatch(new RegExp(`^the Temporal config file ${broken} cannot be used: .+; fix the file or set TEMPORAL_CONFIG_FILE to another one\\.$`));
    expect(problem).not.toContain('do-not-print');
  });
});
