/** The Temporal connection, read with @temporalio/envconfig as the `temporal` CLI does (docs/configuration.md); no secret in a problem. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConfig, loadClientConfigProfile, loadConfigData, toClientOptions } from '@temporalio/envconfig';
import type { ClientConfigProfile, ClientConfigTLS, ConfigDataSource } from '@temporalio/envconfig';
import { EnvReader, errorCode, messageOf } from '../config-reader.ts';
import type { Environment } from '../config-reader.ts';

export const defaultTemporalAddress = 'localhost:7233';
export const defaultTemporalNamespace = 'default';

/** The options both `Connection.connect` (client) and `NativeConnection.connect` (worker) take. */
export interface TemporalConnectionOptions {
  readonly address: string;
  readonly tls: TLSConfig | boolean | undefined;
  readonly apiKey: string | undefined;
  readonly metadata: Record<string, string> | undefined;
}

/** What is safe to print about a connection. */
export type TemporalConnectionSummary = Pick<
  TemporalConnectionSettings,
  'address' | 'namespace' | 'profile' | 'configFile' | 'tls' | 'credential'
>;

/** A checked Temporal connection. Prints as its summary: never the API key or a client key. */
export class TemporalConnectionSettings {
  declare readonly address: string;
  declare readonly namespace: string;
  declare readonly profile: string | undefined;
  declare readonly configFile: string | undefined;
  /** `off`, or `on` with what it uses (CA, server name). */
  declare readonly tls: string;
  /** `none`, `API key`, `client certificate`, or both. */
  declare readonly credential: string;
  readonly #options: TemporalConnectionOptions;

  constructor(summary: TemporalConnectionSummary, options: TemporalConnectionOptions) {
    Object.assign(this, summary);
    this.#options = Object.freeze({ ...options });
    Object.freeze(this);
  }

  /** The options to connect with (holds the credential: never log it). */
  connectionOptions(): TemporalConnectionOptions {
    return this.#options;
  }

  /** e.g. `localhost:7233 (namespace default, TLS off, credential none)`. */
  describe(): string {
    const from = this.profile === undefined ? '' : `, profile ${this.profile} of ${this.configFile ?? 'the config file'}`;
    return `${this.address} (namespace ${this.namespace}, TLS ${this.tls}, credential ${this.credential}${from})`;
  }

  toJSON(): TemporalConnectionSummary {
    return { ...this };
  }

  [inspect.custom](): string {
    return `TemporalConnectionSettings ${inspect(this.toJSON())}`;
  }
}

/** `host:port`, `host`, `[v6]:port`; no scheme. */
const addressShape = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$/;
const withoutWhitespace = /^\S+$/;

/** The config file envconfig will read (its own rule), for messages; undefined when none can be. */
function configFilePath(env: Record<string, string>): string | undefined {
  const explicit = env['TEMPORAL_CONFIG_FILE'];
  if (explicit !== undefined) return explicit;
  const base = env['XDG_CONFIG_HOME'] ?? (env['HOME'] === undefined ? undefined : join(env['HOME'], '.config'));
  return base === undefined ? undefined : join(base, 'temporalio', 'temporal.toml');
}

function fileExists(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads and checks the connection: the settings, or undefined with one sentence per problem. Empty counts as unset. */
export function readTemporalConnection(rawEnv: Environment): { settings: TemporalConnectionSettings | undefined; problems: string[] } {
  const problems: string[] = [];
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(rawEnv)) if (value !== undefined && value !== '') env[name] = value;

  // TEMPORAL_API_KEY may come from a file, as every orderflow secret may.
  if (env['TEMPORAL_API_KEY_FILE'] !== undefined) {
    const reader = new EnvReader(env, () => ({ required: false, secret: true, fileVariant: true }));
    const key = reader.read('TEMPORAL_API_KEY', 'Temporal');
    problems.push(...reader.problems);
    if (key !== undefined) env['TEMPORAL_API_KEY'] = key;
  }
  const tlsFlag = env['TEMPORAL_TLS'];
  if (tlsFlag !== undefined && !['true', '1', 'false', '0'].includes(tlsFlag)) {
    problems.push(`TEMPORAL_TLS (${JSON.stringify(tlsFlag)}) must be true or false (1 or 0).`);
  }

  const filePath = configFilePath(env);
  const fileUsed = filePath !== undefined && fileExists(filePath) ? filePath : undefined;
  if (env['TEMPORAL_CONFIG_FILE'] !== undefined && fileUsed === undefined) {
    problems.push(`TEMPORAL_CONFIG_FILE names the file ${env['TEMPORAL_CONFIG_FILE']}, which cannot be read; fix the path, or unset it to use the variables alone.`);
  }
  const fileLabel = fileUsed === undefined ? 'the Temporal config file' : `the Temporal config file ${fileUsed}`;
  let profile: ClientConfigProfile | undefined;
  let profileName: string | undefined;
  let profiles: Record<string, ClientConfigProfile> | undefined;
  try {
    profiles = loadClientConfig({ overrideEnvVars: env }).profiles;
  } catch (error) {
    // A TOML syntax error or a malformed entry: smol-toml's message names the line, not a value.
    problems.push(`${fileLabel} cannot be used: ${messageOf(error).split('\n')[0]}; fix the file or set TEMPORAL_CONFIG_FILE to another one.`);
  }
  if (profiles !== undefined) {
    const wanted = env['TEMPORAL_PROFILE'];
    profileName = wanted ?? (profiles['default'] === undefined ? undefined : 'default');
    const profileMissing = wanted !== undefined && profiles[wanted] === undefined;
    if (profileMissing) {
      const known = Object.keys(profiles);
      problems.push(
        fileUsed === undefined
          ? `TEMPORAL_PROFILE is ${JSON.stringify(wanted)}, but there is no Temporal config file${filePath === undefined ? '' : ` (looked for ${filePath})`}; ` +
              'set TEMPORAL_CONFIG_FILE to the file that has this profile, or unset TEMPORAL_PROFILE.'
          : `TEMPORAL_PROFILE is ${JSON.stringify(wanted)}, but ${fileLabel} has no such profile ` +
              `(${known.length === 0 ? 'it has none' : `it has: ${known.join(', ')}`}); add [profile.${wanted}] or fix TEMPORAL_PROFILE.`,
      );
    }
    try {
      // Without the profile asked for, the variables alone are still checked (every problem at once).
      profile = loadClientConfigProfile({ overrideEnvVars: env, ...(profileMissing ? { disableFile: true } : {}) });
    } catch (error) {
      // e.g. "Cannot specify both client_key_path and client_key_data": names keys, not values.
      problems.push(`the Temporal connection settings (the TEMPORAL_* variables and ${fileLabel}) cannot be used: ${messageOf(error)}.`);
    }
  }
  if (profile === undefined) return { settings: undefined, problems };
  const where = profileName === undefined ? fileLabel : `profile ${profileName} of ${fileLabel}`;
  const fromFile = (variable: string, key: string): string => (env[variable] !== undefined ? variable : `${key} in ${where}`);

  const address = profile.address ?? defaultTemporalAddress;
  const addressMatch = addressShape.exec(address);
  const addressPort = addressMatch?.[1] === undefined ? undefined : Number(addressMatch[1]);
  if (addressMatch === null) {
    problems.push(`${fromFile('TEMPORAL_ADDRESS', 'address')} (${JSON.stringify(address)}) must be host:port without a scheme, e.g. localhost:7233 or temporal.internal:7233.`);
  } else if (addressPort !== undefined && !(addressPort >= 1 && addressPort <= 65535)) {
    problems.push(`${fromFile('TEMPORAL_ADDRESS', 'address')} (${JSON.stringify(address)}) has no valid port; the port after the colon must be 1-65535, e.g. localhost:7233.`);
  }
  const namespace = profile.namespace ?? defaultTemporalNamespace;
  if (!withoutWhitespace.test(namespace)) {
    problems.push(`${fromFile('TEMPORAL_NAMESPACE', 'namespace')} (${JSON.stringify(namespace)}) must not contain whitespace.`);
  }
  const apiKey = profile.apiKey;
  if (apiKey !== undefined && !withoutWhitespace.test(apiKey)) {
    // Never repeated: it is a secret.
    problems.push(`${fromFile('TEMPORAL_API_KEY', 'api_key')} contains whitespace; it must be the API key exactly as issued.`);
  }

  const tlsProblems = checkTls(profile.tls, fromFile);
  problems.push(...tlsProblems);
  let tls: TLSConfig | boolean | undefined;
  if (tlsProblems.length === 0) {
    try {
      // envconfig's own rule: TLS on with a TLS setting or an API key.
      tls = toClientOptions(profile).connectionOptions.tls ?? undefined;
    } catch (error) {
      problems.push(`the TLS settings of ${where} cannot be used: ${messageOf(error)}.`);
    }
  }
  if (problems.length > 0) return { settings: undefined, problems };

  const clientCertificate = typeof tls === 'object' && tls.clientCertPair !== undefined;
  const credentials = [apiKey !== undefined && 'API key', clientCertificate && 'client certificate'];
  const summary: TemporalConnectionSummary = {
    address,
    namespace,
    profile: fileUsed === undefined ? undefined : profileName,
    configFile: fileUsed,
    tls: describeTls(tls, profile.tls),
    credential: credentials.filter((part) => part !== false).join(' and ') || 'none',
  };
  const options: TemporalConnectionOptions = { address, tls, apiKey, metadata: profile.grpcMeta };
  return { settings: new TemporalConnectionSettings(summary, options), problems };
}

function describeTls(tls: TLSConfig | boolean | undefined, source: ClientConfigTLS | undefined): string {
  if (tls === undefined || tls === false) return 'off';
  const parts = [source?.serverCACert === undefined ? 'system CAs' : 'CA from the configuration'];
  if (source?.serverName !== undefined) parts.push(`server name ${source.serverName}`);
  return `on (${parts.join(', ')})`;
}

/** Each TLS file is readable and holds PEM of the right kind; a certificate comes with its key. */
function checkTls(tls: ClientConfigTLS | undefined, nameOf: (variable: string, key: string) => string): string[] {
  const problems: string[] = [];
  // Files given are checked even with TLS off: a wrong path is a mistake either way.
  if (tls === undefined) return problems;
  const entries: Array<{ source: ConfigDataSource | undefined; kind: 'server-ca' | 'client-cert' | 'client-key'; variable: string; key: string }> = [
    { source: tls.serverCACert, kind: 'server-ca', variable: 'TEMPORAL_TLS_SERVER_CA_CERT', key: 'server_ca_cert' },
    { source: tls.clientCert, kind: 'client-cert', variable: 'TEMPORAL_TLS_CLIENT_CERT', key: 'client_cert' },
    { source: tls.clientKey, kind: 'client-key', variable: 'TEMPORAL_TLS_CLIENT_KEY', key: 'client_key' },
  ];
  for (const entry of entries) {
    const source = entry.source;
    if (source === undefined) continue;
    const byPath = 'path' in source;
    const name = nameOf(`${entry.variable}_${byPath ? 'PATH' : 'DATA'}`, `${entry.key}_${byPath ? 'path' : 'data'}`);
    let text: string;
    try {
      text = Buffer.from(loadConfigData(source) ?? []).toString('utf8');
    } catch (error) {
      const path = byPath ? source.path : '';
      problems.push(`${name} names the file ${path}, which cannot be read (${errorCode(error)}); fix the path or the file's permissions.`);
      continue;
    }
    const wanted = entry.kind === 'client-key' ? /-----BEGIN [A-Z ]*PRIVATE KEY-----/ : /-----BEGIN CERTIFICATE-----/;
    if (!wanted.test(text)) {
      // Not quoted: a key is a secret, and a certificate in the wrong place may be one.
      const what = entry.kind === 'client-key' ? 'a PEM private key' : 'a PEM certificate';
      problems.push(`${name} does not hold ${what} (-----BEGIN ...-----); give the ${entry.kind === 'server-ca' ? "CA certificate that signed the server's certificate" : entry.kind === 'client-cert' ? 'client certificate' : "client certificate's private key"}.`);
    }
  }
  if ((tls.clientCert === undefined) !== (tls.clientKey === undefined)) {
    problems.push(
      tls.clientCert === undefined
        ? 'A TLS client key is set but no client certificate; set TEMPORAL_TLS_CLIENT_CERT_PATH (or client_cert_path in the profile) too.'
        : 'A TLS client certificate is set but no client key; set TEMPORAL_TLS_CLIENT_KEY_PATH (or client_key_path in the profile) too.',
    );
  }
  return problems;
}
