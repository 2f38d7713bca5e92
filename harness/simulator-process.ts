/**
 * Both simulators in a process of their own, for benchmarks that measure a client apart
 * from the server it talks to: `node harness/simulator-process.ts` prints one line of JSON,
 * the API settings (the vendors' public sample credentials), then serves until SIGTERM.
 */
import { startSampleSimulators } from './stack.ts';

const simulators = await startSampleSimulators();
process.stdout.write(`${JSON.stringify(simulators.apiEnv)}\n`);
process.once('SIGTERM', () => void simulators.close().finally(() => process.exit(0)));
