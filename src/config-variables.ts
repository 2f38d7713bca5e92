/**
 * Every environment variable orderflow reads: its section, default, whether it is secret,
 * and its meaning (the README's configuration table is checked against this list).
 * ./config.ts reads and validates them.
 */
import { defaultTemporalAddress, defaultTemporalNamespace } from './temporal/connection.ts';

export type ConfigSection = 'webtv' | 'justclick' | 'temporal' | 'ledger';

export const configSections: readonly ConfigSection[] = Object.freeze(['webtv', 'justclick', 'temporal', 'ledger']);

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
