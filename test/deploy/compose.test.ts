/**
 * The production topology (docker-compose.yml and deploy/), checked without a Docker engine:
 * the worker gets every variable it requires (proved by loading its configuration from the
 * compose file's environment, with the secret files it names), no secret is written inline,
 * every image is pinned, Prometheus scrapes the worker's metrics port and the server's,
 * `orderflow setup` prepares the workers' namespace, and Grafana's provisioning
 * points at what is mounted. When `docker compose` or `docker-compose` is installed, its
 * `config` must accept the file too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configVariables } from '../../src/config.ts';
import { loadWorkerConfig } from '../../src/worker.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readText = (path: string): string => readFileSync(join(root, path), 'utf8');

interface HealthCheck {
  test: string[] | string;
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  secrets?: string[];
  volumes?: string[];
  ports?: string[];
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

const scratch = mkdtempSync(join(tmpdir(), 'orderflow-compose-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('docker-compose.yml: the production topology', () => {
  it('has the services of the topology', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['grafana', 'grafana-dashboards', 'orderflow-setup', 'postgres', 'prometheus', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'worker'].sort(),
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
    };
    for (const [name, value] of Object.entries(declared)) {
      // What the operator supplies at `docker compose up`: compose refuses to start without it.
      for (const reference of interpolations(value)) {
        expect(reference.operator, `${name}: \${${reference.name}} must be required (:?) or have a default (:-)`).toMatch(/^:[?-]$/);
      }
      let resolved = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::\?[^}]*)?\}/g, (_match, reference: string) => {
        const sample = samples[reference];
        if (sample === undefined) throw new Error(`the test has no sample value for \${${reference}} (used by ${name})`);
        return sample;
      });
      if (resolved.startsWith(secretFilePrefix)) {
        const secretName = resolved.slice(secretFilePrefix.length);
        expect(worker.secrets, `${name} names /run/secrets/${secretName}, which the worker must be given`).toContain(secretName);
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
    // Each required variable of the worker's sections is there (directly or as a file).
    for (const variable of configVariables.filter((entry) => entry.required)) {
      const given = variable.name in declared || `${variable.name}_FILE` in declared;
      expect(given, `${variable.name} (${variable.section}) is required and must be provided to the worker`).toBe(true);
    }
  });

  it('writes no secret inline: every secret comes from a file under ./secrets/', () => {
    const problems: string[] = [];
    for (const [serviceName, entry] of Object.entries(services)) {
      for (const [name, value] of Object.entries(environmentOf(entry))) {
        if (orderflowSecrets.has(name) || secretLookingName.test(name)) {
          problems.push(`${serviceName}: ${name} is set inline; use ${name}_FILE with a Docker secret`);
        }
        if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]*@/i.test(value)) problems.push(`${serviceName}: ${name} holds a URL with a password`);
        if (name.endsWith('_FILE') && !value.startsWith(secretFilePrefix)) problems.push(`${serviceName}: ${name} does not name a Docker secret file`);
      }
    }
    expect(problems).toEqual([]);
    for (const [name, secret] of Object.entries(compose.secrets)) {
      expect(secret.file, `secret ${name}`).toMatch(/^\.\/secrets\/[a-z_]+$/);
    }
    expect(readText('.gitignore').split('\n')).toContain('secrets/');
    // Every declared secret is used by some service, and every used one is declared.
    const used = new Set(Object.values(services).flatMap((entry) => entry.secrets ?? []));
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
    const mount = prometheus.volumes?.find((volume) => volume.split(':')[1] === configPath);
    expect(mount, `the Prometheus config ${configPath} is mounted from the repository`).toBeDefined();
    const source = mount!.split(':')[0]!;
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
    expect(temporal.ports?.map((port) => port.replace(/\s*#.*$/, ''))).toEqual(expect.arrayContaining(['127.0.0.1:7233:7233', `127.0.0.1:${env['FRONTEND_HTTP_PORT']}:${env['FRONTEND_HTTP_PORT']}`]));
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
      for (const volume of entry.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(join(root, source)), `${name} mounts ${source}`).toBe(true);
      }
    }
    const grafana = service('grafana');
    const mountTargets = new Map((grafana.volumes ?? []).map((volume) => [volume.split(':')[1], volume.split(':')[0]]));
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
if (composeCli === undefined) {
  console.log('[compose] neither `docker compose` nor `docker-compose` is installed: skipping the `config` check (the parsed checks above still run)');
}

describe.skipIf(composeCli === undefined)('docker compose config', () => {
  it('accepts docker-compose.yml, and refuses to start without the store settings', () => {
    const [command, ...prefix] = composeCli!;
    const base = { ...process.env, WEBTV_API_URL: 'https://shop.example.com/api.php', WEBTV_KEY_ID: 'key', JUSTCLICK_LOGIN: 'shop' };
    const accepted = spawnSync(command!, [...prefix, '--file', join(root, 'docker-compose.yml'), 'config', '--quiet'], { cwd: root, env: base, encoding: 'utf8' });
    expect(accepted.stderr).toBe('');
    expect(accepted.status).toBe(0);
    const { WEBTV_API_URL: _unset, ...missing } = base;
    const refused = spawnSync(command!, [...prefix, '--file', join(root, 'docker-compose.yml'), 'config', '--quiet'], { cwd: root, env: missing, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/set WEBTV_API_URL to the full URL of the store's api\.php/);
  });
});
