/**
 * Configuration from the environment, read only for the sections a caller needs, validated once (one {@link ConfigError} lists every
 * problem) and frozen. Secrets are {@link Secret}s, never shown in a problem, and may come from `<NAME>_FILE`.
 */
import { readTemporalConnection } from './temporal/connection.ts';
import type { TemporalConnectionSettings } from './temporal/connection.ts';
import { workflowCacheRuns } from './temporal/worker-memory.ts';
import { configDefault, configVariable, configVariables } from './config-variables.ts';
import { EnvReader, Secret, checkHttpUrl, messageOf, parsePort } from './config-reader.ts';
import type { Environment } from './config-reader.ts';
import type { ConfigSection } from './config-variables.ts';
import { formatCents, parsePositiveAmount } from './money.ts';
import { readEncryptionKeys } from './temporal/encryption.ts';
import type { EncryptionKeys } from './temporal/encryption.ts';

export { configDefault, configVariables } from './config-variables.ts';
export type { ConfigSection, ConfigVariable } from './config-variables.ts';
export { Secret } from './config-reader.ts';
export type { Environment } from './config-reader.ts';

export interface WebTvConfig {
  readonly apiUrl: string;
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
  /** The same as `connection.address` and `connection.namespace`. */
  readonly address: string;
  readonly namespace: string;
  readonly connection: TemporalConnectionSettings;
  readonly taskQueue: string;
  readonly uiUrl: string;
  /** undefined: no metrics endpoint. */
  readonly metricsPort: number | undefined;
  /** A credit change above this amount (e.g. "100.00") waits for a second person's `approve`; undefined: off. */
  readonly approvalAbove: string | undefined;
  /** undefined: encryption off. */
  readonly encryption: EncryptionKeys | undefined;
}

/** A variable 1.0 removed; refused when set. */
const removedCacheVariable = 'ORDERFLOW_WORKFLOW_CACHE_MB';

export type LedgerConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; /** A secret: it may carry a password. */ readonly url: Secret };

export interface SectionConfigs {
  webtv: WebTvConfig;
  justclick: JustClickConfig;
  temporal: TemporalConfig;
  ledger: LedgerConfig;
}

export type Config<N extends ConfigSection = ConfigSection> = { readonly [K in N]: SectionConfigs[K] };

/** The configuration is invalid; `problems` lists each problem, one sentence each. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      `The configuration is invalid (${count}):\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n` +
        'Set the environment variables listed above (see docs/configuration.md) and try again.',
    );
    this.problems = Object.freeze([...problems]);
  }
}

const tokenWithoutWhitespace = /^\S+$/;
const subdomainLabel = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function readWebTvCredentials(reader: EnvReader, neededFor: string): SimulatorCredentials['webtv'] {
  const keyId = reader.read('WEBTV_KEY_ID', neededFor);
  const sharedSecret = reader.read('WEBTV_SHARED_SECRET', neededFor);
  if (keyId !== undefined && !tokenWithoutWhitespace.test(keyId)) {
    return reader.problem(
      'WEBTV_KEY_ID contains whitespace; it must be the key id exactly as shown in the WebTV admin panel (32 hex characters in the docs).',
    );
  }
  return keyId !== undefined && sharedSecret !== undefined ? Object.freeze({ keyId, sharedSecret: new Secret(sharedSecret) }) : undefined;
}

function readJustClickCredentials(reader: EnvReader, neededFor: string): SimulatorCredentials['justclick'] {
  const login = reader.read('JUSTCLICK_LOGIN', neededFor);
  const secret = reader.read('JUSTCLICK_SECRET', neededFor);
  if (login !== undefined && !subdomainLabel.test(login)) {
    return reader.problem(
      `JUSTCLICK_LOGIN (${JSON.stringify(login)}) is not a valid JustClick login: it is also the account's subdomain, so it may hold only letters, digits and inner hyphens (at most 63).`,
    );
  }
  return login !== undefined && secret !== undefined ? Object.freeze({ login, secret: new Secret(secret) }) : undefined;
}

function readWebTv(reader: EnvReader): WebTvConfig | undefined {
  const neededFor = 'the WebTV store API';
  const rawUrl = reader.read('WEBTV_API_URL', neededFor);
  const example = 'https://shop.example.com/api.php';
  const apiUrl = rawUrl === undefined ? undefined : checkHttpUrl(reader, 'WEBTV_API_URL', rawUrl, example);
  if (apiUrl !== undefined && new URL(apiUrl).pathname.replace(/\/+$/, '') === '') {
    reader.problem(`WEBTV_API_URL (${apiUrl}) names the site, not its API; give the full URL of api.php, e.g. ${example}.`);
  }
  const credentials = readWebTvCredentials(reader, neededFor);
  if (apiUrl === undefined || credentials === undefined) return undefined;
  return Object.freeze({ apiUrl, ...credentials });
}

function readJustClick(reader: EnvReader): JustClickConfig | undefined {
  const neededFor = 'the JustClick API';
  const credentials = readJustClickCredentials(reader, neededFor);
  const rawUrl = reader.read('JUSTCLICK_API_URL', neededFor);
  const apiUrl =
    rawUrl === undefined
      ? credentials && configDefault('JUSTCLICK_API_URL').replace('<login>', credentials.login.toLowerCase())
      : checkHttpUrl(reader, 'JUSTCLICK_API_URL', rawUrl, configDefault('JUSTCLICK_API_URL'));
  if (apiUrl === undefined || credentials === undefined) return undefined;
  return Object.freeze({ ...credentials, apiUrl });
}

function readTemporal(reader: EnvReader): TemporalConfig | undefined {
  const neededFor = 'Temporal';
  const problemsBefore = reader.problems.length;

  const { settings: connection, problems: connectionProblems } = readTemporalConnection(reader.environment);
  reader.problems.push(...connectionProblems);
  const taskQueue = reader.read('ORDERFLOW_TASK_QUEUE', neededFor) ?? configDefault('ORDERFLOW_TASK_QUEUE');
  if (!tokenWithoutWhitespace.test(taskQueue)) {
    reader.problem(`ORDERFLOW_TASK_QUEUE (${JSON.stringify(taskQueue)}) must not contain whitespace.`);
  }
  const rawUiUrl = reader.read('TEMPORAL_UI_URL', neededFor) ?? configDefault('TEMPORAL_UI_URL');
  const uiUrl = checkHttpUrl(reader, 'TEMPORAL_UI_URL', rawUiUrl, 'https://temporal.example.com');

  const rawMetricsPort = reader.read('ORDERFLOW_METRICS_PORT', neededFor);
  const metricsPort = rawMetricsPort === undefined ? undefined : parsePort(rawMetricsPort);
  if (rawMetricsPort !== undefined && (metricsPort ?? 0) < 1) {
    const shown = JSON.stringify(rawMetricsPort);
    reader.problem(`ORDERFLOW_METRICS_PORT (${shown}) is not a valid port; use a number from 1 to 65535, or unset it to serve no metrics.`);
  }

  // Refused rather than ignored, so that nobody believes it still bounds the worker's memory.
  if (reader.raw(removedCacheVariable) !== undefined) {
    reader.problem(
      `${removedCacheVariable} is no longer read: the worker's workflow cache is derived from its workflow task slots, so that it ` +
        `always holds every run in a task, and the worker bounds its own heap (${workflowCacheRuns} runs cached; docs/production.md, "Memory"). Unset it.`,
    );
  }

  const rawApprovalAbove = reader.read('ORDERFLOW_APPROVAL_ABOVE', neededFor);
  let approvalAbove: string | undefined;
  if (rawApprovalAbove !== undefined) {
    try {
      approvalAbove = formatCents(parsePositiveAmount(rawApprovalAbove, 'ORDERFLOW_APPROVAL_ABOVE'));
    } catch (error) {
      reader.problem(`${messageOf(error)}; write an amount like 100.00, or unset it for no approvals.`);
    }
  }

  const { keys: encryption, problems: encryptionProblems } = readEncryptionKeys(reader.environment);
  reader.problems.push(...encryptionProblems);

  if (reader.problems.length > problemsBefore || uiUrl === undefined || connection === undefined) return undefined;
  return Object.freeze({ address: connection.address, namespace: connection.namespace, connection, taskQueue, uiUrl, metricsPort, approvalAbove, encryption });
}

function readLedger(reader: EnvReader): LedgerConfig | undefined {
  const value = reader.read('ORDERFLOW_LEDGER', 'the effect ledger') ?? configDefault('ORDERFLOW_LEDGER');
  const accepted = `write sqlite:<file path> (e.g. ${configDefault('ORDERFLOW_LEDGER')}) or a postgres://user@host:5432/database URL`;
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    if (path === '' || path.startsWith('//')) {
      return reader.problem(`ORDERFLOW_LEDGER has an sqlite: URL without a usable file path; ${accepted}.`);
    }
    return Object.freeze({ kind: 'sqlite', path });
  }
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) {
    if (!URL.canParse(value)) {
      // Not repeated: a connection URL may carry a password.
      return reader.problem(`ORDERFLOW_LEDGER is not a valid PostgreSQL URL; ${accepted}.`);
    }
    return Object.freeze({ kind: 'postgres', url: new Secret(value) });
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value)?.[1];
  const what = scheme === undefined ? 'has no scheme' : `has the unsupported scheme "${scheme}:"`;
  return reader.problem(`ORDERFLOW_LEDGER ${what}; ${accepted}.`);
}

const sectionReaders: { [K in ConfigSection]: (reader: EnvReader) => SectionConfigs[K] | undefined } = {
  webtv: readWebTv,
  justclick: readJustClick,
  temporal: readTemporal,
  ledger: readLedger,
};

/** True when any required variable of `section` is set: an optional section is then wanted, and checked in full. */
export function isSectionSet(env: Environment, section: ConfigSection): boolean {
  const reader = new EnvReader(env, configVariable);
  return configVariables.some((entry) => entry.section === section && entry.required && reader.isSet(entry.name));
}

/** Reads and validates the sections in `needs`; throws a {@link ConfigError} listing every problem. */
export function loadConfig<N extends ConfigSection>(env: Environment = process.env, needs: readonly N[]): Config<N> {
  const reader = new EnvReader(env, configVariable);
  const config: Partial<Record<ConfigSection, unknown>> = {};
  for (const section of Object.keys(sectionReaders) as ConfigSection[]) {
    if ((needs as readonly ConfigSection[]).includes(section)) config[section] = sectionReaders[section](reader);
  }
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return Object.freeze(config) as Config<N>;
}

export interface SimulatorCredentials {
  readonly webtv: Omit<WebTvConfig, 'apiUrl'> | undefined;
  readonly justclick: Omit<JustClickConfig, 'apiUrl'> | undefined;
}

/** The credentials for `orderflow simulate`: of each API with any of its credential variables set. */
export function loadSimulatorCredentials(env: Environment = process.env): SimulatorCredentials {
  const reader = new EnvReader(env, configVariable);
  const webTvSet = reader.isSet('WEBTV_KEY_ID') || reader.isSet('WEBTV_SHARED_SECRET');
  const justClickSet = reader.isSet('JUSTCLICK_LOGIN') || reader.isSet('JUSTCLICK_SECRET');
  if (!webTvSet && !justClickSet) {
    throw new ConfigError([
      'No simulator credentials are set: set WEBTV_KEY_ID and WEBTV_SHARED_SECRET to run the WebTV simulator, ' +
        'JUSTCLICK_LOGIN and JUSTCLICK_SECRET to run the JustClick simulator, or all four for both.',
    ]);
  }
  const webtv = webTvSet ? readWebTvCredentials(reader, 'the WebTV simulator') : undefined;
  const justclick = justClickSet ? readJustClickCredentials(reader, 'the JustClick simulator') : undefined;
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return Object.freeze({ webtv, justclick });
}
