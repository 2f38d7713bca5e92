/**
 * `orderflow reconcile --wait` exits with the same code while the same findings wait for an
 * operator: 3 on every run, whether the reconcile found the drift again or not (a late
 * landing whose credit moved on is not found again, yet its finding still waits), and 0
 * once an operator decided. Against the test run's Temporal dev server, with a worker (the
 * real reconcile activities) in this process.
 */
import { describe, expect, it } from 'vitest';
import { createReconcileActivities } from '../../src/features/reconcile/activities.ts';
import { runCli } from '../../src/cli.ts';
import { centsFromInteger } from '../../src/money.ts';
import { runWorker, temporalAvailable, testTemporalTarget, uniqueTaskQueue } from '../../harness/temporal.ts';
import { decide, useWorkflowTestContext, workflowsPath } from '../../harness/workflows.ts';

function capture(): { write(chunk: string): boolean; text(): string } {
  const chunks: string[] = [];
  return { write: (chunk: string) => chunks.push(chunk) > 0, text: () => chunks.join('') };
}

describe.skipIf(!temporalAvailable())('orderflow reconcile --wait: the exit code follows what waits', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'reconcile-cli', firstUserId: 90 });

  it('exits 3 on consecutive runs while a finding waits (found again or not), 0 once it is decided', async () => {
    const { stack, client } = context;
    // A credit change decided "did not take effect" whose first request landed late: a late-landing finding.
    const userId = context.customerWithCredit(200);
    const key = `${context.prefix}adjust-credit/${userId}/late/adjust-credit#run-1`;
    const observed = { creditCents: 200, credit: '2.00' };
    await stack.ledger.begin(key, { kind: 'credit.add', userId, request: { creditAction: 'add', amount: '3.00', description: 'goodwill' }, observedBefore: observed });
    await stack.ledger.record(key, 'resolved-not-applied', { observedAfter: observed, note: 'test: credit unchanged after the in-flight window' });
    await stack.ledger.record(key, 'pending', { observedBefore: observed, note: 'test: new attempt' });
    await stack.ledger.record(key, 'applied', { response: { ok: 'credit added' } });
    stack.webtvSim.state.setCredit(userId, centsFromInteger(500));
    stack.webtvSim.state.landLateCreditChange(userId, { creditAction: 'add', amount: centsFromInteger(300), description: 'goodwill' });

    const taskQueue = uniqueTaskQueue('reconcile-cli');
    const target = testTemporalTarget();
    const env = { TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, ORDERFLOW_TASK_QUEUE: taskQueue, TEMPORAL_UI_URL: 'http://127.0.0.1:8233' };
    const reconcile = async (): Promise<{ code: number; stdout: string; stderr: string }> => {
      const stdout = capture();
      const stderr = capture();
      const code = await runCli(['reconcile', '--since', '1h', '--wait'], { env, stdout, stderr, waitForShutdown: () => new Promise<string>(() => undefined) });
      return { code, stdout: stdout.text(), stderr: stderr.text() };
    };
    const activities = {
      ...stack.activities,
      ...createReconcileActivities({ ledger: stack.ledger, webtv: stack.webtv, justclick: stack.justclick, client, inFlightWindowMs: 0, readsPerSecond: 50 }),
    };

    await runWorker({ workflowsPath, activities, taskQueue }, async () => {
      const first = await reconcile();
      expect(first.stderr).toBe('');
      expect(first.stdout).toMatch(/1 finding\(s\), 1 new/);
      expect(first.code).toBe(3);

      const again = await reconcile();
      expect(again.stdout).toMatch(/1 finding\(s\), 0 new/);
      expect(again.code).toBe(3);

      // The store user spends the credit: the late landing is not found again, but its finding still waits.
      stack.webtvSim.state.setCredit(userId, centsFromInteger(100));
      const notFoundAgain = await reconcile();
      expect(notFoundAgain.stdout).toContain('No drift found.');
      expect(notFoundAgain.stdout).toMatch(/1 finding\(s\) reported earlier still wait for an operator \(not found again this time\):\n {2}reconcile-finding\S*/);
      expect(notFoundAgain.code).toBe(3);

      const waiting: string[] = [];
      for await (const run of client.workflow.list({ query: `WorkflowType = "reconcileFinding" AND ExecutionStatus = "Running" AND TaskQueue = "${taskQueue}"` })) waiting.push(run.workflowId);
      expect(waiting).toHaveLength(1);
      await decide(client.workflow.getHandle(waiting[0]!), { action: 'skip', operator: 'anna', note: 'checked: the store user spent it' });
      await client.workflow.getHandle(waiting[0]!).result();

      const decided = await reconcile();
      expect(decided.stdout).toContain('No drift found.');
      expect(decided.stdout).not.toContain('still wait for an operator');
      expect(decided.code).toBe(0);
    });
  }, 120_000);
});
