/**
 * clients/php against the real dev server's HTTP API (the global setup's, with its
 * `--http-port`), a worker with the real activities and both simulators: every workflow
 * started and its result read, the same start twice, a conflicting start, status,
 * paymentReceived and decide from PHP; plus bad input refused with no request sent, an
 * unreachable Temporal and refused credentials, and the shared table of inputs.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { workflowRegistry } from '../../src/client/workflow-registry.ts';
import type { WorkflowTypeName } from '../../src/client/workflow-registry.ts';
import { centsFromInteger } from '../../src/money.ts';
import { InputError } from '../../src/validation.ts';
import { eventually, creditCalls } from '../../harness/stack.ts';
import { phpForTests, runPhpFile } from '../../harness/php.ts';
import type { PhpRuntime } from '../../harness/php.ts';
import { temporalAvailable } from '../../harness/temporal.ts';
import { demoOrderTotalCents, useWorkflowTestContext } from '../../harness/workflows.ts';

const php = phpForTests({ check: 'the PHP client tests', extensions: ['curl', 'json'] });
const callScript = fileURLToPath(new URL('../../clients/php/tests/call.php', import.meta.url));
const casesScript = fileURLToPath(new URL('../../clients/php/tests/input-cases.php', import.meta.url));
const casesFile = fileURLToPath(new URL('../fixtures/input-cases.json', import.meta.url));

type PhpAnswer = { answer?: unknown; exception?: string; message?: string; [field: string]: unknown };

/** One call of Orderflow\Client from a php process. */
async function phpCall(runtime: PhpRuntime, options: Record<string, unknown>, method: string, args: unknown[]): Promise<PhpAnswer> {
  const run = await runPhpFile(runtime, callScript, { args: [JSON.stringify(options), method, JSON.stringify(args)], killAfterMs: 120_000 });
  if (run.exitCode !== 0 || run.stderr.trim() !== '') throw new Error(`php ${method} failed (exit ${String(run.exitCode)}):\n${run.stderr}${run.stdout}`);
  return JSON.parse(run.stdout) as PhpAnswer;
}

/** A loopback HTTP server that records requests and answers each with `status` and `body`. */
async function recordingServer(status: number, body: unknown): Promise<{ url: string; requests: Array<{ url: string; headers: IncomingHttpHeaders }>; close(): Promise<void> }> {
  const requests: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer((request, response) => {
    requests.push({ url: request.url ?? '', headers: request.headers });
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

interface InputCase {
  workflow: string;
  note: string;
  input: unknown;
  refused?: string[];
  normalised?: Record<string, unknown>;
  workflowId?: string;
}

/** The problems the TypeScript starters report for a refused case. */
function typeScriptProblems(testCase: InputCase): readonly string[] {
  try {
    (workflowRegistry[testCase.workflow as WorkflowTypeName].validate as (input: unknown) => unknown)(testCase.input);
  } catch (error) {
    if (error instanceof InputError) return error.problems;
    throw error;
  }
  throw new Error(`The TypeScript rules accept the case "${testCase.note}" that the table says is refused.`);
}

describe.skipIf(php === undefined)('the PHP client without Temporal', () => {
  const runtime = php as PhpRuntime;
  const validInput = { userId: 7, orderId: 319, amount: '5.00', reason: 'damaged', requestedBy: 'shop' };

  it('follows the shared table of valid and invalid inputs', async () => {
    const cases = JSON.parse(readFileSync(casesFile, 'utf8')) as InputCase[];
    const run = await runPhpFile(runtime, casesScript, { args: [casesFile] });
    expect(run.stderr).toBe('');
    const answers = JSON.parse(run.stdout) as Array<{ valid: boolean; normalised?: unknown; workflowId?: string; problems?: string[] }>;
    expect(answers).toHaveLength(cases.length);
    cases.forEach((testCase, index) => {
      const answer = answers[index]!;
      if (testCase.refused) {
        // The same problems, word for word, as the TypeScript rules give (whose fields the TS test checks against the table).
        expect({ note: testCase.note, problems: answer.problems }).toEqual({ note: testCase.note, problems: typeScriptProblems(testCase) });
      } else {
        expect({ note: testCase.note, answer }).toEqual({ note: testCase.note, answer: { valid: true, normalised: testCase.normalised, workflowId: testCase.workflowId } });
      }
    });
  });

  it('refuses bad input with every problem and sends nothing', async () => {
    const server = await recordingServer(200, {});
    try {
      const answer = await phpCall(runtime, { httpApiUrl: server.url }, 'refundAndCancel', [{ ...validInput, userId: 'seven', amount: '5.001' }]);
      expect(answer.exception).toBe('Orderflow\\Exception\\InvalidInputException');
      expect(answer['problems']).toEqual(['userId must be a whole number ≥ 1 (got "seven")', 'amount "5.001" is not a decimal amount with at most two places (like 5 or 12.50)']);
      expect(server.requests).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('says when Temporal cannot be reached, and when it refuses the API key (sent as a bearer token)', async () => {
    const unreachable = await phpCall(runtime, { httpApiUrl: 'http://127.0.0.1:1' }, 'status', ['refund-and-cancel:7:319']);
    expect(unreachable.exception).toBe('Orderflow\\Exception\\TemporalUnreachableException');
    expect(unreachable.message).toMatch(/^Cannot reach Temporal's HTTP API at http:\/\/127\.0\.0\.1:1\/api\/v1\/namespaces\/default .*Repeating the call is safe\.$/);

    const server = await recordingServer(401, { code: 16, message: 'Request unauthorized.' });
    try {
      const refused = await phpCall(runtime, { httpApiUrl: server.url, apiKey: 'key-123' }, 'status', ['refund-and-cancel:7:319']);
      expect(refused.exception).toBe('Orderflow\\Exception\\AccessDeniedException');
      expect(refused.message).toContain('Request unauthorized.');
      expect(refused.message).not.toContain('key-123');
      expect(server.requests[0]?.headers['authorization']).toBe('Bearer key-123');
    } finally {
      await server.close();
    }

    const plain = await phpCall(runtime, { httpApiUrl: 'http://temporal.example.com:7243', apiKey: 'key-123' }, 'status', ['x']);
    expect(plain).toMatchObject({ exception: 'InvalidArgumentException', message: expect.stringContaining('only sent over https') });
  });
});

describe.skipIf(php === undefined || !temporalAvailable())('the PHP client on a real Temporal server', () => {
  const runtime = php as PhpRuntime;
  const context = useWorkflowTestContext({ taskQueuePrefix: 'php', firstUserId: 50, workflowIdPrefix: `php-${randomUUID().slice(0, 8)}:` });
  const { prefix, customerWithOrder, customerWithCredit, withWorker } = context;
  let httpApiUrl = '';
  beforeAll(() => {
    httpApiUrl = inject('temporalHttpUrl') ?? '';
    expect(httpApiUrl, 'the global setup provides the dev server HTTP API').toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('starts every workflow and reads its result; the same start twice is one run; another request is a conflict', { timeout: 120_000 }, async () => {
    const refund = await customerWithOrder();
    const cancel = await customerWithOrder();
    const adjustUser = customerWithCredit(0);
    const callsBefore = creditCalls(context.stack);

    await withWorker(async (starter) => {
      const options = { httpApiUrl, taskQueue: starter.taskQueue, workflowIdPrefix: prefix, uiUrl: 'http://127.0.0.1:8233' };
      const refundInput = { userId: refund.userId, orderId: refund.orderId, amount: '2.5', reason: 'damaged', requestedBy: 'shop-backend' };
      const started = await phpCall(runtime, options, 'refundAndCancel', [refundInput]);
      const workflowId = `${prefix}refund-and-cancel:${refund.userId}:${refund.orderId}`;
      expect(started.answer).toMatchObject({ workflowId, started: true, uiUrl: `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}` });
      const runId = (started.answer as { runId: string }).runId;

      const again = await phpCall(runtime, options, 'refundAndCancel', [{ ...refundInput, amount: '2.50', requestedBy: 'retry' }]);
      expect(again.answer).toMatchObject({ workflowId, runId, started: false });

      const result = await phpCall(runtime, options, 'result', [workflowId, 60]);
      expect(result.answer).toMatchObject({ workflowType: 'refundAndCancel', outcome: 'completed' });
      const description = await context.client.workflow.getHandle(workflowId).describe();
      expect(await description.staticSummary()).toBe(`Refund 2.50 and cancel order ${refund.orderId} for store user ${refund.userId}`);

      const afterCompletion = await phpCall(runtime, options, 'refundAndCancel', [refundInput]);
      expect(afterCompletion.answer).toMatchObject({ workflowId, runId, started: false });
      const conflict = await phpCall(runtime, options, 'refundAndCancel', [{ ...refundInput, amount: '3.00' }]);
      expect(conflict).toMatchObject({
        exception: 'Orderflow\\Exception\\ConflictException',
        workflowId,
        runId,
        differences: [{ field: 'amount', existing: '2.50', requested: '3.00' }],
      });
      expect(conflict.message).toContain('amount "2.50" there, "3.00" now');

      const adjusted = await phpCall(runtime, options, 'adjustCredit', [{ userId: adjustUser, action: 'add', amount: '1.00', description: 'Goodwill', reason: 'php test' }]);
      const adjustedId = (adjusted.answer as { workflowId: string }).workflowId;
      expect(adjustedId).toMatch(new RegExp(`^${prefix}adjust-credit:${adjustUser}:[0-9a-f]{20}$`));
      expect((await phpCall(runtime, options, 'result', [adjustedId, 60])).answer).toMatchObject({ outcome: 'completed' });

      const cancelled = await phpCall(runtime, options, 'cancelOrder', [{ userId: cancel.userId, orderId: cancel.orderId, requester: 'BUYER' }]);
      expect((await phpCall(runtime, options, 'result', [(cancelled.answer as { workflowId: string }).workflowId, 60])).answer).toMatchObject({ outcome: 'completed' });

      // A run that ends without a result: RunFailedException with the failure's type.
      const compensated = await customerWithOrder();
      context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'ERROR_NO_ORDER' });
      const failing = await phpCall(runtime, options, 'refundAndCancel', [{ userId: compensated.userId, orderId: compensated.orderId, amount: '1.00', reason: 'pivot fails', requestedBy: 'shop' }]);
      const failingId = (failing.answer as { workflowId: string }).workflowId;
      const failed = await phpCall(runtime, options, 'result', [failingId, 60]);
      expect(failed).toMatchObject({ exception: 'Orderflow\\Exception\\RunFailedException', workflowId: failingId, failureType: 'RunCompensated' });
      expect(failed.message).toMatch(new RegExp(`^${failingId} failed \\(RunCompensated\\): .*failed at cancel-order`));

      const missing = await phpCall(runtime, options, 'status', [`${prefix}refund-and-cancel:1:1`]);
      expect(missing.exception).toBe('Orderflow\\Exception\\NotFoundException');
    });
    expect(creditCalls(context.stack) - callsBefore).toBe(4);
    expect(context.stack.webtvSim.state.creditOf(refund.userId)).toBe(250);
    expect(await context.orderState(cancel.userId, cancel.orderId)).toBe('cancelled');
  });

  it('reads status, sends paymentReceived, and resumes a run waiting for an operator with decide', { timeout: 120_000 }, async () => {
    const paying = await customerWithOrder();
    const stuck = await customerWithOrder();
    await withWorker(async (starter) => {
      const options = { httpApiUrl, taskQueue: starter.taskQueue, workflowIdPrefix: prefix };
      const processing = await phpCall(runtime, options, 'processPaidOrder', [{ userId: paying.userId, orderId: paying.orderId }]);
      const processId = (processing.answer as { workflowId: string }).workflowId;
      // Search attributes and UI details at start, as the contract says (the same as the TS starters set).
      const description = await context.client.workflow.getHandle(processId).describe();
      expect(await description.staticDetails()).toBe(`- **user:** ${paying.userId}\n- **order:** ${paying.orderId}\n- **payment deadline:** 24 hours`);
      expect(description.searchAttributes).toMatchObject({ StoreUserId: [paying.userId], StoreOrderId: [paying.orderId] });
      await eventually('the run to wait for payment', async () => {
        const status = await phpCall(runtime, options, 'status', [processId]);
        return (status.answer as { state?: string } | undefined)?.state === 'waiting-for-payment' ? true : undefined;
      });
      context.stack.webtvSim.state.recordPayment(paying.userId, centsFromInteger(demoOrderTotalCents));
      expect(await phpCall(runtime, options, 'paymentReceived', [processId, 'gateway confirmed', 'payments'])).toEqual({ answer: null });
      expect((await phpCall(runtime, options, 'result', [processId, 60])).answer).toMatchObject({ outcome: 'completed' });

      context.stack.webtvSim.addFault({ operation: 'cancel_order', kind: 'error', code: 'REQUEST_ERROR', text: 'Invalid key' });
      const refund = await phpCall(runtime, options, 'refundAndCancel', [{ userId: stuck.userId, orderId: stuck.orderId, amount: '1.00', reason: 'php', requestedBy: 'shop' }]);
      const refundId = (refund.answer as { workflowId: string }).workflowId;
      const waiting = await eventually('the run to wait for an operator', async () => {
        const status = await phpCall(runtime, options, 'status', [refundId]);
        const answer = status.answer as { state?: string; awaiting?: { step: string; choices: Record<string, string> } } | undefined;
        return answer?.state === 'awaiting-operator' ? answer : undefined;
      });
      expect(waiting.awaiting?.step).toBe('cancel-order');

      // The run's own validator refuses (the client checks only what it can: action, non-empty texts).
      const refused = await phpCall(runtime, options, 'decide', [refundId, 'retry', 'x'.repeat(2_001), 'anna']);
      expect(refused.exception).toBe('Orderflow\\Exception\\DecisionRefusedException');
      expect(refused.message).toContain('"note" must be at most 2000 characters');

      const decided = await phpCall(runtime, options, 'decide', [refundId, 'retry', 'key fixed', 'anna', 'decision-1']);
      expect(decided.answer).toMatchObject({ accepted: true, action: 'retry' });
      const repeated = await phpCall(runtime, options, 'decide', [refundId, 'retry', 'key fixed', 'anna', 'decision-1']);
      expect(repeated.answer).toEqual(decided.answer);
      const result = await phpCall(runtime, options, 'result', [refundId, 60]);
      expect(result.answer).toMatchObject({ outcome: 'completed', decisions: [expect.objectContaining({ action: 'retry', operator: 'anna' })] });
    });
    expect(await context.orderState(paying.userId, paying.orderId)).toBe('processed');
  });
});
