/**
 * vitest global setup: ONE Temporal dev server (headless, in memory, on a free loopback
 * port, with our search attributes) for the whole test run; tests reach it through
 * test/support/temporal.ts.
 *
 * Without the Temporal CLI: in CI (`CI` set) fail, because CI must run them. On a
 * developer's machine, fall back to the SDK's own download of the dev server (needs the
 * internet); if that fails too, say why and provide nothing (Temporal tests then skip).
 */
import type { TestProject } from 'vitest/node';
import type {} from './support/temporal.ts';
import { findTemporalCli, missingTemporalCliMessage } from '../src/temporal/cli-binary.ts';
import { startDevServer } from '../src/temporal/dev-server.ts';
import type { DevServer } from '../src/temporal/dev-server.ts';
import { orderflowSearchAttributes } from '../src/search-attributes.ts';

let server: DevServer | undefined;
let downloadedServer: { teardown(): Promise<void> } | undefined;

/** The SDK's downloaded dev server, for machines without the CLI; undefined if it cannot be had. */
async function downloadedDevServer(): Promise<{ address: string; teardown(): Promise<void> } | string> {
  try {
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    const environment = await Promise.race([
      TestWorkflowEnvironment.createLocal({
        server: {
          searchAttributes: Object.values(orderflowSearchAttributes),
          extraArgs: ['--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=true'],
        },
      }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 120 s')), 120_000).unref()),
    ]);
    return { address: environment.address, teardown: () => environment.teardown() };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export async function setup(project: TestProject): Promise<void> {
  const cliPath = findTemporalCli();
  if (cliPath === undefined) {
    const reason = missingTemporalCliMessage();
    if (process.env.CI) throw new Error(`CI must run the Temporal tests. ${reason}`);
    console.warn(`\n[global-setup] ${reason} Trying the Temporal SDK's own download of the dev server instead...`);
    const downloaded = await downloadedDevServer();
    if (typeof downloaded !== 'string') {
      downloadedServer = downloaded;
      console.log(`[global-setup] Temporal dev server (downloaded by the SDK) on ${downloaded.address}`);
      project.provide('temporalAddress', downloaded.address);
      project.provide('temporalNamespace', 'default');
      return;
    }
    console.warn(`[global-setup] No Temporal dev server (the download failed: ${downloaded}); Temporal tests will be skipped.\n`);
    project.provide('temporalUnavailableReason', `${reason} The SDK's download failed too: ${downloaded}`);
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
  await downloadedServer?.teardown();
  downloadedServer = undefined;
}
