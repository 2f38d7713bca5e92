/**
 * Configuration from the environment: read once, validated once, frozen.
 *
 * `loadConfig(env, needs)` reads only the sections a caller needs (the CLI's
 * `api webtv` needs only `webtv`) and throws one {@link ConfigError} listing every
 * problem it found, so a person fixes them all in one go instead of one per run.
 *
 * Secrets (`WEBTV_SHARED_SECRET`, `JUSTCLICK_SECRET`, a PostgreSQL ledger URL that may
 * carry a password) are held in {@link Secret}, which prints as `[redacted]` through
 * `String()`, `JSON.stringify` and `util.inspect`; only `reveal()` gives the value.
 * Problems name the variable, never a secret's value.
 *
 * Any secret, and the WebTV key id, may instead come from a file named by the same
 * variable plus `_FILE` (as Docker and Kubernetes secrets are mounted); trailing newlines
 * in the file are trimmed. Setting both is a problem.
 *
 * {@link configVariables} lists every variable for the README's configuration table.
 */
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { inspect } from 'node:util';
import { defaultTemporalAddress, defaultTemporalNamespace, readTemporalConnection } from './temporal/connection.ts';
import type { TemporalConnectionSettings } from './temporal/connection.ts';
import { formatCents, parsePositiveAmount } from './money.ts';
import { readEncryptionKeys } from './temporal/encryption.ts';
import type { EncryptionKeys } from './temporal/encryption.ts';

export type ConfigSection = 'webtv' | 'justclick' | 'temporal' | 'ledger';

export const configSections: readonly ConfigSection[] = Object.freeze(['webtv', 'justclick', 'temporal', 'ledger']);

const redacted = '[redacted]';

/** A secret value that never prints itself. Call `reveal()` where the value is really needed. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
    Object.freeze(this);
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return redacted;
  }

  toJSON(): string {
    return redacted;
  }

  [Symbol.toPrimitive](): string {
    return redacted;
  }

  [inspect.custom](): string {
    return redacted;
  }
}

export interface WebTvConfig {
  /** Full URL of the installation's `api.php`, e.g. `https://shop.example.com/api.php`. */
  readonly apiUrl: string;
  /** The public key id that names the credential (sent with every request). */
  readonly keyId: string;
  readonly sharedSecret: Secret;
}

export interface JustClickConfig {
  readonly login: string;
  readonly secret: Secret;
  /** Base URL; the method name is appended: `<apiUrl>/DeleteOrder`. */
  readonly apiUrl: string;
}

export interface TemporalConfig {
  /** `host:port` of the Temporal frontend (the same as `connection.address`). */
  readonly address: string;
  readonly namespace: string;
  /** Address, namespace, TLS and credential, read with @temporalio/envconfig (src/temporal/connection.ts). */
  readonly connection: TemporalConnectionSettings;
  readonly taskQueue: string;
  /** Base URL of the Temporal Web UI, for links printed to operators. */
  readonly uiUrl: string;
  /** Port for the worker's Prometheus metrics endpoint; undefined: no metrics endpoint. */
  readonly metricsPort: number | undefined;
  /** Memory the worker may spend on cached workflow runs, in MB (sizes the workflow cache). */
  readonly workflowCacheMb: number;
  /**
   * A credit change above this amount (a decimal string like "100.00") waits for an
   * operator's `approve`, from an identity other than the run's starter; undefined: off.
   * The worker's value is the one runs use (they ask it through an activity).
   */
  readonly approvalAbove: string | undefined;
  /** Payload encryption keys (src/temporal/encryption.ts); undefined: encryption off. */
  readonly encryption: EncryptionKeys | undefined;
}

export type LedgerConfig =
  | { readonly kind: 'sqlite'; /** File path as written, relative to the working directory unless absolute. */ readonly path: string }
  | { readonly kind: 'postgres'; /** The connection URL; a secret since it may carry a password. */ readonly url: Secret };

export interface SectionConfigs {
  webtv: WebTvConfig;
  justclick: JustClickConfig;
  temporal: TemporalConfig;
  ledger: LedgerConfig;
}

/** The configuration of the sections asked for, and only those. */
export type Config<N extends ConfigSection = ConfigSection> = { readonly [K in N]: SectionConfigs[K] };

/** The configuration is invalid; `problems` lists each problem, one sentence each. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      `The configuration is invalid (${count}):\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n` +
        'Set the environment variables listed above (see "Configuration" in README.md) and try again.',
    );
    this.problems = Object.freeze([...problems]);
  }
}

export interface ConfigVariable {
  readonly name: string;
  /** The section that reads it. */
  readonly section: ConfigSection;
  /** True when it must be set whenever its section is needed (no default). */
  readonly required: boolean;
  /** The value used when unset, as a person would write it; null when there is none. */
  readonly default: string | null;
  /** Never printed; redacted in every output. */
  readonly secret: boolean;
  /** May be given instead as `<name>_FILE`, the path of a file holding the value. */
  readonly fileVariant: boolean;
  /** Its meaning, as the README's configuration table shows it (Markdown). */
  readonly description: string;
}

function variable(spec: ConfigVariable): ConfigVariable {
  return Object.freeze(spec);
}

/** Every variable orderflow reads, in the order the README's configuration table lists them. */
export const configVariables: readonly ConfigVariable[] = Object.freeze([
  variable({
    name: 'WEBTV_API_URL', section: 'webtv', required: true, default: null, secret: false, fileVariant: false,
    description: 'Full URL of the WebTV installation\'s `api.php`, e.g. `https://shop.example.com/api.php` (https; http only for loopback hosts).',
  }),
  variable({
    name: 'WEBTV_KEY_ID', section: 'webtv', required: true, default: null, secret: false, fileVariant: true,
    description: 'Key ID of the WebTV API credential (32 hex characters in the vendor docs).',
  }),
  variable({
    name: 'WEBTV_SHARED_SECRET', section: 'webtv', required: true, default: null, secret: true, fileVariant: true,
    description: 'Shared secret of that credential; signs every request.',
  }),
  variable({
    name: 'JUSTCLICK_LOGIN', section: 'justclick', required: true, default: null, secret: false, fileVariant: false,
    description: 'JustClick account login, also the account\'s subdomain (`<login>.justclick.ru`).',
  }),
  variable({
    name: 'JUSTCLICK_SECRET', section: 'justclick', required: true, default: null, secret: true, fileVariant: true,
    description: 'JustClick API key (signs requests and verifies every response).',
  }),
  variable({
    name: 'JUSTCLICK_API_URL', section: 'justclick', required: false, default: 'https://<login>.justclick.ru/api', secret: false, fileVariant: false,
    description: 'Base URL of the JustClick API; the method name is appended (https; http only for loopback hosts).',
  }),
  variable({
    name: 'TEMPORAL_ADDRESS', section: 'temporal', required: false, default: defaultTemporalAddress, secret: false, fileVariant: false,
    description: '`host:port` of the Temporal frontend (wins over the profile\'s `address`).',
  }),
  variable({
    name: 'TEMPORAL_NAMESPACE', section: 'temporal', required: false, default: defaultTemporalNamespace, secret: false, fileVariant: false,
    description: 'Namespace the workflows run in (wins over the profile\'s `namespace`).',
  }),
  variable({
    name: 'TEMPORAL_API_KEY', section: 'temporal', required: false, default: null, secret: true, fileVariant: true,
    description: 'API key sent to Temporal (Temporal Cloud); turns TLS on unless `TEMPORAL_TLS=false`.',
  }),
  variable({
    name: 'TEMPORAL_TLS', section: 'temporal', required: false, default: null, secret: false, fileVariant: false,
    description: '`true` or `false`: force TLS on or off (unset: on when a TLS setting or an API key is given).',
  }),
  variable({
    name: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', section: 'temporal', required: false, default: null, secret: false, fileVariant: false,
    description: 'PEM file of the CA that signed the server\'s certificate (unset: the system\'s CAs); or the PEM itself in `TEMPORAL_TLS_SERVER_CA_CERT_DATA`.',
  }),
  variable({
    name: 'TEMPORAL_TLS_SERVER_NAME', section: 'temporal', required: false, default: null, secret: false, fileVariant: false,
    description: 'Name to verify the server\'s certificate against, when it differs from the address\'s host.',
  }),
  variable({
    name: 'TEMPORAL_TLS_CLIENT_CERT_PATH', section: 'temporal', required: false, default: null, secret: false, fileVariant: false,
    description: 'PEM client certificate for mTLS (with the key below); or the PEM itself in `TEMPORAL_TLS_CLIENT_CERT_DATA`.',
  }),
  variable({
    name: 'TEMPORAL_TLS_CLIENT_KEY_PATH', section: 'temporal', required: false, default: null, secret: false, fileVariant: false,
    description: 'PEM private key of that certificate; or the PEM itself in `TEMPORAL_TLS_CLIENT_KEY_DATA` (a secret, never printed).',
  }),
  variable({
    name: 'TEMPORAL_PROFILE', section: 'temporal', required: false, default: 'default', secret: false, fileVariant: false,
    description: 'Profile to read from the Temporal config file; the variables above win over it.',
  }),
  variable({
    name: 'TEMPORAL_CONFIG_FILE', section: 'temporal', required: false, default: '~/.config/temporalio/temporal.toml', secret: false, fileVariant: false,
    description: 'The Temporal CLI\'s TOML file (`[profile.<name>]` with `address`, `namespace`, `api_key`, `[profile.<name>.tls]`); read if it exists.',
  }),
  variable({
    name: 'ORDERFLOW_TASK_QUEUE', section: 'temporal', required: false, default: 'orderflow', secret: false, fileVariant: false,
    description: 'Task queue the worker polls and the starters use.',
  }),
  variable({
    name: 'TEMPORAL_UI_URL', section: 'temporal', required: false, default: 'http://localhost:8233', secret: false, fileVariant: false,
    description: 'Base URL of the Temporal Web UI, for links printed for operators (https; http only for loopback hosts).',
  }),
  variable({
    name: 'ORDERFLOW_METRICS_PORT', section: 'temporal', required: false, default: null, secret: false, fileVariant: false,
    description: 'Port of the worker\'s Prometheus endpoint (`/metrics`), 1-65535; unset: none.',
  }),
  variable({
    name: 'ORDERFLOW_WORKFLOW_CACHE_MB', section: 'temporal', required: false, default: '64', secret: false, fileVariant: false,
    description: 'Memory budget of the worker\'s workflow cache in MB (16-65536; about 0.4 MB per cached run, see Benchmarks). Runs beyond it (thousands waiting for payment) are replayed from their history when they resume; it must hold every run that is active at once (in a workflow task, or with an effect\'s first attempt running), or runs are evicted mid-task and their first attempts run again: size it from the runs a worker handles at once, not from those that wait.',
  }),
  variable({
    name: 'ORDERFLOW_APPROVAL_ABOVE', section: 'temporal', required: false, default: null, secret: false, fileVariant: false,
    description: 'A credit change (refund, adjustment) above this amount, e.g. `100.00`, waits for an operator\'s `approve` before it is made, and the approving identity Temporal records must differ from the one that started the run (see docs/decisions.md). Read by the worker: its value is the one runs use. Unset: no approvals.',
  }),
  variable({
    name: 'ORDERFLOW_ENCRYPTION_KEYS', section: 'temporal', required: false, default: null, secret: true, fileVariant: true,
    description: 'Payload encryption keys, `keyId=<base64 of 32 random bytes>`, comma-separated (one per line in the `_FILE`); the first encrypts, all decrypt; unset: payloads are not encrypted (see docs/encryption.md).',
  }),
  variable({
    name: 'ORDERFLOW_LEDGER', section: 'ledger', required: false, default: 'sqlite:./data/ledger.db', secret: true, fileVariant: true,
    description: 'Effect ledger: `sqlite:<path>`, or a `postgres://` (`postgresql://`) URL for workers on several hosts (treated as a secret: the URL may carry a password).',
  }),
]);

/** The default of the variable `name`, as configVariables defines it (the one definition of each default). */
export function configDefault(name: string): string {
  const found = configVariables.find((entry) => entry.name === name)?.default;
  if (found === undefined || found === null) throw new Error(`configVariables has no default for ${name}`);
  return found;
}

/** Collects problems while reading variables, so that all of them are reported at once. */
class EnvReader {
  readonly problems: string[] = [];
  readonly #env: Readonly<Record<string, string | undefined>>;

  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.#env = env;
  }

  /** The whole environment, for readers that take it as a whole (the Temporal connection). */
  get environment(): Readonly<Record<string, string | undefined>> {
    return this.#env;
  }

  problem(text: string): void {
    this.problems.push(text);
  }

  /** The value, or undefined when unset or empty (an empty `NAME=` line means "not set"). */
  raw(name: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  isSet(name: string, fileVariant = false): boolean {
    return this.raw(name) !== undefined || (fileVariant && this.raw(`${name}_FILE`) !== undefined);
  }

  /**
   * Reads `name`, or the file named by `name_FILE` when `fileVariant`. Records a problem
   * (naming the variable or the file, never the value) and returns undefined when it is
   * missing although `required`, set twice, unreadable, or has surrounding whitespace.
   */
  read(name: string, options: { required: boolean; secret: boolean; fileVariant: boolean; neededFor: string }): string | undefined {
    const fileName = `${name}_FILE`;
    const direct = this.raw(name);
    const filePath = options.fileVariant ? this.raw(fileName) : undefined;
    let value: string | undefined;
    let source = name;
    if (direct !== undefined && filePath !== undefined) {
      this.problem(`${name} and ${fileName} are both set; set only one of them.`);
      return undefined;
    }
    if (filePath !== undefined) {
      source = `the file ${filePath} (from ${fileName})`;
      try {
        value = readFileSync(filePath, 'utf8').replace(/(?:\r?\n)+$/, '');
      } catch (error) {
        const reason = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unreadable';
        this.problem(`${fileName} names the file ${filePath}, which cannot be read (${reason}); fix the path or the file's permissions.`);
        return undefined;
      }
      if (value === '') {
        this.problem(`${source} is empty; it must hold the value of ${name}.`);
        return undefined;
      }
    } else {
      value = direct;
    }
    if (value === undefined) {
      if (options.required) {
        const how = options.fileVariant ? `set ${name} (or ${fileName}, the path of a file holding it)` : `set ${name}`;
        this.problem(`${name} is not set; it is required for ${options.neededFor}: ${how}.`);
      }
      return undefined;
    }
    if (value.trim() !== value) {
      const shown = options.secret ? '' : ` (${JSON.stringify(value)})`;
      this.problem(`${name} from ${source === name ? 'the environment' : source} has leading or trailing whitespace${shown}; remove it.`);
      return undefined;
    }
    return value;
  }
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]') return true;
  return isIPv4(host) && host.startsWith('127.');
}

/**
 * Checks an http(s) URL: https, or http for loopback hosts (the local simulators);
 * no user name or password, query string or fragment. Returns the URL as written, without
 * a trailing slash on the path, or undefined after recording a problem.
 */
function checkHttpUrl(reader: EnvReader, name: string, value: string, example: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    reader.problem(`${name} is not a valid URL (${JSON.stringify(value)}); write a full URL such as ${example}.`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '') {
    // The value is not repeated: it contains a password.
    reader.problem(`${name} contains a user name or password; remove them from the URL (credentials have their own variables).`);
    return undefined;
  }
  let ok = true;
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url.hostname)) {
      reader.problem(
        `${name} uses http (${value}); use https. Plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1), such as the local simulators.`,
      );
      ok = false;
    }
  } else if (url.protocol !== 'https:') {
    reader.problem(`${name} must be an https URL (${JSON.stringify(value)}), e.g. ${example}.`);
    ok = false;
  }
  if (url.search !== '' || url.hash !== '') {
    reader.problem(`${name} must not contain a query string or fragment (${value}); write the URL up to its path, e.g. ${example}.`);
    ok = false;
  }
  if (!ok) return undefined;
  return value.replace(/\/+$/, '');
}

const tokenWithoutWhitespace = /^\S+$/;
/** A DNS label: letters, digits and inner hyphens, at most 63 characters. */
const subdomainLabel = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function readWebTvCredentials(reader: EnvReader, required: boolean, neededFor: string): { keyId: string; sharedSecret: Secret } | undefined {
  const keyId = reader.read('WEBTV_KEY_ID', { required, secret: false, fileVariant: true, neededFor });
  const sharedSecret = reader.read('WEBTV_SHARED_SECRET', { required, secret: true, fileVariant: true, neededFor });
  let ok = keyId !== undefined && sharedSecret !== undefined;
  if (keyId !== undefined && !tokenWithoutWhitespace.test(keyId)) {
    reader.problem('WEBTV_KEY_ID contains whitespace; it must be the key id exactly as shown in the WebTV admin panel (32 hex characters in the docs).');
    ok = false;
  }
  return ok && keyId !== undefined && sharedSecret !== undefined ? { keyId, sharedSecret: new Secret(sharedSecret) } : undefined;
}

function readJustClickCredentials(reader: EnvReader, required: boolean, neededFor: string): { login: string; secret: Secret } | undefined {
  const login = reader.read('JUSTCLICK_LOGIN', { required, secret: false, fileVariant: false, neededFor });
  const secret = reader.read('JUSTCLICK_SECRET', { required, secret: true, fileVariant: true, neededFor });
  let ok = login !== undefined && secret !== undefined;
  if (login !== undefined && !subdomainLabel.test(login)) {
    reader.problem(
      `JUSTCLICK_LOGIN (${JSON.stringify(login)}) is not a valid JustClick login: it is also the account's subdomain, so it may hold only letters, digits and inner hyphens (at most 63).`,
    );
    ok = false;
  }
  return ok && login !== undefined && secret !== undefined ? { login, secret: new Secret(secret) } : undefined;
}

function readWebTv(reader: EnvReader): WebTvConfig | undefined {
  const neededFor = 'the WebTV store API';
  const rawUrl = reader.read('WEBTV_API_URL', { required: true, secret: false, fileVariant: false, neededFor });
  const example = 'https://shop.example.com/api.php';
  let apiUrl = rawUrl === undefined ? undefined : checkHttpUrl(reader, 'WEBTV_API_URL', rawUrl, example);
  if (apiUrl !== undefined && new URL(apiUrl).pathname.replace(/\/+$/, '') === '') {
    reader.problem(`WEBTV_API_URL (${apiUrl}) names the site, not its API; give the full URL of api.php, e.g. ${example}.`);
    apiUrl = undefined;
  }
  const credentials = readWebTvCredentials(reader, true, neededFor);
  if (apiUrl === undefined || credentials === undefined) return undefined;
  return Object.freeze({ apiUrl, ...credentials });
}

function readJustClick(reader: EnvReader): JustClickConfig | undefined {
  const neededFor = 'the JustClick API';
  const credentials = readJustClickCredentials(reader, true, neededFor);
  const rawUrl = reader.read('JUSTCLICK_API_URL', { required: false, secret: false, fileVariant: false, neededFor });
  let apiUrl: string | undefined;
  if (rawUrl !== undefined) {
    apiUrl = checkHttpUrl(reader, 'JUSTCLICK_API_URL', rawUrl, configDefault('JUSTCLICK_API_URL'));
  } else if (credentials !== undefined) {
    apiUrl = configDefault('JUSTCLICK_API_URL').replace('<login>', credentials.login.toLowerCase());
  }
  if (apiUrl === undefined || credentials === undefined) return undefined;
  return Object.freeze({ login: credentials.login, secret: credentials.secret, apiUrl });
}

function checkPort(reader: EnvReader, name: string, text: string, allowed: string): number | undefined {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    reader.problem(`${name} (${JSON.stringify(text)}) is not a valid port; ${allowed}.`);
    return undefined;
  }
  return port;
}

function readTemporal(reader: EnvReader): TemporalConfig | undefined {
  const neededFor = 'Temporal';
  const optional = { required: false, secret: false, fileVariant: false, neededFor };
  const problemsBefore = reader.problems.length;

  const { settings: connection, problems: connectionProblems } = readTemporalConnection(reader.environment);
  for (const problem of connectionProblems) reader.problem(problem);
  const taskQueue = reader.read('ORDERFLOW_TASK_QUEUE', optional) ?? configDefault('ORDERFLOW_TASK_QUEUE');
  if (!tokenWithoutWhitespace.test(taskQueue)) {
    reader.problem(`ORDERFLOW_TASK_QUEUE (${JSON.stringify(taskQueue)}) must not contain whitespace.`);
  }
  const rawUiUrl = reader.read('TEMPORAL_UI_URL', optional) ?? configDefault('TEMPORAL_UI_URL');
  const uiUrl = checkHttpUrl(reader, 'TEMPORAL_UI_URL', rawUiUrl, 'https://temporal.example.com');

  const rawMetricsPort = reader.read('ORDERFLOW_METRICS_PORT', optional);
  const metricsPort =
    rawMetricsPort === undefined ? undefined : checkPort(reader, 'ORDERFLOW_METRICS_PORT', rawMetricsPort, 'use a number from 1 to 65535, or unset it to serve no metrics');

  const rawCacheMb = reader.read('ORDERFLOW_WORKFLOW_CACHE_MB', optional) ?? configDefault('ORDERFLOW_WORKFLOW_CACHE_MB');
  const workflowCacheMb = /^\d{1,6}$/.test(rawCacheMb) ? Number(rawCacheMb) : NaN;
  if (!(workflowCacheMb >= 16 && workflowCacheMb <= 65_536)) {
    reader.problem(`ORDERFLOW_WORKFLOW_CACHE_MB (${JSON.stringify(rawCacheMb)}) must be a whole number of MB from 16 to 65536, e.g. 64.`);
  }

  const rawApprovalAbove = reader.read('ORDERFLOW_APPROVAL_ABOVE', optional);
  let approvalAbove: string | undefined;
  if (rawApprovalAbove !== undefined) {
    try {
      approvalAbove = formatCents(parsePositiveAmount(rawApprovalAbove, 'ORDERFLOW_APPROVAL_ABOVE'));
    } catch (error) {
      reader.problem(`${error instanceof Error ? error.message : String(error)}; write an amount like 100.00, or unset it for no approvals.`);
    }
  }

  const { keys: encryption, problems: encryptionProblems } = readEncryptionKeys(reader.environment);
  for (const problem of encryptionProblems) reader.problem(problem);

  if (reader.problems.length > problemsBefore || uiUrl === undefined || connection === undefined) return undefined;
  return Object.freeze({ address: connection.address, namespace: connection.namespace, connection, taskQueue, uiUrl, metricsPort, workflowCacheMb, approvalAbove, encryption });
}

function readLedger(reader: EnvReader): LedgerConfig | undefined {
  const value =
    reader.read('ORDERFLOW_LEDGER', { required: false, secret: true, fileVariant: true, neededFor: 'the effect ledger' }) ??
    configDefault('ORDERFLOW_LEDGER');
  const accepted = `write sqlite:<file path> (e.g. ${configDefault('ORDERFLOW_LEDGER')}) or a postgres://user@host:5432/database URL`;
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    if (path === '' || path.startsWith('//')) {
      reader.problem(`ORDERFLOW_LEDGER has an sqlite: URL without a usable file path; ${accepted}.`);
      return undefined;
    }
    return Object.freeze({ kind: 'sqlite', path });
  }
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) {
    if (!URL.canParse(value)) {
      // Not repeated: a connection URL may carry a password.
      reader.problem(`ORDERFLOW_LEDGER is not a valid PostgreSQL URL; ${accepted}.`);
      return undefined;
    }
    return Object.freeze({ kind: 'postgres', url: new Secret(value) });
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value)?.[1];
  reader.problem(`ORDERFLOW_LEDGER ${scheme === undefined ? 'has no scheme' : `has the unsupported scheme "${scheme}:"`}; ${accepted}.`);
  return undefined;
}

const sectionReaders: { [K in ConfigSection]: (reader: EnvReader) => SectionConfigs[K] | undefined } = {
  webtv: readWebTv,
  justclick: readJustClick,
  temporal: readTemporal,
  ledger: readLedger,
};

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * True when any required variable of `section` (or its `_FILE` form) is set: an optional
 * section (the worker's JustClick) is then wanted, and checked in full.
 */
export function isSectionSet(env: Environment, section: ConfigSection): boolean {
  const reader = new EnvReader(env);
  return configVariables.some((entry) => entry.section === section && entry.required && reader.isSet(entry.name, entry.fileVariant));
}

/**
 * Reads and validates the sections in `needs` from `env`; only those are required.
 * Returns a deeply frozen config, or throws a {@link ConfigError} listing every problem.
 */
export function loadConfig<N extends ConfigSection>(env: Environment = process.env, needs: readonly N[]): Config<N> {
  const reader = new EnvReader(env);
  const config: Partial<Record<ConfigSection, unknown>> = {};
  for (const section of configSections) {
    if (!(needs as readonly ConfigSection[]).includes(section)) continue;
    config[section] = sectionReaders[section](reader);
  }
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return Object.freeze(config) as Config<N>;
}

/** The credentials the local simulators accept: those of the APIs whose variables are set. */
export interface SimulatorCredentials {
  readonly webtv: { readonly keyId: string; readonly sharedSecret: Secret } | undefined;
  readonly justclick: { readonly login: string; readonly secret: Secret } | undefined;
}

/**
 * Reads the credentials for `orderflow simulate`: WebTV's when WEBTV_KEY_ID or
 * WEBTV_SHARED_SECRET is set, JustClick's when JUSTCLICK_LOGIN or JUSTCLICK_SECRET is
 * set (each pair then complete and valid). The API URLs are not read. Throws a
 * {@link ConfigError} when neither is set or anything is wrong.
 */
export function loadSimulatorCredentials(env: Environment = process.env): SimulatorCredentials {
  const reader = new EnvReader(env);
  const webTvSet = reader.isSet('WEBTV_KEY_ID', true) || reader.isSet('WEBTV_SHARED_SECRET', true);
  const justClickSet = reader.isSet('JUSTCLICK_LOGIN') || reader.isSet('JUSTCLICK_SECRET', true);
  if (!webTvSet && !justClickSet) {
    throw new ConfigError([
      'No simulator credentials are set: set WEBTV_KEY_ID and WEBTV_SHARED_SECRET to run the WebTV simulator, ' +
        'JUSTCLICK_LOGIN and JUSTCLICK_SECRET to run the JustClick simulator, or all four for both.',
    ]);
  }
  const neededFor = 'the simulator';
  const webtv = webTvSet ? readWebTvCredentials(reader, true, `the WebTV ${neededFor}`) : undefined;
  const justclick = justClickSet ? readJustClickCredentials(reader, true, `the JustClick ${neededFor}`) : undefined;
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return Object.freeze({
    webtv: webtv === undefined ? undefined : Object.freeze(webtv),
    justclick: justclick === undefined ? undefined : Object.freeze(justclick),
  });
}
