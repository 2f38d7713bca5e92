/**
 * vitest global setup: ONE Temporal dev server (headless, in memory, on a free loopback
 * port, with our search attributes) for the whole test run; tests reach it through
 * test/support/temporal.ts.
 *
 * Without the Temporal CLI: on a developer's machine, say why and provide nothing (Temporal
 * tests then skip); in CI (`CI` set) fail, because CI must run them.
 */
import type { TestProject } from 'vitest/node';
import type {} from './support/temporal.ts';
import { findTemporalCli, missingTemporalCliMessage } from '../src/temporal/cli-binary.ts';
import { startDevServer } from '../src/temporal/dev-server.ts';
import type { DevServer } from '../src/temporal/dev-server.ts';

let server: DevServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  const cliPath = findTemporalCli();
  if (cliPath === undefined) {
    const reason = missingTemporalCliMessage();
    if (process.env.CI) throw new Error(`CI must run the Temporal tests. ${reason}`);
    console.warn(`\n[global-setup] No Temporal dev server; Temporal tests will be skipped. ${reason}\n`);
    project.provide('temporalUnavailableReason', reason);
    return;
  }
  const startedAt = performance.now();
  server = await startDevServer({ cliPath, uiPort: false });
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(`[global-setup] Temporal dev server on ${server.address} (pid ${server.pid}), ready in ${seconds} s`);
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', server.namespace);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = undefined;
}
