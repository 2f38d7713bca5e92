/**
 * `npm start` (docs/configuration.md, "`npm start`"): a file-backed Temporal dev server, both simulators, the codec server and one
 * worker with encryption on, until SIGINT or SIGTERM. State and local credentials live in .orderflow/ (mode 0600).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configDefault } from './config.ts';
import { messageOf, parsePort } from './config-reader.ts';
import type { Environment } from './config-reader.ts';
import { startDevServer } from './temporal/dev-server.ts';
import { startWebTvSimulator } from './simulators/webtv/index.ts';
import { startJustClickSimulator } from './simulators/justclick/index.ts';
import { createOrderflowWorker, installRuntime } from './worker.ts';
import { runEventSink } from './run-events.ts';
import { readEncryptionKeys } from './temporal/encryption.ts';
import { startCodecServer } from './temporal/codec-server.ts';

/** Where `npm start` listens, and the variable that moves each port (0 picks a free port), e.g. when 7233 is taken. */
const localPorts = {
  temporal: [7233, 'ORDERFLOW_START_TEMPORAL_PORT'],
  temporalUi: [8233, 'ORDERFLOW_START_UI_PORT'],
  temporalHttp: [7243, 'ORDERFLOW_START_HTTP_PORT'],
  webtv: [8081, 'ORDERFLOW_START_WEBTV_PORT'],
  justclick: [8082, 'ORDERFLOW_START_JUSTCLICK_PORT'],
  codecServer: [8234, 'ORDERFLOW_START_CODEC_PORT'],
} as const;
type LocalPorts = Record<keyof typeof localPorts, number>;

function portsFromEnvironment(env: Environment): LocalPorts {
  const ports = {} as LocalPorts;
  const problems: string[] = [];
  for (const [name, [port, variable]] of Object.entries(localPorts) as Array<[keyof LocalPorts, readonly [number, string]]>) {
    const value = env[variable];
    const chosen = value === undefined || value === '' ? port : parsePort(value);
    if (chosen === undefined) problems.push(`${variable} must be a port from 0 (any free port) to 65535, got ${JSON.stringify(value)}`);
    ports[name] = chosen ?? port;
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  return ports;
}

type LocalCredentials = Record<'WEBTV_KEY_ID' | 'WEBTV_SHARED_SECRET' | 'JUSTCLICK_LOGIN' | 'JUSTCLICK_SECRET', string>;

const stateDirectory = resolve('.orderflow');
const credentialsFile = resolve(stateDirectory, 'local-credentials.json');
const localEnvFile = resolve(stateDirectory, 'env');
const workerLogFile = resolve(stateDirectory, 'worker.log');
const encryptionKeysFile = resolve(stateDirectory, 'encryption-keys');
const simulatorIdsFile = resolve('data/simulators.json');

/** Order ids one start may use before the next start's ids begin, should it end without saving its own. */
const orderIdsPerStart = 1_000;

/** The first WebTV order id of this start; the file says a block further on, in case this start crashes. */
export function reserveOrderIds(file: string = simulatorIdsFile): number {
  let first = 319;
  if (existsSync(file)) {
    const saved = (JSON.parse(readFileSync(file, 'utf8')) as { nextWebTvOrderId?: unknown }).nextWebTvOrderId;
    if (typeof saved === 'number' && Number.isSafeInteger(saved) && saved >= 1) first = saved;
  }
  saveNextOrderId(first + orderIdsPerStart, file);
  return first;
}

export function saveNextOrderId(nextWebTvOrderId: number, file: string = simulatorIdsFile): void {
  writeFileSync(file, `${JSON.stringify({ nextWebTvOrderId })}\n`);
}

/** `file` in .orderflow/ (mode 0600, ignored by git), written by `make` once and kept: the key keeps the runs in data/ readable. */
function madeOnce(file: string, make: () => string): string {
  if (!existsSync(file)) {
    mkdirSync(stateDirectory, { recursive: true });
    writeFileSync(file, make(), { mode: 0o600 });
  }
  return file;
}

/** Local-only random credentials for the simulators, as JSON. */
function randomCredentials(): string {
  return JSON.stringify({
    WEBTV_KEY_ID: randomBytes(16).toString('hex'),
    WEBTV_SHARED_SECRET: randomBytes(48).toString('base64'),
    JUSTCLICK_LOGIN: 'localshop',
    JUSTCLICK_SECRET: randomBytes(20).toString('hex'),
  } satisfies LocalCredentials, null, 2);
}

function randomEncryptionKey(): string {
  const comment = "# orderflow's local payload encryption key (npm start); keep it while data/ holds runs written with it";
  return `${comment}\nlocal-1=${randomBytes(32).toString('base64')}\n`;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

async function runLocalStack(ports: LocalPorts): Promise<void> {
  const closers: Array<() => Promise<void>> = [];
  try {
    mkdirSync('data', { recursive: true });
    const credentials = JSON.parse(readFileSync(madeOnce(credentialsFile, randomCredentials), 'utf8')) as LocalCredentials;
    const keysFile = madeOnce(encryptionKeysFile, randomEncryptionKey);
    const { keys, problems: keyProblems } = readEncryptionKeys({ ORDERFLOW_ENCRYPTION_KEYS_FILE: keysFile });
    if (keys === undefined) throw new Error(`the local encryption key cannot be used: ${keyProblems.join(' ')} Delete ${keysFile} to make a new one (runs written with the old key then stay unreadable).`);
    // Open on loopback (no token: the UI cannot send one without a login), for the UI's origin only.
    const uiOrigins = new Set<string>();
    const codec = await startCodecServer({ keys, host: '127.0.0.1', port: ports.codecServer, access: { token: undefined, jwt: undefined }, corsOrigins: uiOrigins });
    closers.push(() => codec.close());
    const temporal = await startDevServer({
      port: ports.temporal,
      uiPort: ports.temporalUi,
      httpPort: ports.temporalHttp,
      dbFilename: resolve('data/temporal.db'),
      logFile: resolve('data/temporal.log'),
      uiCodecEndpoint: codec.url,
    });
    closers.push(() => temporal.stop());
    const uiOrigin = new URL(temporal.uiUrl);
    uiOrigins.add(uiOrigin.origin);
    uiOrigins.add(`${uiOrigin.protocol}//localhost:${uiOrigin.port}`);
    const webtv = await startWebTvSimulator({
      port: ports.webtv,
      credentials: [{ keyId: credentials.WEBTV_KEY_ID, sharedSecret: credentials.WEBTV_SHARED_SECRET }],
      seed: 'demo',
      firstOrderId: reserveOrderIds(),
    });
    closers.push(async () => {
      saveNextOrderId(webtv.state.upcomingOrderId);
      await webtv.close();
    });
    const justclick = await startJustClickSimulator({ port: ports.justclick, login: credentials.JUSTCLICK_LOGIN, secret: credentials.JUSTCLICK_SECRET, seed: 'demo' });
    closers.push(() => justclick.close());

    const env: Record<string, string> = {
      ...credentials,
      WEBTV_API_URL: webtv.apiUrl,
      JUSTCLICK_API_URL: justclick.apiUrl,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: temporal.namespace,
      TEMPORAL_UI_URL: temporal.uiUrl,
      TEMPORAL_HTTP_URL: temporal.httpUrl,
      ORDERFLOW_TASK_QUEUE: configDefault('ORDERFLOW_TASK_QUEUE'),
      ORDERFLOW_LEDGER: configDefault('ORDERFLOW_LEDGER'),
      // The file, not the key; the empty variable keeps a key from the shell from clashing with it.
      ORDERFLOW_ENCRYPTION_KEYS: '',
      ORDERFLOW_ENCRYPTION_KEYS_FILE: keysFile,
      // Not orderflow settings: the codec server, for the curl example (docs/encryption.md),
      // and for the temporal CLI, which then shows payloads decoded (`temporal workflow show`).
      ORDERFLOW_CODEC_SERVER_URL: codec.url,
      TEMPORAL_CODEC_ENDPOINT: codec.url,
      // Not orderflow settings: the simulators' admin APIs, for curl (README, "Simulators").
      WEBTV_SIM_URL: `${webtv.origin}/_sim`,
      JUSTCLICK_SIM_URL: `${justclick.origin}/_sim`,
    };
    writeFileSync(localEnvFile, `${Object.entries(env).map(([name, value]) => `export ${name}=${shellQuote(value)}`).join('\n')}\n`, { mode: 0o600 });

    const out = (text = ''): boolean => process.stdout.write(`${text}\n`);
    installRuntime({ logLevel: 'DEBUG', logSink: runEventSink(workerLogFile, out) });
    const worker = await createOrderflowWorker({ env: { ...process.env, ...env } });
    const running = worker.run();

    out('orderflow is running:');
    out(`  Temporal UI        ${env['TEMPORAL_UI_URL']}`);
    out(`  Temporal frontend  ${temporal.address} (namespace ${temporal.namespace}, data in data/temporal.db)`);
    out(`  Temporal HTTP API  ${temporal.httpUrl}/api/v1  (for backends in any language: README, Starting runs from your backend)`);
    out(`  WebTV simulator    ${webtv.apiUrl}  (demo seed: users 1-100, products 1-5; admin: ${webtv.origin}/_sim/state)`);
    out(`  JustClick sim.     ${justclick.apiUrl}  (admin: ${justclick.origin}/_sim/state)`);
    out(`  Codec server       ${codec.url}  (the UI decodes through it; Temporal stores payloads encrypted with .orderflow/encryption-keys)`);
    out(`  Worker             task queue ${env['ORDERFLOW_TASK_QUEUE']}, ledger ${env['ORDERFLOW_LEDGER']}, log .orderflow/worker.log`);
    out();
    out('In a second terminal (the environment, with local credentials, is in .orderflow/env):');
    out('  source .orderflow/env');
    out('  ./bin/orderflow api webtv modify_cart --user 7 --set cartAction=add --set productID=1');
    out(`  ./bin/orderflow api webtv place_order --user 7          # prints the order id (${webtv.state.upcomingOrderId} if it is the next order)`);
    out(`  ./bin/orderflow start refund-and-cancel --user 7 --order ${webtv.state.upcomingOrderId} --amount 5.00 --reason "demo" --wait`);
    out();
    out('Press Ctrl-C to stop everything. What the runs do shows below, one line per event.');

    // The Temporal runtime shuts the worker down on SIGINT/SIGTERM; then we close the rest.
    await running;
    out('Worker stopped; closing the simulators and the Temporal dev server...');
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}

if (import.meta.main) {
  Promise.resolve()
    .then(() => runLocalStack(portsFromEnvironment(process.env)))
    .then(
      () => process.stdout.write('orderflow stopped.\n'),
      (error: unknown) => {
        process.stderr.write(`npm start failed: ${messageOf(error)}\n`);
        process.exitCode = 1;
      },
    );
}
