/**
 * What a new user meets in the first hour (issue 8): bad input refused before any call or
 * start, with what is wrong; no stack trace for a condition a user can cause. In-process
 * (runCli) against simulators on loopback and the run's Temporal dev server; the EPIPE
 * case runs ./bin/orderflow as a child process, as a shell pipe would.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.ts';
import { startJustClickSimulator } from '../../src/simulators/justclick/index.ts';
import { startWebTvSimulator } from '../../src/simulators/webtv/index.ts';
import { connectTestClient, temporalAvailable, testTemporalTarget } from '../../harness/temporal.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const webTvKeyId = '1b323a1cb879fd4e66530fbad07a32ee';
const webTvSecret = 'MWIzMjNhMWNiODc5ZmQ0ZTY2NTMwZmJhZDA3YTMyZWViOTQ3MDJiOGM2ZTU2NjE3';
const justClickLogin = 'username';
const justClickSecret = 'X'.repeat(40);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function orderflow(args: string[], env: Record<string, string>): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { env, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  return { code, stdout, stderr };
}

/** No stack trace and no "unexpected failure (a bug…)": a message a person reads. */
function expectNoStackTrace(outcome: Outcome): void {
  expect(outcome.stderr).not.toMatch(/^\s+at /m);
  expect(outcome.stderr).not.toMatch(/unexpected failure/);
}

let webTv: Awaited<ReturnType<typeof startWebTvSimulator>>;
let justClick: Awaited<ReturnType<typeof startJustClickSimulator>>;
let webTvEnv: Record<string, string>;
let justClickEnv: Record<string, string>;

beforeAll(async () => {
  webTv = await startWebTvSimulator({ port: 0, credentials: [{ keyId: webTvKeyId, sharedSecret: webTvSecret }], seed: 'demo' });
  justClick = await startJustClickSimulator({ port: 0, login: justClickLogin, secret: justClickSecret, seed: 'demo' });
  webTvEnv = { WEBTV_API_URL: webTv.apiUrl, WEBTV_KEY_ID: webTvKeyId, WEBTV_SHARED_SECRET: webTvSecret };
  justClickEnv = { JUSTCLICK_API_URL: justClick.apiUrl, JUSTCLICK_LOGIN: justClickLogin, JUSTCLICK_SECRET: justClickSecret };
});

afterAll(async () => {
  await Promise.all([webTv?.close(), justClick?.close()]);
});

describe('orderflow api: refused before any call', () => {
  it.each([
    [['api', 'webtv', 'get_credit', '--user', '900', '--user', '901'], /--user is given 2 times \("900", "901"\); give it once/],
    [['api', 'webtv', 'get_credit', '--user', '-3'], /--user "-3" is not a user id; give a whole number of 1 or more/],
    [['api', 'webtv', 'get_credit', '-u', '-3'], /--user "-3" is not a user id/],
    [['api', 'webtv', 'add_subtract_credit', '--user', '1', '--set', 'creditAction=add', '--set', 'amount=5,00'], /amount="5,00" is not a positive decimal amount/],
    [['api', 'webtv', 'add_subtract_credit', '--user', '1', '--set', 'creditAction=give', '--set', 'amount=5'], /creditAction="give" must be one of add, subtract/],
    [['api', 'webtv', 'add_subtract_credit', '--user', '1', '--set', 'amount=5'], /add_subtract_credit needs --set creditAction=/],
    [['api', 'webtv', 'add_subtract_credit', '--user', '1', '--set', 'creditAction=add', '--set', 'amount=1', '--set', 'description=a\nb'], /description="a\\nb" must be one line of printable text; it holds a line break/],
    [['api', 'webtv', 'get_credit', '--user', '1', '--set', 'iq=2'], /"iq" is a reserved name/],
    [['api', 'webtv', 'get_credit', '--user', '1', '--set', 'signature=x'], /"signature" is a reserved name/],
    [['api', 'webtv', 'get_credit', '--user', '1', '--set', 'go=admin'], /"go" is a reserved name/],
    [['api', 'webtv', 'cancel_order', '--user', '1', '--set', 'requester=ROBOT'], /requester="ROBOT" must be one of ADMIN, BUYER/],
    [['api', 'webtv', 'get_credit', '--user', '1', '--set', 'verbose=1'], /get_credit has no field "verbose"; it takes no fields/],
    [['api', 'webtv', 'get_credit', '--user', '1', '--set', '__proto__=x'], /get_credit has no field "__proto__"; it takes no fields/],
    [['api', 'webtv', 'add_subtract_credit', '--user', '1', '--set', 'creditAction=add', '--set', 'amount=1', '--set', 'constructor=x'], /add_subtract_credit has no field "constructor"/],
  ])('api webtv %j exits 2 and sends nothing', async (args, expected) => {
    const before = webTv.calls.length;
    const outcome = await orderflow(args, webTvEnv);
    expect(outcome.stderr).toMatch(expected);
    expect(outcome.code).toBe(2);
    expect(outcome.stdout).toBe('');
    expect(webTv.calls.length).toBe(before);
  });

  it('sends a documented action with checked, normalised fields', async () => {
    const outcome = await orderflow(['api', 'webtv', 'add_subtract_credit', '--user', '3', '--set', 'creditAction=add', '--set', 'amount= 5', '--set', 'description=Goodwill'], webTvEnv);
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    expect(webTv.calls.at(-1)?.fields).toMatchObject({ creditAction: 'add', amount: '5.00', description: 'Goodwill' });
  });

  it.each([
    [['api', 'justclick', 'DropDatabase'], /"DropDatabase" is not a JustClick method this command knows; the methods are: DeleteOrder, CreateOrder, UpdateOrderStatus, GetOrderInfo/],
    [['api', 'justclick', 'DeleteOrder', '--set', 'bill_id=1', '--set', 'hash=abc'], /--set hash=\.\.\. is a reserved name/],
    [['api', 'justclick', 'DeleteOrder', '--set', 'bill_id=1', '--set', 'bill_id=2'], /--set bill_id=... is given twice; give each field once/],
  ])('api justclick %j exits 2 and sends nothing', async (args, expected) => {
    const before = justClick.calls.length;
    const outcome = await orderflow(args, justClickEnv);
    expect(outcome.stderr).toMatch(expected);
    expect(outcome.code).toBe(2);
    expect(justClick.calls.length).toBe(before);
  });

  it('with a wrong JUSTCLICK_SECRET, says the credentials were refused and nothing changed (not "may have taken effect")', async () => {
    const outcome = await orderflow(['api', 'justclick', 'GetOrderInfo', '--set', 'bill_id=1'], { ...justClickEnv, JUSTCLICK_SECRET: 'Y'.repeat(40) });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.split('\n')[0]).toBe('4 | incorrect hash');
    expect(outcome.stderr).toMatch(/JUSTCLICK_SECRET/);
    expect(outcome.stderr).not.toMatch(/may have taken effect/);
    expect(outcome.stderr).not.toContain('Y'.repeat(40));
  });

  it('says in --help how values are read', async () => {
    const outcome = await orderflow(['start', 'refund-and-cancel', '--help'], {});
    expect(outcome.stdout).toMatch(/spaces around a value are\s+ignored \(" 5\.00" is 5\.00\) and so are leading zeros of ids \(07 is user 7\)/);
  });
});

describe('a closed output pipe (orderflow ... | head -1)', () => {
  it('stops quietly, without an EPIPE stack trace', async () => {
    const child = spawn(`${root}bin/orderflow`, ['start', 'refund-and-cancel', '--help'], {
      cwd: root,
      env: { PATH: `${root}node_modules/.bin:${process.env['PATH'] ?? '/usr/bin:/bin'}`, HOME: process.env['HOME'] ?? '/tmp' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // the reader is gone before the first line is written
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|^\s+at /m);
    expect(code).toBe(0);
  });
});

describe.skipIf(!temporalAvailable())('orderflow start, status and ops: refusals and Temporal errors', () => {
  let temporalEnv: Record<string, string>;
  beforeAll(() => {
    const target = testTemporalTarget();
    temporalEnv = { TEMPORAL_ADDRESS: target.address, TEMPORAL_NAMESPACE: target.namespace, ORDERFLOW_TASK_QUEUE: 'refusals-no-worker' };
  });

  it.each([
    [['--user', '900', '--user', '901', '--order', '1', '--amount', '5'], /--user is given 2 times \("900", "901"\); give it once/],
    [['--user', '-3', '--order', '1', '--amount', '5'], /userId must be a whole number ≥ 1 \(got "-3"\)/],
    [['--user', '3', '--order', '1', '--amount', '-1'], /amount "-1" is not a decimal amount/],
    [['--user', '3', '--order', '1', '--amount', '5', '--reason', 'late\u001b[31m red'], /reason must be one line of printable text; it holds an escape character \(ESC\)/],
    [['--user', '3', '--order', '1', '--amount', '5', '--reason', 'two\nlines'], /reason must be one line of printable text; it holds a line break/],
    [['--user', '3', '--order', '1', '--amount', '5', '--requested-by', 'eve\r'], /requestedBy must be one line of printable text; it holds a carriage return/],
  ])('start refund-and-cancel %j exits 2 and starts nothing', async (args, expected) => {
    const outcome = await orderflow(['start', 'refund-and-cancel', ...args], { ...temporalEnv, USER: 'tester' });
    expect(outcome.stderr).toMatch(expected);
    expect(outcome.code).toBe(2);
    const client = await connectTestClient();
    try {
      const started = [];
      for await (const run of client.workflow.list({ query: `TaskQueue = "refusals-no-worker"` })) started.push(run.workflowId);
      expect(started).toEqual([]);
    } finally {
      await client.connection.close();
    }
  });

  it('names bad start input even when Temporal cannot be reached (checked before connecting)', async () => {
    const outcome = await orderflow(['start', 'refund-and-cancel', '--user', '3', '--order', '1', '--amount', '5,00'], { ...temporalEnv, TEMPORAL_ADDRESS: '127.0.0.1:1', USER: 'tester' });
    expectNoStackTrace(outcome);
    expect(outcome.stderr).toMatch(/amount "5,00" is not a decimal amount/);
    expect(outcome.stderr).not.toMatch(/Cannot reach Temporal/);
    expect(outcome.code).toBe(2);
  });

  it('refuses a description with control characters for adjust-credit and cancel-order reasons', async () => {
    const adjust = await orderflow(['start', 'adjust-credit', '--user', '3', '--action', 'add', '--amount', '1', '--description', 'bad\u0007bell'], { ...temporalEnv, USER: 'tester' });
    expect(adjust.code).toBe(2);
    expect(adjust.stderr).toMatch(/description must be one line of printable text; it holds the control character U\+0007/);
    const cancel = await orderflow(['start', 'cancel-order', '--user', '3', '--order', '1', '--reason', 'x\ny'], temporalEnv);
    expect(cancel.code).toBe(2);
    expect(cancel.stderr).toMatch(/reason must be one line/);
  });

  it('refuses a bidirectional control or invisible format character in a text (it spoofs what an operator reads), printing none', async () => {
    const spoofed = await orderflow(['start', 'refund-and-cancel', '--user', '3', '--order', '1', '--amount', '5', '--requested-by', 'evil\u202eman'], { ...temporalEnv, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expectNoStackTrace(spoofed);
    expect(spoofed.code).toBe(2);
    expect(spoofed.stderr).toMatch(/requestedBy must be one line of printable text; it holds the bidirectional control character U\+202E at position 5/);
    expect(spoofed.stderr).not.toMatch(/Cannot reach Temporal/);
    const zeroWidth = await orderflow(['start', 'adjust-credit', '--user', '3', '--action', 'add', '--amount', '1', '--description', 'good\u200bwill'], { ...temporalEnv, TEMPORAL_ADDRESS: '127.0.0.1:1', USER: 'tester' });
    expect(zeroWidth.code).toBe(2);
    expect(zeroWidth.stderr).toMatch(/description must be one line of printable text; it holds the invisible format character U\+200B at position 5/);
    for (const outcome of [spoofed, zeroWidth]) expect(outcome.stdout + outcome.stderr).not.toMatch(/[\u202e\u200b]/);
  });

  it.each([
    [['start', 'refund-and-cancel', '--user', '3', '--order', '1', '--amount', '5', '--reason', 'damaged']],
    [['ops', 'list']],
    [['status', 'refund-and-cancel/3/1']],
  ])('with TEMPORAL_NAMESPACE=nope, %j says the namespace does not exist (exit 2, no stack trace)', async (args) => {
    const outcome = await orderflow(args, { ...temporalEnv, TEMPORAL_NAMESPACE: 'nope', USER: 'tester' });
    expectNoStackTrace(outcome);
    expect(outcome.stderr).toMatch(/The namespace nope does not exist at Temporal at .+ set TEMPORAL_NAMESPACE to an existing one/);
    expect(outcome.code).toBe(2);
  });

  it('ops list --query with a broken query says Temporal refused it (exit 1, no stack trace)', async () => {
    const outcome = await orderflow(['ops', 'list', '--query', 'garbage((('], temporalEnv);
    expectNoStackTrace(outcome);
    expect(outcome.stderr).toMatch(/refused the request as invalid: .+\. Check the syntax of --query\./);
    expect(outcome.code).toBe(1);
  });
});
