/**
 * The PHP client with payload encryption on, through the codec server (clients/php/src/
 * PayloadCodec.php), against the real dev server's HTTP API and a worker with the TypeScript
 * codec: what PHP starts the worker reads and Temporal stores encrypted; what TypeScript
 * starts PHP reads back (status, result, the input it compares a second start with); and
 * payloads themselves both ways (PHP encodes, the TS codec decodes; and back).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import proto from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { Payload } from '@temporalio/common';
import { startRefundAndCancel } from '../../src/client/starters.ts';
import { startCodecServer } from '../../src/temporal/codec-server.ts';
import type { CodecServer } from '../../src/temporal/codec-server.ts';
import { AesGcmPayloadCodec, orderflowDataConverter, readEncryptionKeys } from '../../src/temporal/encryption.ts';
import { phpForTests, runPhpFile } from '../../harness/php.ts';
import type { PhpRuntime } from '../../harness/php.ts';
import { connectTestClient, temporalAvailable } from '../../harness/temporal.ts';
import { useWorkflowTestContext } from '../../harness/workflows.ts';

const php = phpForTests({ check: 'the PHP encryption interop tests', extensions: ['curl', 'json'] });
const script = fileURLToPath(new URL('../fixtures/php/encryption-call.php', import.meta.url));
const keys = readEncryptionKeys({ ORDERFLOW_ENCRYPTION_KEYS: `php-test=${randomBytes(32).toString('base64')}` }).keys!;
const token = randomBytes(24).toString('hex');

type PhpAnswer = { answer?: unknown; exception?: string; message?: string };
type JsonPayload = { metadata: Record<string, string>; data: string };

function toJson(payload: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([name, value]) => [name, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

function fromJson(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata).map(([name, value]) => [name, new Uint8Array(Buffer.from(value, 'base64'))])),
    data: new Uint8Array(Buffer.from(payload.data, 'base64')),
  };
}

describe.skipIf(php === undefined || !temporalAvailable())('the PHP client with payload encryption (codec server)', () => {
  const runtime = php as PhpRuntime;
  const context = useWorkflowTestContext({
    taskQueuePrefix: 'php-encryption',
    firstUserId: 80,
    workflowIdPrefix: `phpenc-${randomUUID().slice(0, 8)}:`,
    dataConverter: orderflowDataConverter(keys),
  });
  const { prefix, customerWithOrder, withWorker } = context;
  let codec: CodecServer;
  let httpApiUrl = '';

  beforeAll(async () => {
    httpApiUrl = inject('temporalHttpUrl') ?? '';
    codec = await startCodecServer({ keys, host: '127.0.0.1', port: 0, access: { token, jwt: undefined }, corsOrigins: new Set() });
  });

  afterAll(async () => {
    await codec?.close();
  });

  async function phpCall(taskQueue: string, method: string, args: unknown[]): Promise<PhpAnswer> {
    const clientOptions = { httpApiUrl, taskQueue, workflowIdPrefix: prefix };
    const codecOptions = { codecServerUrl: codec.url, token };
    const run = await runPhpFile(runtime, script, { args: [JSON.stringify(clientOptions), JSON.stringify(codecOptions), method, JSON.stringify(args)], killAfterMs: 120_000 });
    if (run.exitCode !== 0 || run.stderr.trim() !== '') throw new Error(`php ${method} failed (exit ${String(run.exitCode)}):\n${run.stderr}${run.stdout}`);
    return JSON.parse(run.stdout) as PhpAnswer;
  }

  async function storedHistory(workflowId: string): Promise<Buffer> {
    const raw = await connectTestClient();
    try {
      const history = await raw.workflow.getHandle(workflowId).fetchHistory();
      return Buffer.from(proto.temporal.api.history.v1.History.encode(history).finish());
    } finally {
      await raw.connection.close();
    }
  }

  it('payloads both ways: PHP encodes through the codec server and the TS codec decodes; the TS codec encodes and PHP decodes', async () => {
    const encoded = await phpCall('unused', 'codec.encode', [[toJson(defaultPayloadConverter.toPayload({ reason: 'from PHP, Mrs Ivanova' }))]]);
    const [sealed] = encoded.answer as JsonPayload[];
    expect(Buffer.from(sealed!.metadata['encoding']!, 'base64').toString()).toBe('binary/encrypted');
    const [opened] = await new AesGcmPayloadCodec(keys).decode([fromJson(sealed!)]);
    expect(defaultPayloadConverter.fromPayload(opened!)).toEqual({ reason: 'from PHP, Mrs Ivanova' });

    const [fromTs] = await new AesGcmPayloadCodec(keys).encode([defaultPayloadConverter.toPayload({ amount: '9.99' })]);
    const decoded = await phpCall('unused', 'codec.decode', [[toJson(fromTs!)]]);
    expect(decoded.answer).toEqual([toJson(defaultPayloadConverter.toPayload({ amount: '9.99' }))]);
  });

  it('PHP starts a refund that the worker reads and Temporal stores encrypted; PHP reads its status and result', { timeout: 120_000 }, async () => {
    const { userId, orderId } = await customerWithOrder();
    await withWorker(async (starter) => {
      const input = { userId, orderId, amount: '4.44', reason: 'sent by PHP for Mrs Ivanova', requestedBy: 'php-backend' };
      const started = await phpCall(starter.taskQueue, 'refundAndCancel', [input]);
      expect(started.exception).toBeUndefined();
      const workflowId = (started.answer as { workflowId: string }).workflowId;
      const result = await phpCall(starter.taskQueue, 'result', [workflowId, 60]);
      expect(result.answer).toMatchObject({ outcome: 'completed', summary: expect.stringContaining('Refund of 4.44') });
      const status = await phpCall(starter.taskQueue, 'status', [workflowId]);
      expect(status.answer).toMatchObject({ state: 'completed' });

      // The TS client (with the codec) reads what PHP started: input, summary, details.
      const handle = context.client.workflow.getHandle(workflowId);
      expect(await (await handle.describe()).staticSummary()).toContain('Refund 4.44');
      const stored = await storedHistory(workflowId);
      for (const clear of ['Ivanova', '4.44', 'php-backend']) expect(stored.includes(clear), `"${clear}" stored in clear`).toBe(false);

      // The same request again is the same run: PHP compares with the decoded input; another amount is a conflict.
      const again = await phpCall(starter.taskQueue, 'refundAndCancel', [input]);
      expect(again.answer).toMatchObject({ workflowId, started: false });
      const conflict = await phpCall(starter.taskQueue, 'refundAndCancel', [{ ...input, amount: '7.00' }]);
      expect(conflict.exception).toBe('Orderflow\\Exception\\ConflictException');
      expect(conflict.message).toContain('4.44');
    });
  });

  it('PHP reads a run TypeScript started, and its failure message (encoded in the history)', { timeout: 120_000 }, async () => {
    const { userId, orderId } = await customerWithOrder();
    context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'ERROR_NO_ORDER', text: 'gone for Mrs Ivanova' });
    await withWorker(async (starter) => {
      const started = await startRefundAndCancel(starter, { userId, orderId, amount: '3.30', reason: 'from TypeScript', requestedBy: 'ts' });
      const failure = await phpCall(starter.taskQueue, 'result', [started.workflowId, 60]);
      expect(failure.exception).toBe('Orderflow\\Exception\\RunFailedException');
      expect(failure.message).toContain('gone for Mrs Ivanova');
      expect(failure.message).not.toContain('Encoded failure');
      const stored = await storedHistory(started.workflowId);
      expect(stored.includes('Ivanova')).toBe(false);
      expect(((await started.handle.result().catch((error: unknown) => error)) as Error).message).toBe('Workflow execution failed');
    });
  });

  it('says when the codec server refuses its token, and starts nothing', async () => {
    const run = await runPhpFile(runtime, script, {
      args: [JSON.stringify({ httpApiUrl, taskQueue: 'none', workflowIdPrefix: prefix }), JSON.stringify({ codecServerUrl: codec.url, token: 'wrong-token-wrong-token-wrong' }), 'refundAndCancel', JSON.stringify([{ userId: 1, orderId: 2, amount: '1.00', reason: 'x', requestedBy: 'y' }])],
    });
    const answer = JSON.parse(run.stdout) as PhpAnswer;
    expect(answer.exception).toBe('Orderflow\\Exception\\ApiException');
    expect(answer.message).toMatch(/codec server at http:\/\/127\.0\.0\.1:\d+ refused the token/);
    expect(answer.message).not.toContain('wrong-token');
  });
});
