/**
 * A worker process for the benchmarks, so that its CPU and memory are measured apart from
 * the load generator and the simulators: `node harness/bench-worker-process.ts orderflow|bare`.
 * Configuration comes from the environment like `orderflow worker`'s (WEBTV_*, JUSTCLICK_*,
 * TEMPORAL_ADDRESS, ORDERFLOW_LEDGER) plus BENCH_TASK_QUEUE. Prints `ready` on stdout once
 * polling; stops on SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createJustClickClient } from '../src/apis/justclick/client.ts';
import { createWebTvClient } from '../src/apis/webtv/client.ts';
import { createOrderflowWorker, installRuntime, loadWorkerConfig } from '../src/worker.ts';
import { restartWithWorkerHeapLimits } from '../src/temporal/worker-memory.ts';
import { createSagaCalls } from './saga-calls.ts';

const variant = process.argv[2];
const taskQueue = process.env['BENCH_TASK_QUEUE'];
if ((variant !== 'orderflow' && variant !== 'bare') || taskQueue === undefined) {
  process.stderr.write('usage: BENCH_TASK_QUEUE=<queue> node harness/bench-worker-process.ts orderflow|bare\n');
  process.exit(2);
}

// The orderflow worker runs with the heap limits `orderflow worker` gives itself.
if (variant === 'orderflow') restartWithWorkerHeapLimits({ ownProcess: true });

// Errors only: an amount due fails an activity attempt by design (a WARN line per parked run).
installRuntime({ logLevel: 'ERROR' });
const config = loadWorkerConfig(process.env);

let worker: Worker;
let run: () => Promise<void>;
if (variant === 'orderflow') {
  const orderflow = await createOrderflowWorker({ config, taskQueue });
  worker = orderflow.worker;
  run = () => orderflow.run();
} else {
  if (config.justclick === undefined) throw new Error('the bare worker needs JUSTCLICK_LOGIN and JUSTCLICK_SECRET');
  const webtv = createWebTvClient(config.webtv);
  const justclick = createJustClickClient(config.justclick);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./bare-workflow.ts', import.meta.url)),
    activities: createSagaCalls(webtv, justclick),
  });
  run = async () => {
    try {
      await worker.run();
    } finally {
      await Promise.allSettled([webtv.close(), justclick.close(), connection.close()]);
    }
  };
}

process.once('SIGTERM', () => worker.shutdown());
const running = run();
// Worker.run() starts polling at once; the state says so.
const poll = setInterval(() => {
  if (worker.getState() === 'RUNNING') {
    clearInterval(poll);
    process.stdout.write('ready\n');
  }
}, 20);
await running;
clearInterval(poll);
