/**
 * Records the event histories that test/workflows/replay.test.ts replays against the
 * current workflow code, into test/fixtures/histories/<scenario>.json.
 *
 *   npm run record-histories                     # every scenario that has no fixture yet
 *   npm run record-histories -- <scenario>…      # only these (again: only new ones)
 *   npm run record-histories -- --list           # names, and what each covers
 *
 * The fixtures are the recorded 1.0 histories (docs/versioning.md): they stand for runs
 * of the 1.0 shape that exist in production, and from 1.0 on every change to workflow code
 * is gated by `patched()` and replay-tested against them. So the script never overwrites a
 * fixture: it records new scenarios only (adding one is always fine; commit it with the
 * change that needs it). Re-recording an existing fixture hides exactly the
 * nondeterminism the replay test is there to find; `--rerecord` does it anyway, for the
 * one case where that is right: a new major version that drops every patch, with a new
 * baseline (then say in CHANGELOG.md which fixtures were re-recorded).
 *
 * What it uses: its own Temporal dev server (the Temporal CLI, as for the tests: see
 * src/temporal/cli-binary.ts), the test stack and the scenarios of harness/histories.ts,
 * and a worker on src/workflows/index.ts. Workflow ids are `fixture/<business key>`. The
 * sample credentials never reach a history; the script checks that before writing
 * (payloads decoded), and the checkout's path is replaced by `.` in stack traces.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createBulkActivities } from '../src/features/bulk/activities.ts';
import type { StarterOptions } from '../src/client/starters.ts';
import { requireTemporalCli } from '../src/temporal/cli-binary.ts';
import { historiesDirectory, historyToJson, scenarios } from '../harness/histories.ts';
import { sampleCredentials, startStack } from '../harness/stack.ts';
import { startTestServer } from '../harness/test-server.ts';

const workflowsPath = fileURLToPath(new URL('../src/workflows/index.ts', import.meta.url));
const repositoryRoot = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/** Every string in a JSON tree, with base64 payload data also decoded. */
function textsOf(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') {
    into.push(value);
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(value) && value.length % 4 === 0) into.push(Buffer.from(value, 'base64').toString('utf8'));
  } else if (Array.isArray(value)) {
    for (const item of value) textsOf(item, into);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) textsOf(item, into);
  }
  return into;
}

function assertNoSecrets(name: string, history: unknown): void {
  const secrets = [sampleCredentials.webtvKeyId, sampleCredentials.webtvSharedSecret, sampleCredentials.justclickSecret];
  const texts = textsOf(history);
  if (secrets.some((secret) => texts.some((text) => text.includes(secret)))) {
    throw new Error(`the history of scenario ${name} contains a credential of the test stack; nothing was written. Find where it leaks into workflow data and fix that.`);
  }
}

/** A mistake in how the script was called: reported in one line, exit code 2. */
class UsageError extends Error {}

async function main(argv: readonly string[]): Promise<void> {
  if (argv.includes('--list')) {
    for (const scenario of scenarios) console.log(`${scenario.name}\n    ${scenario.covers}`);
    return;
  }
  const rerecord = argv.includes('--rerecord');
  const args = argv.filter((arg) => arg !== '--rerecord');
  const unknown = args.filter((name) => !scenarios.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    throw new UsageError(`unknown scenario ${unknown.join(', ')}; the scenarios are: ${scenarios.map((scenario) => scenario.name).join(', ')}`);
  }
  const named = args.length === 0 ? scenarios : scenarios.filter((scenario) => args.includes(scenario.name));
  const recorded = new Set(existsSync(historiesDirectory) ? readdirSync(historiesDirectory) : []);
  const existing = named.filter((scenario) => recorded.has(`${scenario.name}.json`));
  if (existing.length > 0 && !rerecord) {
    if (args.length > 0) {
      throw new UsageError(
        `${existing.map((scenario) => scenario.name).join(', ')} already recorded: the fixtures are the 1.0 histories and are not re-recorded ` +
          '(docs/versioning.md). Gate the workflow change with patched() instead; --rerecord overwrites them for a new baseline only.',
      );
    }
    console.log(`Already recorded (kept): ${existing.map((scenario) => scenario.name).join(', ')}`);
  }
  const chosen = rerecord ? named : named.filter((scenario) => !existing.includes(scenario));
  if (chosen.length === 0) {
    console.log('Nothing to record: every scenario has its fixture.');
    return;
  }

  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const server = await startTestServer(requireTemporalCli());
    cleanups.unshift(() => server.teardown());
    const stack = await startStack();
    cleanups.unshift(() => stack.close());
    const connection = await Connection.connect({ address: server.address });
    cleanups.unshift(() => connection.close());
    const workerConnection = await NativeConnection.connect({ address: server.address });
    cleanups.unshift(() => workerConnection.close());
    // Fixed identities: the history records them, and a fixture should not name the machine it was recorded on.
    const client = new Client({ connection, namespace: 'default', identity: 'record-histories client' });
    const taskQueue = 'record-histories';
    const worker = await Worker.create({
      connection: workerConnection,
      namespace: 'default',
      taskQueue,
      workflowsPath,
      activities: { ...stack.activities, ...createBulkActivities({ client, rows: stack.ledger.bulkRows }) },
      identity: 'record-histories worker',
    });
    const starter: StarterOptions = { client, taskQueue, workflowIdPrefix: 'fixture/' };
    await mkdir(historiesDirectory, { recursive: true });
    await worker.runUntil(async () => {
      for (const scenario of chosen) {
        const handle = await scenario.run({ stack, starter });
        const description = await handle.describe();
        if (description.status.name !== scenario.ends) {
          throw new Error(
            `scenario ${scenario.name} ended ${description.status.name}, not ${scenario.ends} as it should (${scenario.covers}); ` +
              'nothing was written for it. Fix the scenario for the new workflow code first.',
          );
        }
        // Failure stack traces name the checkout's path; a fixture should not name the machine.
        const json = historyToJson(await handle.fetchHistory()).split(repositoryRoot).join('.');
        assertNoSecrets(scenario.name, JSON.parse(json));
        const file = join(historiesDirectory, `${scenario.name}.json`);
        await writeFile(file, json);
        console.log(`${scenario.name}: ${description.status.name}, ${description.historyLength} events → ${file}`);
      }
    });
  } finally {
    for (const cleanup of cleanups) await cleanup().catch((error: unknown) => console.error('record-histories: cleanup failed:', error));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`record-histories: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    console.error('record-histories failed:', error);
    process.exitCode = 1;
  });
}
