/**
 * What a command loads and reads: the command table is lazy (`--help` and `api` calls load
 * no Temporal SDK, worker or OpenTelemetry SDK), each command's help lists the variables it
 * reads, a command refuses a bad value of a variable it reads and ignores the others, and
 * `--reason` follows one rule. Nothing here needs a Temporal server: where a command would
 * connect, the address is a closed port, so getting past the check shows as exit 1.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { commands, runCli } from '../../src/cli.ts';
import type { Command, CommandEntry, LeafCommand } from '../../src/cli.ts';
import { loadCommand, renderHelp } from '../../src/cli/framework.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const closedTemporal = { TEMPORAL_ADDRESS: '127.0.0.1:1', USER: 'tester' };

function capture(): { write(chunk: string): boolean; text(): string } {
  const chunks: string[] = [];
  return { write: (chunk: string) => chunks.push(chunk) > 0, text: () => chunks.join('') };
}

async function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(args, { env, stdout, stderr, waitForShutdown: () => new Promise<string>(() => undefined) });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** Every leaf command with its path (`api webtv`), loading lazy entries. */
async function leaves(entries: readonly CommandEntry[], path: readonly Command[] = []): Promise<Array<{ path: Command[]; leaf: LeafCommand }>> {
  const found: Array<{ path: Command[]; leaf: LeafCommand }> = [];
  for (const entry of entries) {
    const command = await loadCommand(entry);
    if ('subcommands' in command) found.push(...(await leaves(command.subcommands, [...path, command])));
    else found.push({ path: [...path, command], leaf: command });
  }
  return found;
}

describe('the command table', () => {
  it('lists each command lazily with the summary the loaded command has', async () => {
    for (const entry of commands) {
      expect('load' in entry, entry.name).toBe(true);
      const command = await loadCommand(entry);
      expect(command.name).toBe(entry.name);
      expect(command.summary, entry.name).toBe(entry.summary);
    }
  });

  it("every command's help lists the environment variables it reads", async () => {
    const all = await leaves(commands);
    expect(all.length).toBeGreaterThan(15);
    for (const { path, leaf } of all) {
      const help = renderHelp([{ name: 'orderflow', summary: '', help: '', subcommands: [] }, ...path]);
      expect(help, leaf.usage).toMatch(/\nEnvironment \(read by this command; it ignores the other orderflow variables\):\n {2}\S/);
      expect(leaf.environment.variables.length, leaf.usage).toBeGreaterThan(0);
    }
    const worker = all.find(({ leaf }) => leaf.usage === 'worker')!.leaf;
    expect(worker.environment.variables).toEqual(expect.arrayContaining(['ORDERFLOW_LEDGER(_FILE)', 'ORDERFLOW_METRICS_PORT', 'TEMPORAL_ADDRESS']));
    const reconcile = all.find(({ leaf }) => leaf.usage.startsWith('reconcile'))!.leaf;
    expect(reconcile.environment.variables).not.toContain('ORDERFLOW_LEDGER(_FILE)');
    expect(reconcile.environment.note).toMatch(/runs on the worker: it reads the ledger .* with the worker's settings/);
  });

  /** The packages a fresh process has loaded after running `args` (CommonJS packages: the SDKs all are). */
  async function packagesLoadedBy(args: readonly string[], env: Record<string, string>): Promise<string[]> {
    const script = `
      import { createRequire } from 'node:module';
      const { runCli } = await import('./src/cli.ts');
      const sink = { write: () => true };
      await runCli(${JSON.stringify(args)}, { stdout: sink, stderr: sink });
      const names = new Set(Object.keys(createRequire(import.meta.url).cache).map((path) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(path)?.[1]).filter(Boolean));
      process.stdout.write(JSON.stringify([...names].sort()));`;
    const { stdout } = await promisify(execFile)(`${root}node_modules/.bin/node`, ['--input-type=module', '-e', script], { cwd: root, env: { PATH: process.env['PATH'] ?? '', ...env } });
    return JSON.parse(stdout) as string[];
  }

  it('--help loads no package at all; an api call loads neither the Temporal client or worker nor the OpenTelemetry SDK; status not the worker', async () => {
    expect(await packagesLoadedBy(['--help'], {})).toEqual([]);
    const api = await packagesLoadedBy(['api', 'webtv', 'get_credit', '--user', '1'], {
      WEBTV_API_URL: 'http://127.0.0.1:1/api.php', WEBTV_KEY_ID: '1b323a1cb879fd4e66530fbad07a32ee', WEBTV_SHARED_SECRET: 'not-a-real-secret',
    });
    expect(api).toContain('undici'); // it did get as far as the call
    for (const heavy of ['@temporalio/client', '@temporalio/worker', '@temporalio/proto', '@grpc/grpc-js', '@opentelemetry/sdk-trace-base', '@opentelemetry/sdk-trace-node', 'webpack']) {
      expect(api).not.toContain(heavy);
    }
    // A Temporal command loads the client, but neither the worker nor, without an OTLP endpoint, the OpenTelemetry SDK.
    const status = await packagesLoadedBy(['status', 'refund-and-cancel:1:1'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(status).toContain('@temporalio/client');
    for (const heavy of ['@temporalio/worker', '@opentelemetry/sdk-trace-base', '@opentelemetry/sdk-trace-node', 'webpack']) expect(status).not.toContain(heavy);
  }, 40_000);
});

describe('environment variables: refused where read, ignored elsewhere', () => {
  it('ORDERFLOW_LEDGER=garbage stops the worker (exit 2, naming it and its forms) before it connects', async () => {
    const result = await run(['worker'], { ...closedTemporal, ORDERFLOW_LEDGER: 'garbage', WEBTV_API_URL: 'http://127.0.0.1:1/api.php', WEBTV_KEY_ID: 'k', WEBTV_SHARED_SECRET: 's' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ORDERFLOW_LEDGER has no scheme; write sqlite:<file path> .* or a postgres:\/\/.* URL/);
    expect(result.stderr).not.toContain('Cannot reach Temporal');
  });

  it.each([['reconcile', '--wait'], ['status', 'refund-and-cancel:1:1'], ['ops', 'list']])(
    '%s ignores the worker-only ORDERFLOW_LEDGER, ORDERFLOW_METRICS_PORT and ORDERFLOW_WORKFLOW_CACHE_MB (gets as far as connecting)',
    async (...args) => {
      const result = await run(args, { ...closedTemporal, ORDERFLOW_LEDGER: 'garbage', ORDERFLOW_METRICS_PORT: 'garbage', ORDERFLOW_WORKFLOW_CACHE_MB: 'lots', WEBTV_API_URL: 'garbage' });
      expect(result.stderr).toMatch(/^Cannot reach Temporal at 127\.0\.0\.1:1/);
      expect(result.code).toBe(1);
    },
  );

  it('a Temporal command refuses a bad Temporal variable it reads (exit 2, naming it)', async () => {
    const result = await run(['status', 'refund-and-cancel:1:1'], { ...closedTemporal, TEMPORAL_UI_URL: 'garbage', ORDERFLOW_TASK_QUEUE: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/TEMPORAL_UI_URL is not a valid URL \("garbage"\); write a full URL/);
  });

  it('api webtv reads the WEBTV_* variables only: a bad one is refused, bad Temporal or ledger settings are not looked at', async () => {
    const refused = await run(['api', 'webtv', 'get_credit', '--user', '1'], { WEBTV_API_URL: 'garbage', WEBTV_KEY_ID: 'k', WEBTV_SHARED_SECRET: 's' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/WEBTV_API_URL is not a valid URL \("garbage"\)/);
    const ignored = await run(['api', 'webtv', 'get_credit', '--user', '1'], {
      WEBTV_API_URL: 'http://127.0.0.1:1/api.php', WEBTV_KEY_ID: 'k', WEBTV_SHARED_SECRET: 's', TEMPORAL_ADDRESS: 'http://nope', ORDERFLOW_LEDGER: 'garbage',
    });
    expect(ignored.stderr).toMatch(/could not connect .* the request was not sent/);
    expect(ignored.code).toBe(1);
  });
});

describe('--reason: one rule', () => {
  it.each([
    [['start', 'refund-and-cancel', '--user', '1', '--order', '1', '--amount', '5'], /reason is required \(a non-empty text\)/],
    [['start', 'refund-and-cancel', '--user', '1', '--order', '1', '--amount', '5', '--reason', ''], /reason is required \(a non-empty text\)/],
    [['start', 'refund-and-cancel', '--user', '1', '--order', '1', '--amount', '5', '--reason', '  '], /reason must be a non-empty text/],
    [['start', 'adjust-credit', '--user', '1', '--action', 'add', '--amount', '5', '--description', 'goodwill'], /reason is required \(a non-empty text\)/],
    [['start', 'cancel-order', '--user', '1', '--order', '1', '--reason', ''], /reason must be a non-empty text, or left out/],
  ])('%j is refused (exit 2) before connecting', async (args, expected) => {
    const result = await run(args, closedTemporal);
    expect(result.stderr).toMatch(expected);
    expect(result.stderr).not.toContain('Cannot reach Temporal');
    expect(result.code).toBe(2);
  });

  it('a given reason (or none, for cancel-order) passes the check: the command gets as far as connecting', async () => {
    for (const args of [
      ['start', 'refund-and-cancel', '--user', '1', '--order', '1', '--amount', '5', '--reason', 'damaged'],
      ['start', 'cancel-order', '--user', '1', '--order', '1'],
    ]) {
      const result = await run(args, closedTemporal);
      expect(result.stderr, args.join(' ')).toMatch(/^Cannot reach Temporal/);
      expect(result.code).toBe(1);
    }
  });

  it('the rule is stated in the help of each start command and the bulk file requires a reason column', async () => {
    for (const kind of ['refund-and-cancel', 'adjust-credit', 'cancel-order']) {
      const help = await run(['start', kind, '--help'], {});
      expect(help.stdout).toMatch(/--reason: required for refund-and-cancel and adjust-credit .* optional for cancel-order\. There is\s+no default text, and an empty or blank --reason is refused everywhere/s);
    }
    expect((await run(['start', 'refund-and-cancel', '--help'], {})).stdout).toMatch(/Usage: orderflow start refund-and-cancel .*--reason <text> \[/);
    expect((await run(['bulk', 'refund-and-cancel', '--help'], {})).stdout).toMatch(/\(required: user, order, amount, reason\)/);
  });
});
