/**
 * The production topology (docker-compose.yml and deploy/), checked without a Docker engine:
 * the worker gets every variable it requires (proved by loading its configuration from the
 * compose file's environment, with the secret files it names), no secret is written inline,
 * every image is pinned, Prometheus scrapes the worker's metrics port and the server's,
 * `orderflow setup` prepares the workers' namespace, and Grafana's provisioning
 * points at what is mounted. With the compose CLI (`docker compose` or `docker-compose`;
 * required under CI), the RENDERED config is checked for who is let in
 * (docs/production-security.md): TLS on the frontend and internode mTLS (the server's config
 * template rendered with the service's environment), the default authorizer and JWT claim
 * mapper with a JWKS, the UI's OIDC login and TLS, the codec server behind the same login, every
 * published port on 127.0.0.1, no secret inline, credentials for every Temporal client; the
 * optional OIDC provider (profile "oidc") issues what the claim mapper reads.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configVariables } from '../../src/config.ts';
import { loadWorkerConfig } from '../../src/worker.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readText = (path: string): string => readFileSync(join(root, path), 'utf8');

interface HealthCheck {
  test: string[] | string;
}
/** A published port: the short syntax, or the long one `docker compose config` renders. */
type PortEntry = string | { host_ip?: string; published?: string | number; target?: number; protocol?: string };
/** A mount: `SOURCE:TARGET[:MODE]`, or the long syntax `docker compose config` (v2) renders. */
type VolumeEntry = string | { type?: string; source?: string; target?: string };
/** A granted secret: its name, or the long syntax the compose CLI renders. */
type SecretEntry = string | { source: string; target?: string };
interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  secrets?: SecretEntry[];
  volumes?: VolumeEntry[];
  ports?: PortEntry[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: HealthCheck;
  deploy?: { replicas?: number };
}
interface ComposeFile {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes?: Record<string, unknown>;
}

// Compose honours YAML merge keys (`<<: *orderflow-image`); YAML 1.2 parsers need asking.
const compose = parse(readText('docker-compose.yml'), { merge: true }) as ComposeFile;
const services = compose.services;

interface PublishedPort {
  hostIp: string | undefined;
  published: number;
  target: number;
}
/** A service's published ports, from `[HOST_IP:]PUBLISHED:TARGET[/PROTOCOL]` or the long syntax. */
function publishedPorts(entry: Service): PublishedPort[] {
  return (entry.ports ?? []).map((port) => {
    if (typeof port !== 'string') return { hostIp: port.host_ip, published: Number(port.published), target: Number(port.target) };
    const parts = port.replace(/\s*#.*$/, '').replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.at(-1));
    const published = parts.length >= 2 ? Number(parts.at(-2)) : target;
    return { hostIp: parts.length === 3 ? parts[0] : undefined, published, target };
  });
}

/** A service's mounts as source and target, whichever syntax the file or the CLI used. */
function mountsOf(entry: Service): Array<{ source: string; target: string }> {
  return (entry.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') return { source: volume.source ?? '', target: volume.target ?? '' };
    const [source = '', target = ''] = volume.split(':');
    return { source, target };
  });
}

/** The names of the secrets a service is given. */
function secretsOf(entry: Service): string[] {
  return (entry.secrets ?? []).map((secret) => (typeof secret === 'string' ? secret : secret.source));
}

function service(name: string): Service {
  const found = services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/** A service's environment as name → string (compose allows a map or NAME=value lines). */
function environmentOf(entry: Service): Record<string, string> {
  const env = entry.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, value === null ? '' : String(value)]));
}

/** `${NAME:?message}` / `${NAME:-default}` / `${NAME}` references in a value. */
function interpolations(value: string): Array<{ name: string; operator: string | undefined }> {
  return [...value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[?-])[^}]*)?\}/g)].map((match) => ({ name: match[1]!, operator: match[2] }));
}

const secretFilePrefix = '/run/secrets/';
/** Variables orderflow treats as secrets, and names that are secrets in any image. */
const orderflowSecrets = new Set(configVariables.filter((variable) => variable.secret).map((variable) => variable.name));
const secretLookingName = /(PASSWORD|PASSWD|PWD|SECRET|API_KEY|TOKEN|PRIVATE_KEY)$/;
/** Names that look secret but are not: TEMPORAL_CODEC_PASS_ACCESS_TOKEN is the UI's true/false flag. */
const notSecret = new Set(['TEMPORAL_CODEC_PASS_ACCESS_TOKEN']);
/** TLS material given by path: it must be a Docker secret the service is given. */
const tlsMaterialName = /^TEMPORAL_TLS_(?:.*_)?(?:CERT|KEY|CA)(?:_PATH)?$/;

/** Every way a secret could be written into the file instead of coming from ./secrets/. */
function inlineSecretProblems(all: Record<string, Service>): string[] {
  const problems: string[] = [];
  for (const [serviceName, entry] of Object.entries(all)) {
    const granted = secretsOf(entry);
    for (const [name, value] of Object.entries(environmentOf(entry))) {
      if ((orderflowSecrets.has(name) || secretLookingName.test(name)) && !notSecret.has(name)) {
        problems.push(`${serviceName}: ${name} is set inline; use ${name}_FILE with a Docker secret`);
      }
      if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(value)) problems.push(`${serviceName}: ${name} holds a URL with a password`);
      if (/-----BEGIN /.test(value)) problems.push(`${serviceName}: ${name} holds PEM data inline`);
      if (/eyJ[\w-]+\.eyJ[\w-]+\./.test(value)) problems.push(`${serviceName}: ${name} holds a JWT inline`);
      if ((name.endsWith('_FILE') || tlsMaterialName.test(name)) && !value.startsWith(secretFilePrefix)) {
        problems.push(`${serviceName}: ${name} does not name a Docker secret file`);
      }
      if (value.startsWith(secretFilePrefix) && !granted.includes(value.slice(secretFilePrefix.length))) {
        problems.push(`${serviceName}: ${name} names ${value}, a secret the service is not given`);
      }
    }
  }
  return problems;
}

const scratch = mkdtempSync(join(tmpdir(), 'orderflow-compose-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The certificates deploy/tls/make-certs.sh makes, in a scratch directory (the compose file's secrets). */
const certificates = join(scratch, 'certificates');
beforeAll(() => {
  const made = spawnSync('sh', [join(root, 'deploy/tls/make-certs.sh'), certificates], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`deploy/tls/make-certs.sh failed (${made.status}): ${made.stderr}`);
});
const certificate = (name: string): X509Certificate => new X509Certificate(readFileSync(join(certificates, name)));

describe('docker-compose.yml: the production topology', () => {
  it('has the services of the topology', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'codec-server',
        'grafana',
        'grafana-dashboards',
        'keycloak',
        'orderflow-setup',
        'postgres',
        'prometheus',
        'temporal',
        'temporal-namespace',
        'temporal-schema',
        'temporal-ui',
        'tls-proxy',
        'worker',
      ].sort(),
    );
    expect(service('postgres').image).toMatch(/^postgres:16\./);
    expect(service('temporal').image).toMatch(/^temporalio\/server:/);
    expect(service('temporal-schema').image).toMatch(/^temporalio\/admin-tools:/);
    expect(service('temporal-namespace').image).toMatch(/^temporalio\/admin-tools:/);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:/);
    expect(service('worker').deploy?.replicas).toBeGreaterThanOrEqual(2);
  });

  it('gives the worker every variable it requires: its configuration loads, with a PostgreSQL ledger', () => {
    const worker = service('worker');
    const declared = environmentOf(worker);
    const env: Record<string, string> = {};
    const samples: Record<string, string> = {
      WEBTV_API_URL: 'https://shop.example.com/api.php',
      WEBTV_KEY_ID: '1b323a1cb879fd4e66530fbad07a32ee',
      JUSTCLICK_LOGIN: 'shop',
    };
    const secretSamples: Record<string, string> = {
      ledger_url: 'postgres://orderflow:not-a-real-password@postgres:5432/orderflow',
      webtv_shared_secret: 'sample-shared-secret',
      justclick_secret: 'sample-justclick-secret',
      tls_ca_cert: readFileSync(join(certificates, 'tls_ca_cert'), 'utf8'),
      temporal_worker_token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYW1wbGUifQ.c2FtcGxl',
      orderflow_encryption_keys: `k1=${Buffer.alloc(32, 7).toString('base64')}`,
    };
    for (const [name, value] of Object.entries(declared)) {
      // What the operator supplies at `docker compose up`: compose refuses to start without it.
      for (const reference of interpolations(value)) {
        expect(reference.operator, `${name}: \${${reference.name}} must be required (:?) or have a default (:-)`).toMatch(/^:[?-]$/);
      }
      let resolved = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::\?[^}]*|:-([^}]*))?\}/g, (_match, reference: string, fallback: string | undefined) => {
        // `${NAME:-default}`: what compose uses when the operator sets nothing.
        if (fallback !== undefined) return fallback;
        const sample = samples[reference];
        if (sample === undefined) throw new Error(`the test has no sample value for \${${reference}} (used by ${name})`);
        return sample;
      });
      if (resolved.startsWith(secretFilePrefix)) {
        const secretName = resolved.slice(secretFilePrefix.length);
        expect(secretsOf(worker), `${name} names /run/secrets/${secretName}, which the worker must be given`).toContain(secretName);
        expect(compose.secrets[secretName]?.file, `secret ${secretName} comes from a file`).toMatch(/^\.\/secrets\//);
        const sample = secretSamples[secretName];
        if (sample === undefined) throw new Error(`the test has no sample content for the secret ${secretName}`);
        resolved = join(scratch, secretName);
        writeFileSync(resolved, `${sample}\n`);
      }
      env[name] = resolved;
    }

    const config = loadWorkerConfig(env);
    expect(config.ledger.kind).toBe('postgres');
    expect(config.justclick).toBeDefined();
    expect(config.temporal.metricsPort).toBeDefined();
    expect(config.temporal.address).toBe('temporal:7233');
    // TLS with the private CA and the frontend certificate's name, and the worker's own token.
    expect(config.temporal.connection.tls).toBe('on (CA from the configuration, server name temporal)');
    expect(config.temporal.connection.credential).toBe('API key');
    // Each required variable of the worker's sections is there (directly or as a file).
    for (const variable of configVariables.filter((entry) => entry.required)) {
      const given = variable.name in declared || `${variable.name}_FILE` in declared;
      expect(given, `${variable.name} (${variable.section}) is required and must be provided to the worker`).toBe(true);
    }
  });

  it('writes no secret inline: every secret comes from a file under ./secrets/', () => {
    expect(inlineSecretProblems(services)).toEqual([]);
    for (const [name, secret] of Object.entries(compose.secrets)) {
      expect(secret.file, `secret ${name}`).toMatch(/^\.\/secrets\/[a-z_]+$/);
    }
    expect(readText('.gitignore').split('\n')).toContain('secrets/');
    // Every declared secret is used by some service, and every used one is declared.
    const used = new Set(Object.values(services).flatMap((entry) => secretsOf(entry)));
    expect([...used].sort()).toEqual(Object.keys(compose.secrets).sort());
  });

  it('pins every image to a version (and the worker image\'s base too)', () => {
    const pinned = /^[a-z0-9./_-]+:v?\d+\.\d+(\.\d+)?(-[a-z0-9.-]+)?$|@sha256:[0-9a-f]{64}$/;
    for (const [name, entry] of Object.entries(services)) {
      if (entry.build !== undefined) {
        expect(entry.image, `${name}: a built image gets a versioned name`).toMatch(/:\d+\.\d+\.\d+$/);
        continue;
      }
      expect(entry.image, `${name}: image`).toMatch(pinned);
    }
    const bases = [...readText('Dockerfile').matchAll(/^FROM\s+(\S+)/gm)].map((match) => match[1]);
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) expect(base, 'Dockerfile FROM').toMatch(pinned);
  });

  it('has Prometheus scrape every worker replica on its metrics port, and the Temporal server', () => {
    const prometheus = service('prometheus');
    const configPath = (Array.isArray(prometheus.command) ? prometheus.command : [])
      .find((argument) => argument.startsWith('--config.file='))
      ?.slice('--config.file='.length);
    const mount = mountsOf(prometheus).find((volume) => volume.target === configPath);
    expect(mount, `the Prometheus config ${configPath} is mounted from the repository`).toBeDefined();
    const source = mount!.source;
    interface ScrapeConfig {
      job_name: string;
      static_configs?: Array<{ targets: string[] }>;
      dns_sd_configs?: Array<{ names: string[]; type?: string; port?: number }>;
    }
    const scrape = (parse(readText(source)) as { scrape_configs: ScrapeConfig[] }).scrape_configs;

    const metricsPort = Number(environmentOf(service('worker'))['ORDERFLOW_METRICS_PORT']);
    expect(metricsPort).toBeGreaterThan(0);
    const workerJob = scrape.find((job) => job.dns_sd_configs?.some((sd) => sd.names.includes('worker') && sd.port === metricsPort && (sd.type ?? 'SRV') === 'A'));
    expect(workerJob, `a job discovers every "worker" replica (DNS A records) on port ${metricsPort}`).toBeDefined();

    const serverMetrics = environmentOf(service('temporal'))['PROMETHEUS_ENDPOINT'];
    const serverPort = serverMetrics?.split(':').at(-1);
    expect(serverPort).toMatch(/^\d+$/);
    const serverJob = scrape.find((job) => job.static_configs?.some((config) => config.targets.includes(`temporal:${serverPort}`)));
    expect(serverJob, `a job scrapes temporal:${serverPort}`).toBeDefined();
  });

  it('runs the server on PostgreSQL with SQL visibility and publishes its gRPC and HTTP API ports', () => {
    const temporal = service('temporal');
    const env = environmentOf(temporal);
    expect(env['DB']).toBe('postgres12');
    expect(env['ENABLE_ES'] ?? 'false').toBe('false');
    expect(env['POSTGRES_PWD']).toBeUndefined();
    const httpPort = Number(env['FRONTEND_HTTP_PORT']);
    expect(publishedPorts(temporal)).toEqual(
      expect.arrayContaining([
        { hostIp: '127.0.0.1', published: 7233, target: 7233 },
        { hostIp: '127.0.0.1', published: httpPort, target: httpPort },
      ]),
    );
    expect(env['FRONTEND_HTTP_PORT']).toBe('7243');
    const schemaScript = readText('deploy/temporal/setup-schema.sh');
    expect(schemaScript).toMatch(/setup_database temporal temporal/);
    expect(schemaScript).toMatch(/setup_database temporal_visibility visibility/);
  });

  it('creates the namespace the workers use, then runs `orderflow setup` there with the workers\' image and connection', () => {
    const worker = environmentOf(service('worker'));
    const namespace = environmentOf(service('temporal-namespace'));
    expect(namespace['TEMPORAL_NAMESPACE']).toBe(worker['TEMPORAL_NAMESPACE']);
    const setup = service('orderflow-setup');
    expect(setup.command).toEqual(['setup']);
    expect(setup.image).toBe(service('worker').image);
    expect(setup.build).toEqual(service('worker').build);
    for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE']) expect(environmentOf(setup)[name], name).toBe(worker[name]);
    expect(setup.depends_on).toMatchObject({ 'temporal-namespace': { condition: 'service_completed_successfully' } });
  });

  it('starts each service after what it needs, and every awaited health has a healthcheck', () => {
    const worker = service('worker');
    expect(worker.depends_on).toMatchObject({
      postgres: { condition: 'service_healthy' },
      'orderflow-setup': { condition: 'service_completed_successfully' },
    });
    expect(service('temporal').depends_on).toMatchObject({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    expect(worker.healthcheck).toBeDefined();
    for (const [name, entry] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(entry.depends_on ?? {})) {
        expect(Object.keys(services), `${name} depends on ${dependency}`).toContain(dependency);
        if (condition === 'service_healthy') expect(service(dependency).healthcheck, `${dependency} (awaited healthy by ${name})`).toBeDefined();
      }
    }
  });

  it('mounts only files that exist, and Grafana provisions the directories it is given', () => {
    for (const [name, entry] of Object.entries(services)) {
      for (const { source } of mountsOf(entry)) {
        if (source.startsWith('./')) expect(existsSync(join(root, source)), `${name} mounts ${source}`).toBe(true);
      }
    }
    const grafana = service('grafana');
    const mountTargets = new Map(mountsOf(grafana).map((volume) => [volume.target, volume.source]));
    const provisioning = parse(readText('deploy/grafana/provisioning/dashboards/dashboards.yml')) as { providers: Array<{ name: string; options: { path: string } }> };
    for (const provider of provisioning.providers) {
      expect(mountTargets.has(provider.options.path), `dashboards "${provider.name}" at ${provider.options.path} are mounted`).toBe(true);
    }
    expect(mountTargets.get('/etc/dashboards/orderflow')).toBe('./deploy/grafana/dashboards');
    for (const file of readdirSync(join(root, 'deploy/grafana/dashboards')).filter((name) => name.endsWith('.json'))) {
      const dashboard = JSON.parse(readText(`deploy/grafana/dashboards/${file}`)) as { title?: unknown };
      expect(typeof dashboard.title, `${file} is a Grafana dashboard`).toBe('string');
    }
  });
});

/** `docker compose config` (or docker-compose v1), where one is installed; no engine needed. */
function composeCommand(): string[] | undefined {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    const probe = spawnSync(candidate[0]!, [...candidate.slice(1), 'version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

const composeCli = composeCommand();
if (composeCli === undefined && !process.env['CI']) {
  console.log('[compose] neither `docker compose` nor `docker-compose` is installed: skipping the checks of the rendered config (the parsed checks above still run)');
}

// Under CI a missing compose CLI is a failure, not a skip: .ci/run installs one.
describe.runIf(composeCli === undefined && Boolean(process.env['CI']))('docker compose config under CI', () => {
  it('has a compose CLI to render docker-compose.yml with', () => {
    expect.fail('neither `docker compose` nor `docker-compose` is installed; CI must have one (.ci/run installs docker-compose) to check the rendered config');
  });
});

/** The operator's settings for a render: the store's, and none of the OIDC overrides (their defaults are checked). */
function renderEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, WEBTV_API_URL: 'https://shop.example.com/api.php', WEBTV_KEY_ID: 'key', JUSTCLICK_LOGIN: 'shop' };
  for (const name of Object.keys(env)) {
    if (name.startsWith('OIDC_') || name === 'TEMPORAL_UI_ORIGIN' || name === 'CODEC_SERVER_URL') delete env[name];
  }
  return env;
}

function renderCompose(extra: string[]): ComposeFile {
  const [command, ...prefix] = composeCli!;
  const rendered = spawnSync(command!, [...prefix, '--file', join(root, 'docker-compose.yml'), ...extra, 'config'], { cwd: root, env: renderEnvironment(), encoding: 'utf8' });
  expect(rendered.stderr).toBe('');
  expect(rendered.status).toBe(0);
  return parse(rendered.stdout) as ComposeFile;
}

/**
 * Renders deploy/temporal/config.yaml the way the server does (Go template + sprig) for the two
 * forms the file uses — `{{ env "X" }}` and `{{ default "v" (env "X") }}` (sprig's default
 * takes the fallback for an unset or empty value) — and parses the YAML. Any other template
 * syntax is left in and fails the check.
 */
function renderServerConfig(env: Record<string, string>): Record<string, unknown> {
  const rendered = readText('deploy/temporal/config.yaml')
    .replace(/\{\{-?\s*default\s+"([^"]*)"\s+\(env\s+"([A-Za-z0-9_]+)"\)\s*-?\}\}/g, (_match, fallback: string, name: string) => env[name] || fallback)
    .replace(/\{\{-?\s*env\s+"([A-Za-z0-9_]+)"\s*-?\}\}/g, (_match, name: string) => env[name] ?? '');
  expect(rendered.split('\n').filter((line) => line.includes('{{')), 'template syntax this check does not render').toEqual([]);
  return parse(rendered) as Record<string, unknown>;
}

/** A value at a dotted path of parsed YAML (keys may contain '-'). */
function at(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** nginx `server` blocks of deploy/nginx/tls-proxy.conf: the port each listens on with TLS, and where it proxies to. */
function tlsProxyRoutes(): Array<{ port: number; upstream: string }> {
  const conf = readText('deploy/nginx/tls-proxy.conf').replace(/#.*$/gm, '');
  return [...conf.matchAll(/server\s*\{([\s\S]*?)\n\}/g)].map((block) => {
    const body = block[1]!;
    const listen = /listen\s+(\d+)\s+ssl\s*;/.exec(body);
    const upstream = /proxy_pass\s+(\S+);/.exec(body);
    return { port: Number(listen?.[1]), upstream: upstream?.[1] ?? '' };
  });
}

interface RealmClient {
  clientId: string;
  serviceAccountsEnabled?: boolean;
  redirectUris?: string[];
  protocolMappers?: Array<{ protocolMapper: string; config: Record<string, string> }>;
}
interface Realm {
  realm: string;
  roles: { client: Record<string, Array<{ name: string }>> };
  groups: Array<{ name: string; clientRoles: Record<string, string[]> }>;
  clients: RealmClient[];
  users: Array<{ username: string; serviceAccountClientId?: string; groups?: string[]; clientRoles?: Record<string, string[]> }>;
}

describe.skipIf(composeCli === undefined)('docker compose config: the rendered production stack authenticates', () => {
  let rendered: ComposeFile;
  let renderedWithOidc: ComposeFile;
  beforeAll(() => {
    rendered = renderCompose([]);
    renderedWithOidc = renderCompose(['--profile', 'oidc']);
  });
  const renderedService = (name: string, from: ComposeFile = rendered): Service => {
    const found = from.services[name];
    if (found === undefined) throw new Error(`the rendered config has no service "${name}"`);
    return found;
  };
  const serverEnvironment = (): Record<string, string> => environmentOf(renderedService('temporal'));
  /** The server's configuration as it starts: the service's environment, plus what its command and entrypoint set. */
  const serverConfig = (): Record<string, unknown> => {
    const env = serverEnvironment();
    const configPath = env['TEMPORAL_SERVER_CONFIG_FILE_PATH'];
    const mount = mountsOf(renderedService('temporal')).find((volume) => volume.target === configPath);
    expect(mount?.source, `the server's config file ${configPath} is mounted`).toBe(join(root, 'deploy/temporal/config.yaml'));
    return renderServerConfig({ ...env, POSTGRES_PWD: 'sample-password', TEMPORAL_BROADCAST_ADDRESS: '172.20.0.5' });
  };

  it('accepts docker-compose.yml, and refuses to start without the store settings', () => {
    const [command, ...prefix] = composeCli!;
    const accepted = spawnSync(command!, [...prefix, '--file', join(root, 'docker-compose.yml'), 'config', '--quiet'], { cwd: root, env: renderEnvironment(), encoding: 'utf8' });
    expect(accepted.stderr).toBe('');
    expect(accepted.status).toBe(0);
    const { WEBTV_API_URL: _unset, ...missing } = renderEnvironment();
    const refused = spawnSync(command!, [...prefix, '--file', join(root, 'docker-compose.yml'), 'config', '--quiet'], { cwd: root, env: missing, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/set WEBTV_API_URL to the full URL of the store's api\.php/);
  });

  it('serves the frontend (gRPC and HTTP API) with TLS, and the server roles over internode mTLS', () => {
    const env = serverEnvironment();
    const granted = secretsOf(renderedService('temporal'));
    const config = serverConfig();
    const frontend = at(config, 'global.tls.frontend.server') as Record<string, unknown>;
    expect(frontend['certFile']).toBe('/run/secrets/tls_frontend_cert');
    expect(frontend['keyFile']).toBe('/run/secrets/tls_frontend_key');
    expect(granted).toEqual(expect.arrayContaining(['tls_frontend_cert', 'tls_frontend_key', 'tls_internode_cert', 'tls_internode_key', 'tls_ca_cert']));
    // Callers authenticate with a JWT, not a certificate (the PHP client has none).
    expect(frontend['requireClientAuth']).toBe(false);
    // The HTTP API listens with the frontend's TLS settings too; both ports are the published ones.
    expect(at(config, 'services.frontend.rpc.grpcPort')).toBe(7233);
    expect(at(config, 'services.frontend.rpc.httpPort')).toBe(Number(env['FRONTEND_HTTP_PORT']));

    const internode = at(config, 'global.tls.internode') as { server: Record<string, unknown>; client: Record<string, unknown> };
    expect(internode.server['requireClientAuth']).toBe(true);
    expect(internode.server['certFile']).toBe('/run/secrets/tls_internode_cert');
    expect(internode.server['keyFile']).toBe('/run/secrets/tls_internode_key');
    expect(internode.server['clientCaFiles']).toEqual(['/run/secrets/tls_ca_cert']);
    expect(internode.client['rootCaFiles']).toEqual(['/run/secrets/tls_ca_cert']);
    // The names the clients check are in the certificates make-certs.sh makes.
    expect(certificate('tls_internode_cert').checkHost(String(internode.client['serverName']))).toBe(internode.client['serverName']);
    expect(certificate('tls_internode_cert').keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']));
    const frontendName = String(at(config, 'global.tls.frontend.client.serverName'));
    expect(certificate('tls_frontend_cert').checkHost(frontendName)).toBe(frontendName);

    // The server's own workers go through the internal-frontend (internode mTLS), not the public one.
    expect(env['TEMPORAL_SERVICES']?.split(',')).toEqual(expect.arrayContaining(['frontend', 'internal-frontend', 'history', 'matching', 'worker']));
    expect(at(config, 'services.internal-frontend.rpc.grpcPort')).toBeDefined();
    expect(config['publicClient']).toBeUndefined();
    // The database password is templated in from the environment the command sets, never written here.
    expect(at(config, 'persistence.datastores.default.sql.password')).toBe('sample-password');
  });

  it('authorizes every call with the default authorizer and JWT claim mapper, keys from the OIDC provider\'s JWKS', () => {
    const env = serverEnvironment();
    expect(env['TEMPORAL_AUTH_AUTHORIZER']).toBe('default');
    expect(env['TEMPORAL_AUTH_CLAIM_MAPPER']).toBe('default');
    const authorization = at(serverConfig(), 'global.authorization') as Record<string, unknown>;
    expect(authorization['authorizer']).toBe('default');
    expect(authorization['claimMapper']).toBe('default');
    expect(at(authorization, 'jwtKeyProvider.keySourceURIs')).toEqual([env['TEMPORAL_JWT_KEY_SOURCE1']]);
    expect(env['TEMPORAL_JWT_KEY_SOURCE1']).toMatch(/^https?:\/\/[^/\s]+\/\S+$/);
    expect(at(authorization, 'jwtKeyProvider.refreshInterval')).toBe('1m');
    expect(authorization['permissionsClaimName']).toBe('permissions');
    expect(authorization['audience']).toBe(env['TEMPORAL_JWT_AUDIENCE']);
    expect(String(authorization['audience'])).not.toBe('');
  });

  it('logs the UI\'s users in with OIDC, connects it to the frontend with TLS, and decodes through the codec server with their token', () => {
    const ui = renderedService('temporal-ui');
    const env = environmentOf(ui);
    expect(env['TEMPORAL_AUTH_ENABLED']).toBe('true');
    expect(env['TEMPORAL_AUTH_TYPE']).toBe('oidc');
    expect(env['TEMPORAL_AUTH_PROVIDER_URL']).toMatch(/^https?:\/\//);
    expect(env['TEMPORAL_AUTH_ISSUER_URL']).toMatch(/^https?:\/\//);
    expect(env['TEMPORAL_AUTH_CLIENT_ID']).toBeTruthy();
    expect(env['TEMPORAL_AUTH_SCOPES']?.split(',')).toContain('openid');
    const origin = env['TEMPORAL_CORS_ORIGINS']!;
    expect(origin).toMatch(/^https:\/\/[^/]+$/);
    expect(env['TEMPORAL_AUTH_CALLBACK_URL']).toBe(`${origin}/auth/sso/callback`);
    // The client secret: from the secret file, through the entrypoint (the image reads no _FILE).
    expect(env['TEMPORAL_AUTH_CLIENT_SECRET']).toBeUndefined();
    const entrypoint = [ui.entrypoint ?? []].flat().join(' ');
    expect(entrypoint).toContain('TEMPORAL_AUTH_CLIENT_SECRET=');
    expect(entrypoint).toContain('/run/secrets/oidc_ui_client_secret');
    expect(entrypoint).toMatch(/exec \.\/start-ui-server\.sh/);
    expect(secretsOf(ui)).toContain('oidc_ui_client_secret');
    // TLS to the frontend, verifying the server's certificate and its name.
    expect(env['TEMPORAL_TLS_CA']).toBe('/run/secrets/tls_ca_cert');
    expect(secretsOf(ui)).toContain('tls_ca_cert');
    expect(env['TEMPORAL_TLS_ENABLE_HOST_VERIFICATION']).toBe('true');
    expect(certificate('tls_frontend_cert').checkHost(env['TEMPORAL_TLS_SERVER_NAME']!)).toBe(env['TEMPORAL_TLS_SERVER_NAME']);
    // The UI passes the access token only to an https codec endpoint.
    expect(env['TEMPORAL_CODEC_ENDPOINT']).toMatch(/^https:\/\//);
    expect(env['TEMPORAL_CODEC_PASS_ACCESS_TOKEN']).toBe('true');

    // The browser reaches the UI and the codec server through the TLS proxy, each on its port.
    const proxy = renderedService('tls-proxy');
    const routes = tlsProxyRoutes();
    const uiPort = Number(new URL(origin).port || 443);
    const codecPort = Number(new URL(env['TEMPORAL_CODEC_ENDPOINT']!).port || 443);
    const codecListen = environmentOf(renderedService('codec-server'))['ORDERFLOW_CODEC_SERVER_LISTEN']!;
    expect(routes).toEqual(expect.arrayContaining([
      { port: uiPort, upstream: 'http://temporal-ui:8080' },
      { port: codecPort, upstream: `http://codec-server:${codecListen.split(':').at(-1)}` },
    ]));
    expect(publishedPorts(proxy)).toEqual(expect.arrayContaining([
      { hostIp: '127.0.0.1', published: uiPort, target: uiPort },
      { hostIp: '127.0.0.1', published: codecPort, target: codecPort },
    ]));
    expect(secretsOf(proxy)).toEqual(expect.arrayContaining(['tls_web_cert', 'tls_web_key']));
    expect(certificate('tls_web_cert').checkHost(new URL(origin).hostname)).toBe(new URL(origin).hostname);
    // Neither the UI nor the codec server is published around the proxy.
    expect(publishedPorts(ui)).toEqual([]);
    expect(publishedPorts(renderedService('codec-server'))).toEqual([]);
  });

  it('puts the codec server behind the same login: the UI\'s issuer, the server\'s JWKS and audience, the UI\'s origin only', () => {
    const codec = renderedService('codec-server');
    const env = environmentOf(codec);
    const ui = environmentOf(renderedService('temporal-ui'));
    const server = serverEnvironment();
    expect(codec.command).toEqual(['codec-server']);
    expect(codec.image).toBe(renderedService('worker').image);
    expect(env['ORDERFLOW_CODEC_SERVER_LISTEN']).toMatch(/^0\.0\.0\.0:\d+$/);
    expect(env['ORDERFLOW_CODEC_SERVER_JWKS_URL']).toBe(server['TEMPORAL_JWT_KEY_SOURCE1']);
    expect(env['ORDERFLOW_CODEC_SERVER_ISSUER']).toBe(ui['TEMPORAL_AUTH_ISSUER_URL']);
    expect(env['ORDERFLOW_CODEC_SERVER_AUDIENCE']).toBe(server['TEMPORAL_JWT_AUDIENCE']);
    expect(env['ORDERFLOW_CODEC_SERVER_CORS_ORIGINS']).toBe(ui['TEMPORAL_CORS_ORIGINS']);
    // No shared bearer token here: only a signed-in user's token opens it.
    expect(env['ORDERFLOW_CODEC_SERVER_TOKEN_FILE']).toBeUndefined();
    // The same key file as every worker and client container.
    for (const name of ['codec-server', 'worker', 'orderflow-setup']) {
      expect(environmentOf(renderedService(name))['ORDERFLOW_ENCRYPTION_KEYS_FILE'], name).toBe('/run/secrets/orderflow_encryption_keys');
      expect(secretsOf(renderedService(name)), name).toContain('orderflow_encryption_keys');
    }
  });

  it('gives every Temporal client its own credentials: TLS to the frontend with the CA and its name, and a token', () => {
    const grpcPort = at(serverConfig(), 'services.frontend.rpc.grpcPort');
    const clients = Object.entries(rendered.services).filter(([, entry]) => environmentOf(entry)['TEMPORAL_ADDRESS'] !== undefined);
    expect(clients.map(([name]) => name).sort()).toEqual(['orderflow-setup', 'temporal-namespace', 'temporal-ui', 'worker']);
    for (const [name, entry] of clients) {
      const env = environmentOf(entry);
      expect(env['TEMPORAL_ADDRESS'], name).toBe(`temporal:${grpcPort}`);
      if (name === 'temporal-ui') continue; // each signed-in user's token (checked above)
      expect(env['TEMPORAL_TLS_SERVER_CA_CERT_PATH'], name).toBe('/run/secrets/tls_ca_cert');
      expect(certificate('tls_frontend_cert').checkHost(env['TEMPORAL_TLS_SERVER_NAME'] ?? ''), name).toBe(env['TEMPORAL_TLS_SERVER_NAME']);
      expect(env['TEMPORAL_API_KEY_FILE'], `${name}: a token of its own`).toMatch(/^\/run\/secrets\/temporal_[a-z]+_token$/);
      expect(secretsOf(entry), name).toEqual(expect.arrayContaining(['tls_ca_cert', env['TEMPORAL_API_KEY_FILE']!.slice(secretFilePrefix.length)]));
    }
    // The workers' token is not the set-up jobs' (orderflow:write, not admin).
    expect(environmentOf(renderedService('worker'))['TEMPORAL_API_KEY_FILE']).not.toBe(environmentOf(renderedService('orderflow-setup'))['TEMPORAL_API_KEY_FILE']);
  });

  it('publishes every port on 127.0.0.1 only, and writes no secret inline (with the OIDC profile too)', () => {
    for (const config of [rendered, renderedWithOidc]) {
      for (const [name, entry] of Object.entries(config.services)) {
        for (const port of publishedPorts(entry)) expect(port.hostIp, `${name} publishes ${port.published}`).toBe('127.0.0.1');
      }
      expect(inlineSecretProblems(config.services)).toEqual([]);
      for (const [name, secret] of Object.entries(config.secrets)) expect(secret.file, `secret ${name}`).toBe(join(root, 'secrets', name));
    }
  });

  it('runs the local OIDC provider only with the "oidc" profile, issuing the claims the claim mapper reads', () => {
    const keycloak = renderedService('keycloak', renderedWithOidc);
    // docker compose v2 leaves a profiled service out of the default render; v1 lists it with its profile.
    if (rendered.services['keycloak'] !== undefined) expect(rendered.services['keycloak'].profiles).toEqual(['oidc']);
    for (const [name, entry] of Object.entries(rendered.services)) {
      expect(Object.keys(entry.depends_on ?? {}), `${name} must start without the optional provider`).not.toContain('keycloak');
    }
    const env = environmentOf(keycloak);
    const ui = environmentOf(renderedService('temporal-ui'));
    const server = serverEnvironment();
    const realmMount = mountsOf(keycloak).find((volume) => volume.target.startsWith('/opt/keycloak/data/import/'));
    expect(realmMount?.source).toBe(join(root, 'deploy/keycloak/orderflow-realm.json'));
    const realm = JSON.parse(readText('deploy/keycloak/orderflow-realm.json')) as Realm;
    // The issuer the UI and the codec server expect, and the JWKS the server reads, are this realm's.
    expect(ui['TEMPORAL_AUTH_ISSUER_URL']).toBe(`${env['KC_HOSTNAME']}/realms/${realm.realm}`);
    expect(ui['TEMPORAL_AUTH_PROVIDER_URL']).toBe(`http://keycloak:8080/realms/${realm.realm}`);
    expect(server['TEMPORAL_JWT_KEY_SOURCE1']).toBe(`http://keycloak:8080/realms/${realm.realm}/protocol/openid-connect/certs`);
    expect(env['KC_HOSTNAME_BACKCHANNEL_DYNAMIC']).toBe('true');

    // Every placeholder of the realm file is given: by start.sh (from secrets) or the environment.
    const start = readText('deploy/keycloak/start.sh');
    const placeholders = new Set([...readText('deploy/keycloak/orderflow-realm.json').matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((match) => match[1]!));
    for (const name of placeholders) {
      const given = env[name] !== undefined || new RegExp(`^export .*\\b${name}\\b`, 'm').test(start);
      expect(given, `the realm's \${${name}} is set`).toBe(true);
    }
    for (const [, secret] of start.matchAll(/\$\(secret ([a-z_]+)\)/g)) expect(secretsOf(keycloak), `start.sh reads ${secret}`).toContain(secret);
    expect(env['ORDERFLOW_OIDC_AUDIENCE']).toBe(server['TEMPORAL_JWT_AUDIENCE']);
    expect(env['ORDERFLOW_UI_ORIGIN']).toBe(ui['TEMPORAL_CORS_ORIGINS']);

    // Permissions are <namespace>:<read|write|admin> (the default claim mapper's format).
    const namespace = environmentOf(renderedService('worker'))['TEMPORAL_NAMESPACE'];
    for (const role of realm.roles.client['temporal'] ?? []) expect(role.name).toMatch(new RegExp(`^(${namespace}|temporal-system):(read|write|admin)$`));
    // Each client anyone signs in with puts its roles into the claim the server reads, with the audience and a subject.
    const loginClients = realm.clients.filter((client) => client.clientId !== 'temporal');
    expect(loginClients.map((client) => client.clientId).sort()).toEqual(['orderflow-setup', 'orderflow-worker', 'shop-backend', ui['TEMPORAL_AUTH_CLIENT_ID']].sort());
    for (const client of loginClients) {
      const mappers = client.protocolMappers ?? [];
      const permissions = mappers.find((mapper) => mapper.protocolMapper === 'oidc-usermodel-client-role-mapper');
      expect(permissions?.config, client.clientId).toMatchObject({
        'usermodel.clientRoleMapping.clientId': 'temporal',
        'claim.name': server['TEMPORAL_JWT_PERMISSIONS_CLAIM'],
        multivalued: 'true',
        'access.token.claim': 'true',
      });
      expect(mappers.find((mapper) => mapper.protocolMapper === 'oidc-audience-mapper')?.config['included.custom.audience'], client.clientId).toBe('${ORDERFLOW_OIDC_AUDIENCE}');
      expect(mappers.some((mapper) => mapper.protocolMapper === 'oidc-sub-mapper'), `${client.clientId}: sub`).toBe(true);
    }
    expect(realm.clients.find((client) => client.clientId === ui['TEMPORAL_AUTH_CLIENT_ID'])?.redirectUris).toEqual(['${ORDERFLOW_UI_ORIGIN}/auth/sso/callback']);

    // Who may do what.
    const rolesOf = (serviceAccountClientId: string): string[] => realm.users.find((user) => user.serviceAccountClientId === serviceAccountClientId)?.clientRoles?.['temporal'] ?? [];
    expect(rolesOf('orderflow-worker')).toEqual([`${namespace}:write`]);
    expect(rolesOf('orderflow-setup')).toEqual([`${namespace}:admin`]);
    expect(rolesOf('shop-backend')).toEqual([`${namespace}:write`]);
    const groupRoles = (name: string): string[] => realm.groups.find((group) => group.name === name)?.clientRoles['temporal'] ?? [];
    expect(groupRoles('orderflow-ops').sort()).toEqual([`${namespace}:write`, 'temporal-system:read']);
    expect(groupRoles('orderflow-viewers').sort()).toEqual([`${namespace}:read`, 'temporal-system:read']);
    // mint-token.sh asks for the service-account clients the realm has.
    for (const [, client] of readText('deploy/keycloak/mint-token.sh').matchAll(/^ {2}([a-z-]+)\) secret_file=/gm)) {
      expect(realm.clients.find((entry) => entry.clientId === client)?.serviceAccountsEnabled, client).toBe(true);
    }
  });
});
