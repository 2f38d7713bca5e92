/**
 * The `orderflow` command end to end: ./bin/orderflow runs as a child process (as a
 * person would run it) against simulators in this process, on loopback ports chosen by
 * the OS.
 */
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJustClickSimulator } from '../../src/simulators/justclick/index.ts';
import { startWebTvSimulator } from '../../src/simulators/webtv/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const launcher = `${root}bin/orderflow`;

// The vendors' public sample credentials (seeds/), never real ones.
const webTvKeyId = '1b323a1cb879fd4e66530fbad07a32ee';
const webTvSecret = 'MWIzMjNhMWNiODc5ZmQ0ZTY2NTMwZmJhZDA3YTMyZWViOTQ3MDJiOGM2ZTU2NjE3';
const justClickLogin = 'username';
const justClickSecret = 'X'.repeat(40);

/** A clean environment: only PATH (with Node 24 first) and what the test passes. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: `${root}node_modules/.bin:${process.env['PATH'] ?? '/usr/bin:/bin'}`, HOME: process.env['HOME'] ?? '/tmp', ...extra };
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function collect(child: ChildProcess): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function orderflow(args: string[], env: Record<string, string>): Promise<RunResult> {
  return collect(spawn(launcher, args, { cwd: root, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function simCalls(origin: string): Promise<unknown[]> {
  const response = await fetch(`${origin}/_sim/calls`);
  return (await response.json()) as unknown[];
}

let webTv: Awaited<ReturnType<typeof startWebTvSimulator>>;
let justClick: Awaited<ReturnType<typeof startJustClickSimulator>>;
let webTvEnv: Record<string, string>;
let justClickEnv: Record<string, string>;

beforeAll(async () => {
  webTv = await startWebTvSimulator({ host: '127.0.0.1', port: 0, credentials: [{ keyId: webTvKeyId, sharedSecret: webTvSecret }], seed: 'demo' });
  justClick = await startJustClickSimulator({ host: '127.0.0.1', port: 0, login: justClickLogin, secret: justClickSecret, seed: 'demo' });
  webTvEnv = { WEBTV_API_URL: webTv.apiUrl, WEBTV_KEY_ID: webTvKeyId, WEBTV_SHARED_SECRET: webTvSecret };
  justClickEnv = { JUSTCLICK_API_URL: justClick.apiUrl, JUSTCLICK_LOGIN: justClickLogin, JUSTCLICK_SECRET: justClickSecret };
});

afterAll(async () => {
  await Promise.all([webTv?.close(), justClick?.close()]);
});

describe('orderflow (help and usage)', () => {
  it('prints help at every level with exit 0', async () => {
    for (const args of [['--help'], ['api', '--help'], ['api', 'webtv', '--help'], ['api', 'justclick', '-h'], ['simulate', '--help']]) {
      const result = await orderflow(args, {});
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/^Usage: orderflow/);
      expect(result.stdout).toMatch(/Examples?:|Commands:/);
    }
  });

  it('refuses an unknown command with exit 2 and the usage line', async () => {
    const result = await orderflow(['frobnicate'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('orderflow: unknown command "frobnicate"');
    expect(result.stderr).toContain('Usage: orderflow <command> [options]');
  });
});

describe('orderflow api webtv', () => {
  it('calls get_credit and prints the JSON answer', async () => {
    const result = await orderflow(['api', 'webtv', 'get_credit', '--user', '1'], webTvEnv);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const answer = JSON.parse(result.stdout) as { data: { buyer_credit: unknown } };
    expect(answer.data.buyer_credit).toEqual(expect.stringMatching(/^\d+\.\d{2}$/));
    expect(result.stdout).toContain('\n  "data": {'); // pretty-printed
  });

  it('prints an API rejection as CODE | text on stderr and exits 1', async () => {
    // Demo user 1 has no credit: subtracting is a documented refusal.
    const result = await orderflow(
      ['api', 'webtv', 'add_subtract_credit', '--user', '1', '--set', 'creditAction=subtract', '--set', 'amount=1.00'],
      webTvEnv,
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toBe("ERROR_CANT_SUBTRACT | Can't subtract credit because the user does not have any available");
    expect(result.stderr).toMatch(/add_subtract_credit/);
  });

  it('prints a not-sent outcome and exits 1', async () => {
    // A loopback port nobody listens on: the simulator's own port after it closed.
    const closed = await startWebTvSimulator({ host: '127.0.0.1', port: 0, credentials: [{ keyId: webTvKeyId, sharedSecret: webTvSecret }] });
    const apiUrl = closed.apiUrl;
    await closed.close();
    const result = await orderflow(['api', 'webtv', 'get_credit', '--user', '1'], { ...webTvEnv, WEBTV_API_URL: apiUrl });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/was not sent/);
    expect(result.stderr).not.toContain(webTvSecret);
  });

  it.each([
    [['api', 'webtv', 'refund_everything', '--user', '1'], /unknown action "refund_everything"/],
    [['api', 'webtv', 'get_credit'], /--user <id> is required/],
    [['api', 'webtv', 'get_credit', '--user', 'abc'], /--user "abc" is not a user id/],
    [['api', 'webtv', 'get_credit', '--user', '1', '--set', 'novalue'], /--set "novalue" must have the form name=value/],
    [['api', 'webtv', 'get_credit', '--user', '1', '--set', '=x'], /must have the form name=value/],
    [['api', 'webtv', 'get_credit', '--user', '1', '--usr', '2'], /Unknown option '--usr'/],
    [['api', 'webtv'], /the action is missing/],
  ])('bad usage %j exits 2 with the usage line and sends nothing', async (args, expected) => {
    const before = (await simCalls(webTv.origin)).length;
    const result = await orderflow(args, webTvEnv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(expected);
    expect(result.stderr).toContain('Usage: orderflow api webtv <action> --user <id> [--set name=value]...');
    expect(await simCalls(webTv.origin)).toHaveLength(before);
  });

  it('sends nothing at all for bad usage (the call log stays empty)', async () => {
    const fresh = await startWebTvSimulator({ host: '127.0.0.1', port: 0, credentials: [{ keyId: webTvKeyId, sharedSecret: webTvSecret }] });
    try {
      const env = { ...webTvEnv, WEBTV_API_URL: fresh.apiUrl };
      const result = await orderflow(['api', 'webtv', 'get_credit', '--user', '-1'], env);
      expect(result.code).toBe(2);
      expect(await simCalls(fresh.origin)).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it('bad configuration exits 2, lists every problem, and prints no secret', async () => {
    const result = await orderflow(['api', 'webtv', 'get_credit', '--user', '1'], {
      WEBTV_API_URL: 'http://shop.example.com/api.php',
      WEBTV_SHARED_SECRET: `${webTvSecret} `,
      JUSTCLICK_SECRET: justClickSecret, // not needed by this command: not read
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('The configuration is invalid (3 problems):');
    expect(result.stderr).toContain('WEBTV_API_URL uses http (http://shop.example.com/api.php); use https.');
    expect(result.stderr).toContain('WEBTV_KEY_ID is not set');
    expect(result.stderr).toContain('WEBTV_SHARED_SECRET from the environment has leading or trailing whitespace');
    expect(result.stderr).not.toContain(webTvSecret);
    expect(result.stderr).not.toContain(justClickSecret);
  });
});

describe('orderflow api justclick', () => {
  const billId = `cli-test-${process.pid}`;

  it('creates an order from nested --set goods[0][good_name]=... fields', async () => {
    const result = await orderflow(
      [
        'api', 'justclick', 'CreateOrder',
        '--set', `bill_id=${billId}`,
        '--set', 'bill_email=buyer@example.com',
        '--set', 'goods[0][good_name]=course',
        '--set', 'goods[0][good_sum]=990.00',
      ],
      justClickEnv,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ error_code: 0 });
    const calls = (await simCalls(justClick.origin)) as Array<{ operation: string | null; fields: Record<string, string> }>;
    const sent = calls.findLast((call) => call.operation === 'CreateOrder');
    expect(sent?.fields).toMatchObject({ 'goods[0][good_name]': 'course', 'goods[0][good_sum]': '990.00', bill_id: billId });
  });

  it('deletes it, then reports it already absent, which is not a failure (exit 0)', async () => {
    const deleted = await orderflow(['api', 'justclick', 'DeleteOrder', '--set', `bill_id=${billId}`], justClickEnv);
    expect(deleted.stderr).toBe('');
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toMatchObject({ error_code: 0 });

    const again = await orderflow(['api', 'justclick', 'DeleteOrder', '--set', `bill_id=${billId}`], justClickEnv);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr.split('\n')[0]).toMatch(/^(200 \| Nonexistent order|302 \| .+)$/);
    expect(again.stderr).toMatch(/already absent \(for DeleteOrder this is not a failure/);
    expect(again.stderr).not.toContain(justClickSecret);
  });

  it('refuses a bad method name with exit 2', async () => {
    const before = (await simCalls(justClick.origin)).length;
    const result = await orderflow(['api', 'justclick', '../DeleteOrder', '--set', 'bill_id=1'], justClickEnv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/is not a JustClick method this command knows; the methods are: DeleteOrder, CreateOrder, UpdateOrderStatus, GetOrderInfo/);
    expect(await simCalls(justClick.origin)).toHaveLength(before);
  });
});

describe('orderflow simulate', () => {
  /** Resolves with everything printed on stdout once `marker` appears. */
  function readUntil(child: ChildProcess, marker: string): Promise<string> {
    return new Promise((resolve, reject) => {
      let text = '';
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        text += chunk;
        if (text.includes(marker)) resolve(text);
      });
      child.on('exit', (code) => reject(new Error(`orderflow simulate exited (${code}) before printing ${JSON.stringify(marker)}; it printed:\n${text}`)));
    });
  }

  it('runs both simulators on free ports, prints their URLs, and exits 0 on SIGTERM', async () => {
    const child = spawn(launcher, ['simulate', '--webtv-port', '0', '--justclick-port', '0'], {
      cwd: root,
      env: childEnv({ WEBTV_KEY_ID: webTvKeyId, WEBTV_SHARED_SECRET: webTvSecret, JUSTCLICK_LOGIN: justClickLogin, JUSTCLICK_SECRET: justClickSecret }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    try {
      const printed = await readUntil(child, 'Press Ctrl-C to stop.');
      const exportLine = /^ {2}export WEBTV_API_URL=(\S+) JUSTCLICK_API_URL=(\S+)$/m.exec(printed);
      expect(exportLine, printed).not.toBeNull();
      const [, webTvUrl = '', justClickUrl = ''] = exportLine ?? [];
      expect(webTvUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      expect(justClickUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      expect(printed).not.toContain(webTvSecret);
      expect(printed).not.toContain(justClickSecret);

      // The printed URL serves the API with the credentials from the environment.
      const call = await orderflow(['api', 'webtv', 'get_credit', '--user', '1'], { ...webTvEnv, WEBTV_API_URL: webTvUrl });
      expect(call.stderr).toBe('');
      expect(call.code).toBe(0);
    } finally {
      child.kill('SIGTERM');
    }
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(stderr).toContain('Received SIGTERM; stopping the simulators.');
    expect(stderr).toContain('Simulators stopped.');
  });

  it('runs only the simulator whose credentials are set', async () => {
    const child = spawn(launcher, ['simulate', '--justclick-port', '0', '--seed', 'empty'], {
      cwd: root,
      env: childEnv({ JUSTCLICK_LOGIN: justClickLogin, JUSTCLICK_SECRET: justClickSecret }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = collect(child);
    let printed: string;
    try {
      printed = await readUntil(child, 'Press Ctrl-C to stop.');
    } finally {
      child.kill('SIGINT');
    }
    expect(printed).toMatch(/^ {2}export JUSTCLICK_API_URL=http:\/\/127\.0\.0\.1:\d+\/api$/m);
    expect(printed).not.toContain('WEBTV_API_URL=');
    expect(printed).toContain('WebTV simulator not started: WEBTV_KEY_ID and WEBTV_SHARED_SECRET are not set.');
    const result = await exited;
    expect(result, result.stderr).toMatchObject({ code: 0, signal: null });
  });

  it('exits 1 with advice when a port is taken, and 2 for a bad option', async () => {
    const env = { WEBTV_KEY_ID: webTvKeyId, WEBTV_SHARED_SECRET: webTvSecret };
    const taken = await orderflow(['simulate', '--webtv-port', String(webTv.port)], env);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`The WebTV simulator could not listen on 127.0.0.1:${webTv.port}: the port is in use.`);
    const badSeed = await orderflow(['simulate', '--webtv-port', '0', '--seed', 'lots'], env);
    expect(badSeed.code).toBe(2);
    expect(badSeed.stderr).toContain('--seed "lots" is not a known seed');
    const badPort = await orderflow(['simulate', '--webtv-port', '70000'], env);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--webtv-port "70000" must be a whole number from 0 to 65535.');
  });

  it('exits 2 when no credentials are set', async () => {
    const result = await orderflow(['simulate', '--webtv-port', '0', '--justclick-port', '0'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('No simulator credentials are set');
  });
});

describe('bin/orderflow (the launcher)', () => {
  const tempDir = mkdtempSync(join(tmpdir(), 'orderflow-launcher-'));
  afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

  function run(command: string, args: string[], path: string): Promise<RunResult> {
    return collect(spawn(command, args, { env: { PATH: path, HOME: tempDir }, stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  it('resolves symlinks (as npm links it) and uses the checkout\'s Node 24', async () => {
    const linkDir = join(tempDir, 'node_modules', '.bin');
    mkdirSync(linkDir, { recursive: true });
    symlinkSync(launcher, join(linkDir, 'orderflow'));
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    // PATH without any Node: the launcher must find <root>/node_modules/.bin/node itself.
    const result = await run(join(linkDir, 'orderflow'), ['--version'], '/usr/bin:/bin');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`orderflow ${version}\n`);
    expect(result.code).toBe(0);
  });

  it('refuses a Node older than 24 and says how to get one', async () => {
    // A copy of the launcher outside the checkout: no node_modules/.bin/node next to it,
    // so it takes `node` from PATH, here a stand-in that reports an old version.
    const packageRoot = join(tempDir, 'package');
    mkdirSync(join(packageRoot, 'bin'), { recursive: true });
    mkdirSync(join(packageRoot, 'src'), { recursive: true });
    copyFileSync(launcher, join(packageRoot, 'bin', 'orderflow'));
    chmodSync(join(packageRoot, 'bin', 'orderflow'), 0o755);
    writeFileSync(join(packageRoot, 'src', 'cli.ts'), 'throw new Error("must not run");\n');
    const fakeNodeDir = join(tempDir, 'old-node');
    mkdirSync(fakeNodeDir);
    writeFileSync(join(fakeNodeDir, 'node'), '#!/bin/sh\necho v20.11.1\n', { mode: 0o755 });
    const result = await run(join(packageRoot, 'bin', 'orderflow'), ['--version'], `${fakeNodeDir}:/usr/bin:/bin`);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`orderflow: Node.js 24 or newer is needed, but ${fakeNodeDir}/node is v20.11.1.`);
    expect(result.stderr).toContain('npm install');
  });
});
