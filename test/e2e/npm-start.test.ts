/**
 * The main job as a new user runs it: `npm start` (src/local-stack.ts) brings up a
 * file-backed Temporal dev server with its UI, both simulators and a worker; a second
 * terminal sources .orderflow/env and refunds and cancels an order with ./bin/orderflow;
 * Ctrl-C stops everything. Free ports and a temporary working directory keep it apart
 * from a developer's own `npm start`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findTemporalCli } from '../../src/temporal/cli-binary.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = `${root}node_modules/.bin/node`;
const cliMissing = findTemporalCli() === undefined;
if (cliMissing) console.warn('Skipping the npm start test: the Temporal CLI is missing (npm test installs it first).');

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export ([A-Z_]+)='(.*)'$/.exec(line);
    if (match) env[match[1]!] = match[2]!.replace(/'\\''/g, "'");
  }
  return env;
}

function run(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(`${root}bin/orderflow`, args, { cwd, env: { PATH: `${root}node_modules/.bin:${process.env['PATH'] ?? ''}`, HOME: process.env['HOME'] ?? '/tmp', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function eventuallyTrue(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the terminal output');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(cliMissing && !process.env['CI'])('npm start, then ./bin/orderflow in a second terminal', () => {
  const directory = mkdtempSync(join(tmpdir(), 'orderflow-start-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('refunds and cancels against the simulators, shows the run in the UI, and stops cleanly on Ctrl-C', { timeout: 180_000 }, async () => {
    const stack = spawn(node, [`${root}src/local-stack.ts`], {
      cwd: directory,
      env: {
        ...process.env,
        ORDERFLOW_START_TEMPORAL_PORT: '0',
        ORDERFLOW_START_UI_PORT: '0',
        ORDERFLOW_START_HTTP_PORT: '0',
        ORDERFLOW_START_WEBTV_PORT: '0',
        ORDERFLOW_START_JUSTCLICK_PORT: '0',
        ORDERFLOW_START_CODEC_PORT: '0',
      },
    });
    let output = '';
    let orderIdPlaced: number | undefined;
    stack.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    stack.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => stack.on('close', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (output.includes('Press Ctrl-C')) {
            clearInterval(timer);
            resolve();
          }
        }, 100);
        void exited.then(() => {
          clearInterval(timer);
          reject(new Error(`npm start exited early:\n${output}`));
        });
      });
      expect(output).toMatch(/Temporal UI\s+http:\/\/127\.0\.0\.1:\d+/);
      const envFile = readFileSync(join(directory, '.orderflow/env'), 'utf8');
      const env = parseEnvFile(envFile);
      // The printed output points at the file; it never prints the secrets themselves.
      expect(output).not.toContain(env['WEBTV_SHARED_SECRET']);
      expect(output).not.toContain(env['JUSTCLICK_SECRET']);

      expect((await run(['api', 'webtv', 'modify_cart', '--user', '7', '--set', 'cartAction=add', '--set', 'productID=1'], env, directory)).code).toBe(0);
      const placed = await run(['api', 'webtv', 'place_order', '--user', '7'], env, directory);
      expect(placed.code).toBe(0);
      const orderId = (JSON.parse(placed.stdout) as { id: number }).id;
      orderIdPlaced = orderId;
      const refund = await run(['start', 'refund-and-cancel', '--user', '7', '--order', String(orderId), '--amount', '5.00', '--reason', 'demo', '--wait'], env, directory);
      expect(refund.stderr).toBe('');
      expect(refund.code).toBe(0);
      expect(refund.stdout).toContain(`Completed: Refund of 5.00 and cancellation of order ${orderId} for store user 7: done.`);
      const credit = await run(['api', 'webtv', 'get_credit', '--user', '7'], env, directory);
      expect(JSON.parse(credit.stdout)).toMatchObject({ data: { buyer_credit: '5.00' } });

      // The terminal shows the run's events, one readable line each; the JSON log is in a file.
      const workflowId = `refund-and-cancel:7:${orderId}`;
      await eventuallyTrue(() => output.includes(`✓ ${workflowId} completed`));
      expect(output).toMatch(new RegExp(`\\d\\d:\\d\\d:\\d\\d ▶ ${workflowId} started \\(refundAndCancel\\)`));
      expect(output).not.toMatch(/^\{"at":/m);
      expect(output).not.toMatch(/taskToken/);
      const log = readFileSync(join(directory, '.orderflow/worker.log'), 'utf8').trim().split('\n');
      expect(log.map((line) => (JSON.parse(line) as { message: string }).message)).toContain('Workflow completed');
      // The env file carries the simulators' admin URLs for the README's curl examples.
      expect(await (await fetch(`${env['WEBTV_SIM_URL']}/state`)).json()).toMatchObject({ store: { nextOrderId: orderId + 1 } });
      expect((await fetch(`${env['JUSTCLICK_SIM_URL']}/faults`)).status).toBe(200);

      // The run is in the Temporal UI's server (the UI's API lists it).
      const page = await fetch(`${env['TEMPORAL_UI_URL']}/namespaces/default/workflows`);
      expect(page.status).toBe(200);
      const listed = await fetch(`${env['TEMPORAL_UI_URL']}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(`StoreUserId = 7`)}`);
      expect(listed.status).toBe(200);
      expect(await listed.text()).toContain(`refund-and-cancel:7:${orderId}`);
      // The HTTP API (for backends in other languages) is printed, in .orderflow/env, and answers.
      expect(output).toContain(`Temporal HTTP API  ${env['TEMPORAL_HTTP_URL']}/api/v1`);
      const described = await fetch(`${env['TEMPORAL_HTTP_URL']}/api/v1/namespaces/default/workflows/refund-and-cancel:7:${orderId}`);
      expect(await described.json()).toMatchObject({ workflowExecutionInfo: { status: 'WORKFLOW_EXECUTION_STATUS_COMPLETED' } });

      // Encryption is on: a key made once in .orderflow/ (0600), every payload stored encrypted,
      // and the codec server (which the UI decodes with) reads them back.
      const keysFile = join(directory, '.orderflow/encryption-keys');
      expect(env['ORDERFLOW_ENCRYPTION_KEYS_FILE']).toBe(keysFile);
      expect(statSync(keysFile).mode & 0o777).toBe(0o600);
      expect(output).toContain(`Codec server       ${env['ORDERFLOW_CODEC_SERVER_URL']}`);
      const stored = await fetch(`${env['TEMPORAL_HTTP_URL']}/api/v1/namespaces/default/workflows/${workflowId}/history`);
      const storedText = await stored.text();
      expect(storedText).toContain('YmluYXJ5L2VuY3J5cHRlZA=='); // base64 of binary/encrypted
      for (const clear of ['"demo"', '5.00', 'Refund of']) expect(storedText).not.toContain(clear);
      const started = (JSON.parse(storedText) as { history: { events: Array<{ workflowExecutionStartedEventAttributes?: { input: { payloads: unknown[] } } }> } }).history.events[0];
      const decoded = await fetch(`${env['ORDERFLOW_CODEC_SERVER_URL']}/decode`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: new URL(env['TEMPORAL_UI_URL'] ?? '').origin },
        body: JSON.stringify({ payloads: started?.workflowExecutionStartedEventAttributes?.input.payloads }),
      });
      expect(decoded.headers.get('access-control-allow-origin')).toBe(new URL(env['TEMPORAL_UI_URL'] ?? '').origin);
      const [input] = ((await decoded.json()) as { payloads: Array<{ data: string }> }).payloads;
      expect(JSON.parse(Buffer.from(input?.data ?? '', 'base64').toString('utf8'))).toMatchObject({ userId: 7, orderId, amount: '5.00', reason: 'demo' });
    } finally {
      stack.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('orderflow stopped.');
    // The next start's orders go on from here: no id Temporal already knows comes back.
    expect(JSON.parse(readFileSync(join(directory, 'data/simulators.json'), 'utf8'))).toEqual({ nextWebTvOrderId: (orderIdPlaced ?? 0) + 1 });
  });
});
