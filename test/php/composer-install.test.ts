/**
 * A PHP backend's first day: clients/php/README.md's install steps, done exactly as written
 * in an empty folder outside the checkout — a composer.json with Packagist switched off and
 * the checkout as a `path` repository, `composer require orderflow/client:@dev` — with a
 * COMPOSER_HOME of its own and the network off; then the README's script, run with
 * Composer's vendor/autoload.php: refused settings and input end as one line on stderr and
 * exit 1 (no PHP error), and against the dev server's HTTP API it starts a run.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { composerEnv, composerForTests, runCommand, temporaryComposerHome } from '../../harness/composer.ts';
import { phpForTests, runPhpFile } from '../../harness/php.ts';
import type { PhpRuntime } from '../../harness/php.ts';
import { connectTestClient, temporalAvailable, uniqueTaskQueue } from '../../harness/temporal.ts';

const php = phpForTests({ check: 'the PHP client install from an empty folder', extensions: ['curl', 'json'] });
const composer = composerForTests('the PHP client install from an empty folder');
const checkout = realpathSync(fileURLToPath(new URL('../../', import.meta.url)));
const readme = readFileSync(join(checkout, 'clients/php/README.md'), 'utf8');
/** Where the README's steps say the checkout is. */
const readmeCheckout = '/srv/orderflow';

/** The fenced block after `<!-- install-test: name -->`. */
function readmeBlock(name: string): string {
  const match = new RegExp(`<!-- install-test: ${name} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!match?.[1]) throw new Error(`clients/php/README.md has no block marked install-test: ${name}`);
  return match[1];
}

describe.skipIf(php === undefined || composer === undefined)("clients/php/README.md's install, in an empty folder, offline", () => {
  const runtime = php as PhpRuntime;
  const app = mkdtempSync(join(tmpdir(), 'orderflow-php-app-'));
  const composerHome = temporaryComposerHome();
  afterAll(() => {
    rmSync(app, { recursive: true, force: true });
    composerHome.remove();
  });
  // Any request that gets past COMPOSER_DISABLE_NETWORK goes to a closed port.
  const offline = { ...composerEnv(composerHome.home), http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9' };
  const script = join(app, 'refund.php');
  const runScript = (args: string[], env: Record<string, string>) => runPhpFile(runtime, script, { args, env, killAfterMs: 60_000 });

  it('installs the client with the steps as written, and the script refuses what it cannot use with one line', { timeout: 180_000 }, async () => {
    const steps = readmeBlock('composer');
    expect(steps).toContain(`"url": "${readmeCheckout}/clients/php"`);
    // The one change: where this checkout is (JSON-escaped, as it goes into composer.json).
    const install = steps.replaceAll(readmeCheckout, JSON.stringify(checkout).slice(1, -1));
    const binDirectory = mkdtempSync(join(composerHome.home, 'bin-'));
    const env = { ...offline, PATH: composer!.binary === 'composer' ? (process.env.PATH ?? '') : `${binDirectory}:${process.env.PATH ?? ''}` };
    if (composer!.binary !== 'composer') writeFileSync(join(binDirectory, 'composer'), `#!/bin/sh\nexec ${JSON.stringify(composer!.binary)} "$@"\n`, { mode: 0o755 });

    const run = await runCommand('bash', ['-euo', 'pipefail', '-c', install], { cwd: app, env, killAfterMs: 170_000 });
    expect(run.code, `the README's install steps failed:\n${run.output}`).toBe(0);
    expect(run.output).toMatch(/Installing orderflow\/client \(dev-[\w./-]+\): (Symlinking|Mirroring) from /);
    expect(existsSync(join(app, 'vendor/autoload.php'))).toBe(true);
    expect(lstatSync(join(app, 'vendor/orderflow/client')).isSymbolicLink()).toBe(true);
    expect(realpathSync(join(app, 'vendor/orderflow/client'))).toBe(join(checkout, 'clients/php'));
    expect(JSON.parse(readFileSync(join(app, 'composer.json'), 'utf8'))).toMatchObject({ require: { 'orderflow/client': '@dev' } });

    writeFileSync(script, readmeBlock('php') + '\n');
    const badAddress = await runScript(['9', '320'], { TEMPORAL_HTTP_URL: 'nope' });
    expect({ code: badAddress.exitCode, stdout: badAddress.stdout }).toEqual({ code: 1, stdout: '' });
    expect(badAddress.stderr).toMatch(/^orderflow: The Temporal HTTP API address must be an http\(s\) URL like http:\/\/127\.0\.0\.1:7243, got "nope"\. [^\n]*\n$/);

    const noIds = await runScript([], { TEMPORAL_HTTP_URL: 'http://127.0.0.1:1' });
    expect({ code: noIds.exitCode, stdout: noIds.stdout }).toEqual({ code: 1, stdout: '' });
    expect(noIds.stderr).toBe('orderflow: refund-and-cancel input refused: userId must be a whole number ≥ 1 (got 0); orderId must be a whole number ≥ 1 (got 0)\n');

    const unreachable = await runScript(['9', '320'], { TEMPORAL_HTTP_URL: 'http://127.0.0.1:1' });
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toMatch(/^orderflow: Cannot reach Temporal's HTTP API at http:\/\/127\.0\.0\.1:1\/api\/v1\/namespaces\/default [^\n]*Repeating the call is safe\.\n$/);
  });

  it.skipIf(!temporalAvailable())("starts a run through the dev server's HTTP API with the installed client; the same start again is that run", { timeout: 60_000 }, async () => {
    expect(existsSync(script), 'the install test ran first').toBe(true);
    const taskQueue = uniqueTaskQueue('php-install'); // no worker: the run waits, and is terminated below
    const user = 800_000_000 + Math.floor(Math.random() * 100_000_000);
    const env = { TEMPORAL_HTTP_URL: inject('temporalHttpUrl') ?? '', ORDERFLOW_TASK_QUEUE: taskQueue };
    const workflowId = `refund-and-cancel:${user}:1`;
    const client = await connectTestClient();
    try {
      const first = await runScript([String(user), '1'], env);
      expect({ code: first.exitCode, stdout: first.stdout, stderr: first.stderr }).toEqual({ code: 0, stdout: `Started ${workflowId}\n`, stderr: '' });
      const again = await runScript([String(user), '1'], env);
      expect({ code: again.exitCode, stdout: again.stdout, stderr: again.stderr }).toEqual({ code: 0, stdout: `Already there: ${workflowId}\n`, stderr: '' });
      const description = await client.workflow.getHandle(workflowId).describe();
      expect({ type: description.type, taskQueue: description.taskQueue }).toEqual({ type: 'refundAndCancel', taskQueue });
    } finally {
      await client.workflow.getHandle(workflowId).terminate('install test over').catch(() => undefined);
      await client.connection.close();
    }
  });
});
