/**
 * API client benchmark (`npm run bench:client`; `BENCH_QUICK=1` or `--quick` for a shorter
 * run): orderflow's signed `get_credit` (createWebTvClient: fresh salt and HMAC signature,
 * one total deadline, bounded read, answer checked and parsed, outcome classified) against
 * a raw undici POST of the same request to the same server (the WebTV simulator, in a
 * process of its own), whose URLs were signed before the clock started. Interleaved rounds
 * at concurrency 1 and 20; prints calls/s of each and the ratio (target ≥ 0.95).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { createWebTvClient } from '../src/apis/webtv/client.ts';
import { buildSignedUrl } from '../src/apis/webtv/signing.ts';
import { loadConfig } from '../src/config.ts';
import { fixed, machineLine, markdownTable, quick, ratio } from './lib/measure.ts';

const rounds = process.env['BENCH_SMOKE'] === '1' ? 1 : quick ? 3 : 6;
const callsPerRound = process.env['BENCH_SMOKE'] === '1' ? 200 : quick ? 2_000 : 5_000;
const concurrencies = [1, 20] as const;
/** A user of the simulator's `demo` seed. */
const userId = 7;

const simulator = spawn(process.execPath, [fileURLToPath(new URL('../harness/simulator-process.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
const apiEnv = await new Promise<Record<string, string>>((resolve, reject) => {
  createInterface({ input: simulator.stdout! }).once('line', (line) => resolve(JSON.parse(line) as Record<string, string>));
  simulator.once('exit', (code) => reject(new Error(`the simulator process exited with code ${String(code)} before it served`)));
});
const config = loadConfig(apiEnv, ['webtv']).webtv;
const client = createWebTvClient(config);
const rawAgent = new Agent({ keepAliveTimeout: 4_000, pipelining: 1 });

async function orderflowCall(): Promise<void> {
  const credit = await client.getCredit(userId);
  if (typeof credit.buyerCredit !== 'number') throw new Error('get_credit answered without a credit');
}

/** Raw: a POST of a URL signed beforehand, the answer read as JSON, nothing else. */
function rawCalls(count: number): () => Promise<void> {
  const credentials = { keyId: config.keyId, sharedSecret: config.sharedSecret.reveal() };
  const urls = Array.from({ length: count }, () => buildSignedUrl(config.apiUrl, 'get_credit', userId, credentials));
  let next = 0;
  return async () => {
    const url = urls[next++]!;
    const response = await request(url, { method: 'POST', dispatcher: rawAgent, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    const answer = (await response.body.json()) as { error?: unknown };
    if (response.statusCode !== 200 || answer.error !== undefined) throw new Error(`raw get_credit answered ${response.statusCode} ${JSON.stringify(answer)}`);
  };
}

async function measure(call: () => Promise<void>, concurrency: number, count: number): Promise<number> {
  let started = 0;
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started++ < count) await call();
    }),
  );
  return count / ((performance.now() - begin) / 1000);
}

const totals = new Map<string, { orderflow: number; raw: number }>();
try {
  console.log(`bench:client${quick ? ' (quick)' : ''}: WebTV simulator pid ${simulator.pid}; ${rounds} rounds of ${callsPerRound} calls per variant and concurrency`);
  // Warm-up: connections, JIT.
  await measure(orderflowCall, 5, 500);
  await measure(rawCalls(500), 5, 500);
  for (let round = 0; round < rounds; round++) {
    for (const concurrency of concurrencies) {
      // Alternate which goes first, so that neither always follows the other.
      const order = round % 2 === 0 ? (['orderflow', 'raw'] as const) : (['raw', 'orderflow'] as const);
      const rates: Record<'orderflow' | 'raw', number> = { orderflow: 0, raw: 0 };
      for (const variant of order) {
        rates[variant] = await measure(variant === 'orderflow' ? orderflowCall : rawCalls(callsPerRound), concurrency, callsPerRound);
      }
      const key = String(concurrency);
      const total = totals.get(key) ?? { orderflow: 0, raw: 0 };
      totals.set(key, { orderflow: total.orderflow + rates.orderflow, raw: total.raw + rates.raw });
      console.log(`  round ${round + 1}, c=${String(concurrency).padStart(2)}: orderflow ${fixed(rates.orderflow, 0)} calls/s, raw ${fixed(rates.raw, 0)} calls/s (${ratio(rates.orderflow, rates.raw)})`);
    }
  }
} finally {
  await Promise.allSettled([client.close(), rawAgent.close()]);
  simulator.kill('SIGTERM');
}

console.log(`\n### bench:client${quick ? ' (quick)' : ''}\n\nMachine: ${machineLine()}\n`);
console.log(
  markdownTable(
    ['concurrency', 'orderflow signed get_credit, calls/s', 'raw undici POST, calls/s', 'ratio', 'target'],
    [...totals].map(([concurrency, total]) => [concurrency, fixed(total.orderflow / rounds, 0), fixed(total.raw / rounds, 0), ratio(total.orderflow, total.raw), '≥ 0.95']),
  ),
);
