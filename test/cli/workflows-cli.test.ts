/**
 * `orderflow start / status / decide / ops` end to end: ./bin/orderflow runs as a child
 * process against the run's Temporal dev server, with a worker (the real activities) in
 * this process and both simulators on loopback.
 */
import { hostname, userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTestClient, runWorker, temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';
import { placeCurrentOrder, startStack } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';
import type { Client } from '@temporalio/client';
import type { RunStatus } from '../../src/contracts.ts';
import { eventually } from '../../harness/stack.ts';
import { runOrderflow as orderflow } from '../../harness/orderflow-command.ts';

const workflowsPath = fileURLToPath(new URL('../../src/workflows/index.ts', import.meta.url));

describe.skipIf(!temporalAvailable())('orderflow start, status, decide and ops against a real Temporal server', () => {
  let stack: Stack;
  let client: Client;
  let env: Record<string, string>;
  const taskQueue = uniqueTaskQueue('cli');

  beforeAll(async () => {
    stack = await startStack();
    client = await connectTestClient();
    const target = testTemporalTarget();
    env = { TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, ORDERFLOW_TASK_QUEUE: taskQueue, TEMPORAL_UI_URL: 'http://127.0.0.1:8233' };
  });

  afterAll(async () => {
    await client?.connection.close();
    await stack?.close();
  });

  const withWorker = <T>(fn: () => Promise<T>): Promise<T> => runWorker({ workflowsPath, activities: stack.activities, taskQueue }, fn);

  it('starts a refund-and-cancel, follows it with --wait, and shows it with status', async () => {
    const userId = 61;
    const orderId = await placeCurrentOrder(stack, userId);
    await withWorker(async () => {
      const started = await orderflow(['start', 'refund-and-cancel', '--user', String(userId), '--order', String(orderId), '--amount', '1.50', '--reason', 'cli test', '--wait'], env);
      expect(started.stderr).toBe('');
      expect(started.code).toBe(0);
      expect(started.stdout).toContain(`Started refund-and-cancel:${userId}:${orderId}`);
      expect(started.stdout).toContain(`http://127.0.0.1:8233/namespaces/default/workflows/refund-and-cancel%3A${userId}%3A${orderId}`);
      expect(started.stdout).toMatch(/✓ add-credit \(done\): 1\.50 credit added/);
      expect(started.stdout).toMatch(/Completed: Refund of 1\.50/);

      const again = await orderflow(['start', 'refund-and-cancel', '--user', String(userId), '--order', String(orderId), '--amount', '1.50', '--reason', 'cli test'], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`Already there (same request): refund-and-cancel:${userId}:${orderId}`);

      const conflicting = await orderflow(['start', 'refund-and-cancel', '--user', String(userId), '--order', String(orderId), '--amount', '6.00', '--reason', 'cli test'], env);
      expect(conflicting.code).toBe(1);
      expect(conflicting.stdout).toBe('');
      expect(conflicting.stderr).toContain(`refund-and-cancel:${userId}:${orderId} (run `);
      expect(conflicting.stderr).toContain('amount "1.50" there, "6.00" now');

      const status = await orderflow(['status', `refund-and-cancel:${userId}:${orderId}`], env);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('Temporal: COMPLETED');
      expect(status.stdout).toContain('State: completed');
    });
    expect(stack.webtvSim.state.creditOf(userId)).toBe(150);
  }, 90_000); // spawns several orderflow processes, each starting Node 24: slow on a loaded 2-core machine

  it('refuses bad input with exit 2 and starts nothing', async () => {
    const result = await orderflow(['start', 'refund-and-cancel', '--user', 'seven', '--order', '1', '--amount', '5.001'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/userId must be a whole number ≥ 1 \(got "seven"\)/);
    expect(result.stderr).toMatch(/at most two places/);
    await expect(client.workflow.getHandle('refund-and-cancel:seven:1').describe()).rejects.toThrow();
  });

  it('exits 3 for a run waiting for an operator; ops list/show tell the story; decide names the wait, needs --yes/--max for a query, reports a reused decision id', async () => {
    const userId = 62;
    const orderId = await placeCurrentOrder(stack, userId);
    const workflowId = `refund-and-cancel:${userId}:${orderId}`;
    const cliIdentity = `orderflow-cli:${userInfo().username}@${hostname()}`;
    for (let fault = 0; fault < 3; fault++) stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
    const waitingAt = (waitId: string): Promise<RunStatus> =>
      eventually(`${workflowId} to wait at ${waitId}`, async () => {
        const status = await client.workflow.getHandle(workflowId).query<RunStatus>('status');
        return status.awaiting?.waitId === waitId ? status : undefined;
      });
    await withWorker(async () => {
      const started = await orderflow(['start', 'refund-and-cancel', '--user', String(userId), '--order', String(orderId), '--amount', '2.00', '--reason', 'cli test', '--wait'], env);
      expect(started.code).toBe(3);
      expect(started.stdout).toContain('Waiting for an operator at step cancel-order, wait cancel-order#1');
      expect(started.stdout).toContain('REQUEST_ERROR | Invalid key');
      expect(started.stdout).toContain(`Decide with: orderflow decide ${workflowId} --wait cancel-order#1 --action`);

      const list = await orderflow(['ops', 'list'], env);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(new RegExp(`${workflowId}\\s+cancel-order#1\\s+\\d+[smhd]\\s+Step cancel-order was refused by the API`));

      const show = await orderflow(['ops', 'show', workflowId], env);
      expect(show.code).toBe(0);
      expect(show.stdout).toContain(`Refund 2.00 and cancel order ${orderId} for store user ${userId}`);
      expect(show.stdout).toContain('## Waiting for an operator: step `cancel-order`, wait `cancel-order#1`');
      expect(show.stdout).toContain('| `compensate` | Take the refunded credit back');
      // The exact JSON to paste into the UI's Update form.
      expect(show.stdout).toContain('{"waitId":"cancel-order#1","step":"cancel-order","action":"retry","note":"what you checked and why","operator":"your name"}');
      expect(show.stdout).toContain('## Waiting for: cancel-order#1 (step cancel-order; choices retry, skip, compensate, abort)');

      const noNote = await orderflow(['decide', workflowId, '--action', 'retry', '--note', ' ', '--operator', 'anna'], env);
      expect(noNote.code).toBe(2);
      const badWait = await orderflow(['decide', workflowId, '--wait', 'cancel-order', '--action', 'retry', '--note', 'x', '--operator', 'anna'], env);
      expect(badWait.code).toBe(2);
      expect(badWait.stderr).toContain('--wait "cancel-order" is not a wait id');
      const stale = await orderflow(['decide', workflowId, '--wait', 'add-credit#1', '--action', 'skip', '--note', 'old tab', '--operator', 'anna'], env);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain('this decision is for add-credit#1, not the current wait: the run waits for cancel-order#1');

      const query = ['--query', `StoreUserId = ${userId}`, '--action', 'retry', '--note', 'key fixed', '--operator', 'anna'];
      const dryRun = await orderflow(['decide', ...query, '--dry-run'], env);
      expect(dryRun.code).toBe(0);
      expect(dryRun.stdout).toContain('1 run(s) waiting for an operator match');
      expect(dryRun.stdout).toContain(`${workflowId} at cancel-order#1: The order was NOT cancelled`);
      expect((await orderflow(['ops', 'list', '--json'], env)).stdout).toContain(workflowId);

      const badMax = await orderflow(['decide', ...query, '--max', '0'], env);
      expect(badMax.code).toBe(2);
      expect(badMax.stderr).toContain('--max must be a whole number of runs, 1 or more');
      const unconfirmed = await orderflow(['decide', ...query], env);
      expect(unconfirmed.code).toBe(1);
      expect(unconfirmed.stdout).toContain('1 run(s) waiting for an operator match');
      expect(unconfirmed.stderr).toContain('Nothing sent: to decide 1 run(s) at once, add --yes, or --max <n>');
      expect((await waitingAt('cancel-order#1')).decisions).toEqual([]);

      const decided = await orderflow(['decide', ...query, '--max', '1'], env);
      expect(decided.code).toBe(0);
      expect(decided.stdout).toContain('1 accepted, 0 refused.');
      expect(decided.stderr).toContain('1/1');

      // No --wait: the one status shows is taken, and the command says so.
      await waitingAt('cancel-order#2');
      const inferred = await orderflow(['decide', workflowId, '--action', 'retry', '--note', 'key fixed again', '--operator', 'anna', '--decision-id', 'd-1'], env);
      expect(inferred.code).toBe(0);
      expect(inferred.stdout).toContain('No --wait given: deciding cancel-order#2 (step cancel-order), the wait the run\'s status shows now.');
      expect(inferred.stdout).toContain(`accepted: retry at cancel-order#2, recorded as from ${cliIdentity}.`);

      // The decision id reused for another decision: Temporal answers with the first; the CLI says so and exits 1.
      await waitingAt('cancel-order#3');
      const reused = await orderflow(['decide', workflowId, '--wait', 'cancel-order#3', '--action', 'skip', '--note', 'cancelled by hand', '--operator', 'ben', '--decision-id', 'd-1'], env);
      expect(reused.code).toBe(1);
      expect(reused.stderr).toContain(`this decision id (d-1) was already used for retry at cancel-order#2 by anna (Temporal identity: ${cliIdentity})`);
      expect((await waitingAt('cancel-order#3')).decisions).toHaveLength(2);

      const status = await orderflow(['status', workflowId], env);
      expect(status.stdout).toContain(`decision: anna (Temporal identity: ${cliIdentity}) chose retry at cancel-order#2`);
      expect(status.stdout).toContain(`started by (Temporal identity): ${cliIdentity}`);

      const signalled = await orderflow(['decide', workflowId, '--signal', '--action', 'retry', '--note', 'third time', '--operator', 'carla'], env);
      expect(signalled.code).toBe(0);
      expect(signalled.stdout).toContain('signal sent (retry for cancel-order#3)');
      await client.workflow.getHandle(workflowId).result();

      const shown = await orderflow(['ops', 'show', workflowId], env);
      expect(shown.stdout).toContain(`- carla (Temporal identity: ${cliIdentity}) chose retry at cancel-order#3`);
      const late = await orderflow(['decide', workflowId, '--action', 'retry', '--note', 'again', '--operator', 'anna'], env);
      expect(late.code).toBe(1);
      expect(late.stderr).toContain('refused: the run waits for no decision now (state completed');
    });
    expect(stack.webtvSim.state.creditOf(userId)).toBe(200);
  }, 120_000); // spawns several orderflow processes, each starting Node 24: slow on a loaded 2-core machine

  it('says clearly when Temporal cannot be reached', async () => {
    const result = await orderflow(['status', 'refund-and-cancel:1:1'], { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Cannot reach Temporal at 127\.0\.0\.1:1 .*Start it \(npm start runs a local one\) or set TEMPORAL_ADDRESS/s);
  });
});
