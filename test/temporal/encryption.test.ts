/**
 * Payload encryption against the real dev server, through the production wiring: the worker
 * built by createOrderflowWorker and clients built by connectClient, both from
 * ORDERFLOW_ENCRYPTION_KEYS. The stored history (read raw, without the codec) holds no
 * customer text, while the codec-enabled client reads it; a worker without the run's key
 * fails its workflow task with an error naming the key (logged, in the history, the run
 * kept), and goes on once the key is added (rotation: keys "B,A" read runs written under A);
 * the CLI with the wrong key says which key is missing, without a stack trace.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import proto from '@temporalio/proto';
import { WorkflowFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ApplicationFailure, Payload } from '@temporalio/common';
import { connectClient } from '../../src/client/connect.ts';
import { RequestConflictError, startRefundAndCancel } from '../../src/client/starters.ts';
import type { StartedRun } from '../../src/client/starters.ts';
import { runCli } from '../../src/cli.ts';
import { loadConfig } from '../../src/config.ts';
import type { RunResult, RunStatus } from '../../src/contracts.ts';
import type { LogEntry } from '../../src/run-events.ts';
import { AesGcmPayloadCodec } from '../../src/temporal/encryption.ts';
import { createOrderflowWorker, installRuntime } from '../../src/worker.ts';
import { eventually, placeCurrentOrder, startStack } from '../../harness/stack.ts';
import type { Stack } from '../../harness/stack.ts';
import { centsFromInteger } from '../../src/money.ts';
import { connectTestClient, temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';

const keyA = `A=${randomBytes(32).toString('base64')}`;
const keyB = `B=${randomBytes(32).toString('base64')}`;
const workerLog: LogEntry[] = [];

function text(bytes: Uint8Array | null | undefined): string {
  return new TextDecoder().decode(bytes ?? new Uint8Array());
}

/**
 * Every payload of a history that passes the codec: inputs, results, failures, user metadata.
 * Left out, as Temporal keeps them in clear by design: search attributes (the server indexes
 * them), and the SDK's own marker data (a patch's id; a local activity's seq, attempt, type
 * and times; its result is a payload like any other and is included).
 */
const coreMarkerData = new Set(['data', 'patch-data', 'patch_data']);

function payloadsOf(value: unknown, found: Payload[] = []): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return found;
  if ('metadata' in value && 'data' in value && value.metadata !== null && typeof value.metadata === 'object' && 'encoding' in value.metadata) {
    found.push(value as Payload);
    return found;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === 'searchAttributes') continue;
    if (key === 'markerRecordedEventAttributes' && child !== null && typeof child === 'object') {
      const { details, failure } = child as { details?: Record<string, unknown>; failure?: unknown };
      for (const [name, payloads] of Object.entries(details ?? {})) if (!coreMarkerData.has(name)) payloadsOf(payloads, found);
      payloadsOf(failure, found);
      continue;
    }
    payloadsOf(child, found);
  }
  return found;
}

describe.skipIf(!temporalAvailable())('payload encryption on a real Temporal server', () => {
  let stack: Stack;
  let raw: Client;
  const taskQueue = uniqueTaskQueue('encryption');
  const prefix = `test-${randomUUID().slice(0, 8)}/`;
  let nextUser = 40;
  const envWith = (keys: string): Record<string, string> => {
    const target = testTemporalTarget();
    return { ...stack.env, TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, ORDERFLOW_TASK_QUEUE: taskQueue, ORDERFLOW_ENCRYPTION_KEYS: keys };
  };
  const clientWith = (keys: string): Promise<Client> => connectClient(loadConfig(envWith(keys), ['temporal']).temporal);

  async function withWorker<T>(keys: string, fn: () => Promise<T>): Promise<T> {
    const orderflow = await createOrderflowWorker({ env: envWith(keys) });
    return orderflow.worker.runUntil(fn);
  }

  async function refund(client: Client, reason: string, amount: string): Promise<StartedRun> {
    const userId = nextUser++;
    stack.webtvSim.state.setCredit(userId, centsFromInteger(0));
    const orderId = await placeCurrentOrder(stack, userId, 3); // the season pass, 29.99
    return startRefundAndCancel({ client, taskQueue, workflowIdPrefix: prefix }, { userId, orderId, amount, reason, requestedBy: 'support-anna-petrova' });
  }

  /** The run's history as Temporal stores it, read by a client without the codec. */
  async function storedHistory(workflowId: string): Promise<{ bytes: Buffer; payloads: Payload[] }> {
    const history = await raw.workflow.getHandle(workflowId).fetchHistory();
    return { bytes: Buffer.from(proto.temporal.api.history.v1.History.encode(history).finish()), payloads: payloadsOf(history) };
  }

  beforeAll(async () => {
    installRuntime({ logLevel: 'WARN', logSink: (entry) => workerLog.push(entry) });
    stack = await startStack();
    raw = await connectTestClient();
  });

  afterAll(async () => {
    await raw?.connection.close();
    await stack?.close();
  });

  it('stores no customer text: every payload is encrypted under the first key, and the codec client reads the run', async () => {
    const client = await clientWith(keyA);
    try {
      const result = await withWorker(keyA, async () => {
        const started = await refund(client, 'parcel crushed, Mrs Ivanova', '24.73');
        return { started, value: (await started.handle.result()) as RunResult };
      });
      expect(result.value.outcome).toBe('completed');
      expect(result.value.summary).toContain('24.73');

      const stored = await storedHistory(result.started.workflowId);
      // Run ids, request ids (UUIDs) and the worker's build id (a long hex digest) are in clear:
      // a digit run such as "2473" can turn up in one by chance, so they are left out of the
      // search for the amount in cents (four digits: three matched a timestamp's bytes once).
      const searched = stored.bytes.toString('latin1').replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}/gi, '');
      for (const customerText of ['Ivanova', 'parcel crushed', '24.73', '2473', 'anna-petrova', 'credit 0.00']) {
        const at = searched.indexOf(customerText);
        expect(at === -1, `"${customerText}" in the stored history: ${JSON.stringify(searched.slice(Math.max(0, at - 80), at + 40))}`).toBe(true);
      }
      expect(stored.payloads.length).toBeGreaterThan(5);
      for (const payload of stored.payloads) {
        expect(text(payload.metadata?.['encoding'])).toBe('binary/encrypted');
        expect(text(payload.metadata?.['encryption-key-id'])).toBe('A');
      }

      // The codec-enabled client reads input, UI summary and details.
      const description = await client.workflow.getHandle(result.started.workflowId).describe();
      expect(await description.staticSummary()).toContain('Refund 24.73');
      expect(await description.staticDetails()).toContain('parcel crushed, Mrs Ivanova');
    } finally {
      await client.connection.close();
    }
  });

  it('encodes failure messages too: a vendor refusal and the compensation it causes leave no text in the history', async () => {
    const client = await clientWith(keyA);
    try {
      stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'ERROR_NO_ORDER', text: 'no such order for Mrs Ivanova' });
      const { started, failure } = await withWorker(keyA, async () => {
        const run = await refund(client, 'refused by the store', '4.44');
        return { started: run, failure: await run.handle.result().catch((error: unknown) => error) };
      });
      // The codec client reads the failure's message (decoded from its encoded attributes).
      expect(failure).toBeInstanceOf(WorkflowFailedError);
      const cause = (failure as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('RunCompensated');
      expect(cause.message).toContain('no such order for Mrs Ivanova');
      const stored = await storedHistory(started.workflowId);
      const history = await raw.workflow.getHandle(started.workflowId).fetchHistory();
      const failures = JSON.stringify(history.events).match(/"message":"[^"]*"/g) ?? [];
      expect(failures.length).toBeGreaterThan(0);
      expect(new Set(failures)).toEqual(new Set(['"message":"Encoded failure"']));
      for (const customerText of ['Ivanova', 'ERROR_NO_ORDER', 'refused by the store', '4.44']) {
        expect(stored.bytes.includes(customerText), `"${customerText}" in the stored history`).toBe(false);
      }
    } finally {
      await client.connection.close();
    }
  });

  it('a worker without the key fails the workflow task with an error naming the key, keeps the run, and finishes it once the keys are "B,A"', async () => {
    const clientA = await clientWith(keyA);
    let started: StartedRun;
    try {
      started = await refund(clientA, 'written under A, read by B', '2.05');
    } finally {
      await clientA.connection.close();
    }
    await withWorker(keyB, async () => {
      const failed = await eventually('the workflow task to fail', async () => {
        const history = await raw.workflow.getHandle(started.workflowId).fetchHistory();
        return history.events?.find((event) => event.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes ?? undefined;
      }, 30_000);
      // The failure's message is itself encoded (encodeCommonAttributes), under the worker's key.
      expect(failed.failure?.message).toBe('Encoded failure');
      const encoded = failed.failure?.encodedAttributes;
      expect(text(encoded?.metadata?.['encryption-key-id'])).toBe('B');
      const [attributes] = await new AesGcmPayloadCodec(loadConfig(envWith(`${keyB},${keyA}`), ['temporal']).temporal.encryption!).decode([encoded!]);
      expect(defaultPayloadConverter.fromPayload<{ message: string }>(attributes!).message).toMatch(/encrypted with the key "A", which is not configured here \(the configured keys are B\)/);
      const logged = workerLog.find((entry) => entry.message.startsWith('cannot decrypt a payload'));
      expect(logged?.level).toBe('ERROR');
      expect(logged?.meta).toMatchObject({ workflowId: started.workflowId, keyId: 'A' });
    });
    const describe = await raw.workflow.getHandle(started.workflowId).describe();
    expect(describe.status.name).toBe('RUNNING');

    // Rotation: B encrypts, A still decrypts; the stuck run goes on, the first test's run stays readable.
    const rotated = await clientWith(`${keyB},${keyA}`);
    try {
      await withWorker(`${keyB},${keyA}`, async () => {
        const value = (await rotated.workflow.getHandle(started.workflowId).result()) as RunResult;
        expect(value.outcome).toBe('completed');
        const newer = await refund(rotated, 'written under B', '1.10');
        await newer.handle.result();
        const stored = await storedHistory(newer.workflowId);
        expect(new Set(stored.payloads.map((payload) => text(payload.metadata?.['encryption-key-id'])))).toEqual(new Set(['B']));
        // A query replays the run written under A on this worker.
        const status = await rotated.workflow.getHandle(started.workflowId).query<RunStatus>('status');
        expect(status.state).toBe('completed');
      });
    } finally {
      await rotated.connection.close();
    }
  });

  it('a worker given a key reads a run written before it had one (plain payloads pass through)', async () => {
    // Started by a client without the codec: its input and summary are stored in clear.
    const started = await refund(raw, 'written before encryption', '1.23');
    const client = await clientWith(keyA);
    try {
      const value = await withWorker(keyA, () => client.workflow.getHandle(started.workflowId).result() as Promise<RunResult>);
      expect(value.outcome).toBe('completed');
      const stored = await storedHistory(started.workflowId);
      const encodings = new Set(stored.payloads.map((payload) => text(payload.metadata?.['encoding'])));
      expect(encodings).toEqual(new Set(['json/plain', 'binary/encrypted']));
    } finally {
      await client.connection.close();
    }
  });

  it('a start that differs from the encrypted run under its key is refused as a conflict naming the field', async () => {
    const client = await clientWith(keyA);
    try {
      const userId = nextUser++;
      stack.webtvSim.state.setCredit(userId, centsFromInteger(0));
      const orderId = await placeCurrentOrder(stack, userId, 3);
      const start = (amount: string): Promise<StartedRun> =>
        startRefundAndCancel({ client, taskQueue, workflowIdPrefix: prefix }, { userId, orderId, amount, reason: 'conflict check', requestedBy: 'support-anna-petrova' });
      await withWorker(keyA, async () => (await start('2.00')).handle.result());
      const refused = await start('3.00').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(RequestConflictError);
      expect((refused as RequestConflictError).message).toContain('amount "2.00" there, "3.00" now');
    } finally {
      await client.connection.close();
    }
  });

  it('the CLI given only a key the run was not written with says which key to add, with no stack trace (exit 1)', async () => {
    const clientA = await clientWith(keyA);
    let workflowId: string;
    try {
      workflowId = await withWorker(keyA, async () => {
        const started = await refund(clientA, 'for the CLI', '3.00');
        await started.handle.result();
        return started.workflowId;
      });
    } finally {
      await clientA.connection.close();
    }
    let stdout = '';
    let stderr = '';
    // The worker (key A) answers the status query; the CLI (key B only) cannot read the answer.
    const code = await withWorker(keyA, () =>
      runCli(['status', workflowId], { env: envWith(keyB), stdout: { write: (chunk: string) => (stdout += chunk) }, stderr: { write: (chunk: string) => (stderr += chunk) } }),
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/^Cannot read the run's data: A payload is encrypted with the key "A", which is not configured here \(the configured keys are B\); add that key to ORDERFLOW_ENCRYPTION_KEYS/);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).not.toContain('for the CLI');
  });
});
