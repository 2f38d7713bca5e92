/** Every environment variable orderflow reads, in the order of docs/configuration.md's table (a test holds them equal). */
import { defaultTemporalAddress, defaultTemporalNamespace } from './temporal/connection.ts';

export type ConfigSection = 'webtv' | 'justclick' | 'temporal' | 'ledger';

export interface ConfigVariable {
  readonly name: string;
  readonly section: ConfigSection;
  /** True when it must be set whenever its section is needed (no default). */
  readonly required: boolean;
  /** The value used when unset, as a person would write it; null when there is none. */
  readonly default: string | null;
  /** Never printed; redacted in every output. */
  readonly secret: boolean;
  /** May be given instead as `<name>_FILE`, the path of a file holding the value. */
  readonly fileVariant: boolean;
  /** Markdown. */
  readonly description: string;
}

type Flags = Partial<Pick<ConfigVariable, 'required' | 'default' | 'secret' | 'fileVariant'>>;

function variable(name: string, section: ConfigSection, flags: Flags, description: string): ConfigVariable {
  const unflagged = { required: false, default: null, secret: false, fileVariant: false };
  return Object.freeze({ name, section, ...unflagged, ...flags, description });
}

export const configVariables: readonly ConfigVariable[] = Object.freeze([
  variable('WEBTV_API_URL', 'webtv', { required: true },
    'Full URL of the WebTV installation\'s `api.php`, e.g. `https://shop.example.com/api.php` (https; http only for loopback hosts).'),
  variable('WEBTV_KEY_ID', 'webtv', { required: true, fileVariant: true },
    'Key ID of the WebTV API credential (32 hex characters in the vendor docs).'),
  variable('WEBTV_SHARED_SECRET', 'webtv', { required: true, secret: true, fileVariant: true },
    'Shared secret of that credential; signs every request.'),
  variable('JUSTCLICK_LOGIN', 'justclick', { required: true },
    'JustClick account login, also the account\'s subdomain (`<login>.justclick.ru`).'),
  variable('JUSTCLICK_SECRET', 'justclick', { required: true, secret: true, fileVariant: true },
    'JustClick API key (signs requests and verifies every response).'),
  variable('JUSTCLICK_API_URL', 'justclick', { default: 'https://<login>.justclick.ru/api' },
    'Base URL of the JustClick API; the method name is appended (https; http only for loopback hosts).'),
  variable('TEMPORAL_ADDRESS', 'temporal', { default: defaultTemporalAddress },
    '`host:port` of the Temporal frontend (wins over the profile\'s `address`).'),
  variable('TEMPORAL_NAMESPACE', 'temporal', { default: defaultTemporalNamespace },
    'Namespace the workflows run in (wins over the profile\'s `namespace`).'),
  variable('TEMPORAL_API_KEY', 'temporal', { secret: true, fileVariant: true },
    'API key sent to Temporal (Temporal Cloud); turns TLS on unless `TEMPORAL_TLS=false`.'),
  variable('TEMPORAL_TLS', 'temporal', {},
    '`true` or `false`: force TLS on or off (unset: on when a TLS setting or an API key is given).'),
  variable('TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'temporal', {},
    'PEM file of the CA that signed the server\'s certificate (unset: the system\'s CAs); or the PEM itself in `TEMPORAL_TLS_SERVER_CA_CERT_DATA`.'),
  variable('TEMPORAL_TLS_SERVER_NAME', 'temporal', {},
    'Name to verify the server\'s certificate against, when it differs from the address\'s host.'),
  variable('TEMPORAL_TLS_CLIENT_CERT_PATH', 'temporal', {},
    'PEM client certificate for mTLS (with the key below); or the PEM itself in `TEMPORAL_TLS_CLIENT_CERT_DATA`.'),
  variable('TEMPORAL_TLS_CLIENT_KEY_PATH', 'temporal', {},
    'PEM private key of that certificate; or the PEM itself in `TEMPORAL_TLS_CLIENT_KEY_DATA` (a secret, never printed).'),
  variable('TEMPORAL_PROFILE', 'temporal', { default: 'default' },
    'Profile to read from the Temporal config file; the variables above win over it.'),
  variable('TEMPORAL_CONFIG_FILE', 'temporal', { default: '~/.config/temporalio/temporal.toml' },
    'The Temporal CLI\'s TOML file (`[profile.<name>]` with `address`, `namespace`, `api_key`, `[profile.<name>.tls]`); read if it exists.'),
  variable('ORDERFLOW_TASK_QUEUE', 'temporal', { default: 'orderflow' },
    'Task queue the worker polls and the starters use.'),
  variable('TEMPORAL_UI_URL', 'temporal', { default: 'http://localhost:8233' },
    'Base URL of the Temporal Web UI, for links printed for operators (https; http only for loopback hosts).'),
  variable('ORDERFLOW_METRICS_PORT', 'temporal', {},
    'Port of the worker\'s Prometheus endpoint (`/metrics`), 1-65535; unset: none.'),
  variable('ORDERFLOW_APPROVAL_ABOVE', 'temporal', {},
    'A credit change (refund, adjustment) above this amount, e.g. `100.00`, waits for an operator\'s `approve` before it is made, and the approving identity Temporal records must differ from the one that started the run (see docs/decisions.md). Read by the worker: its value is the one runs use. Unset: no approvals.'),
  variable('ORDERFLOW_ENCRYPTION_KEYS', 'temporal', { secret: true, fileVariant: true },
    'Payload encryption keys, `keyId=<base64 of 32 random bytes>`, comma-separated (one per line in the `_FILE`); the first encrypts, all decrypt; unset: payloads are not encrypted (see docs/encryption.md).'),
  variable('ORDERFLOW_LEDGER', 'ledger', { default: 'sqlite:./data/ledger.db', secret: true, fileVariant: true },
    'Effect ledger: `sqlite:<path>`, or a `postgres://` (`postgresql://`) URL for workers on several hosts (treated as a secret: the URL may carry a password).'),
]);

export function configVariable(name: string): ConfigVariable {
  const found = configVariables.find((entry) => entry.name === name);
  if (found === undefined) throw new Error(`configVariables has no ${name}`);
  return found;
}

/** The default of the variable `name` (the one definition of each default). */
export function configDefault(name: string): string {
  const found = configVariable(name).default;
  if (found === null) throw new Error(`configVariables has no default for ${name}`);
  return found;
}
