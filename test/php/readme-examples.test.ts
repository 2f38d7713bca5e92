/**
 * The examples of docs/php-client.md ("Starting runs from your backend", linked from the
 * README), executed as written against the real dev server's HTTP API with a worker and
 * the simulators: the PHP script (with the package's autoloader as vendor/autoload.php) and the curl commands (with the store
 * user and order ids of this test's orders).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { phpForTests, runPhpFile } from '../../harness/php.ts';
import type { PhpRuntime } from '../../harness/php.ts';
import { temporalAvailable } from '../../harness/temporal.ts';
import { useWorkflowTestContext } from '../../harness/workflows.ts';

const php = phpForTests({ check: 'the PHP and curl examples of docs/php-client.md', extensions: ['curl', 'json'] });
const document = 'docs/php-client.md';
const readme = readFileSync(fileURLToPath(new URL(`../../${document}`, import.meta.url)), 'utf8');
const bootstrap = fileURLToPath(new URL('../../clients/php/tests/bootstrap.php', import.meta.url));

/** The fenced block after `<!-- readme-test: name -->`. */
function readmeBlock(name: string): string {
  const match = new RegExp(`<!-- readme-test: ${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!match?.[1]) throw new Error(`${document} has no example marked readme-test: ${name}`);
  return match[1];
}

function runBash(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe.skipIf(php === undefined || !temporalAvailable())('the examples for backends (docs/php-client.md)', () => {
  const context = useWorkflowTestContext({ taskQueuePrefix: 'readme', firstUserId: 90, workflowIdPrefix: '' });
  const directory = mkdtempSync(join(tmpdir(), 'orderflow-readme-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('the PHP script refunds and cancels and prints the result; the curl commands do the same', { timeout: 120_000 }, async () => {
    const httpUrl = inject('temporalHttpUrl') ?? '';
    const viaPhp = await context.customerWithOrder();
    const viaCurl = await context.customerWithOrder();
    mkdirSync(join(directory, 'vendor'), { recursive: true });
    writeFileSync(join(directory, 'vendor/autoload.php'), `<?php\nrequire ${JSON.stringify(bootstrap)};\n`);
    writeFileSync(join(directory, 'refund.php'), readmeBlock('php').replace("require 'vendor/autoload.php';", `require ${JSON.stringify(join(directory, 'vendor/autoload.php'))};`));

    await context.withWorker(async (starter) => {
      const env = { TEMPORAL_HTTP_URL: httpUrl, ORDERFLOW_TASK_QUEUE: starter.taskQueue, TEMPORAL_UI_URL: 'http://127.0.0.1:8233' };
      const run = await runPhpFile(php as PhpRuntime, join(directory, 'refund.php'), { args: [String(viaPhp.userId), String(viaPhp.orderId)], env });
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe(
        `Started refund-and-cancel:${viaPhp.userId}:${viaPhp.orderId}\n` +
          `  http://127.0.0.1:8233/namespaces/default/workflows/refund-and-cancel%3A${viaPhp.userId}%3A${viaPhp.orderId}\n` +
          `completed: Refund of 5.00 and cancellation of order ${viaPhp.orderId} for store user ${viaPhp.userId}: done.\n`,
      );

      const script = readmeBlock('curl').replace(/^user=\d+ order=\d+$/m, `user=${viaCurl.userId} order=${viaCurl.orderId}`);
      expect(script).toContain(`user=${viaCurl.userId} order=${viaCurl.orderId}`);
      const curl = await runBash(script, env);
      expect(curl.stderr).toBe('');
      expect(curl.code).toBe(0);
      const [startAnswer, resultAnswer] = curl.stdout.trim().split('\n');
      expect(JSON.parse(startAnswer!)).toMatchObject({ started: true, runId: expect.any(String) });
      expect(JSON.parse(resultAnswer!)).toMatchObject({
        history: {
          events: [
            {
              eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
              workflowExecutionCompletedEventAttributes: {
                result: [{ outcome: 'completed', summary: `Refund of 5.00 and cancellation of order ${viaCurl.orderId} for store user ${viaCurl.userId}: done.` }],
              },
            },
          ],
        },
      });
    });
    expect(context.stack.webtvSim.state.creditOf(viaPhp.userId)).toBe(500);
    expect(context.stack.webtvSim.state.creditOf(viaCurl.userId)).toBe(500);
  });
});
