/**
 * vitest global setup: ONE Temporal dev server (headless, in memory, on a free loopback
 * port, with our search attributes) for the whole test run, started through the SDK's
 * `TestWorkflowEnvironment.createLocal` (harness/test-server.ts); tests reach it
 * through harness/temporal.ts.
 *
 * Without the Temporal CLI: in CI (`CI` set) fail, because CI must run them. On a
 * developer's machine, fall back to the SDK's own download of the dev server (needs the
 * internet); if that fails too, say why and provide nothing (Temporal tests then skip).
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { TestProject } from 'vitest/node';
import type {} from '../harness/temporal.ts';
import { startTestServer } from '../harness/test-server.ts';
import { findTemporalCli, missingTemporalCliMessage } from '../src/temporal/cli-binary.ts';

let environment: TestWorkflowEnvironment | undefined;

/** A loopback port that was free a moment ago, for the dev server's HTTP API (the SDK picks the gRPC port). */
async function freePort(): Promise<number> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return port;
}

/** The SDK's downloaded dev server, for machines without the CLI; the reason when it cannot be had. */
async function downloadedDevServer(httpPort: number): Promise<TestWorkflowEnvironment | string> {
  try {
    return await Promise.race([
      startTestServer(undefined, httpPort),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 120 s')), 120_000).unref()),
    ]);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export async function setup(project: TestProject): Promise<void> {
  const cliPath = findTemporalCli();
  const startedAt = performance.now();
  const httpPort = await freePort();
  let how: string;
  if (cliPath === undefined) {
    const reason = missingTemporalCliMessage();
    if (process.env.CI) throw new Error(`CI must run the Temporal tests. ${reason}`);
    console.warn(`\n[global-setup] ${reason} Trying the Temporal SDK's own download of the dev server instead...`);
    const downloaded = await downloadedDevServer(httpPort);
    if (typeof downloaded === 'string') {
      console.warn(`[global-setup] No Temporal dev server (the download failed: ${downloaded}); Temporal tests will be skipped.\n`);
      project.provide('temporalUnavailableReason', `${reason} The SDK's download failed too: ${downloaded}`);
      return;
    }
    environment = downloaded;
    how = 'downloaded by the SDK';
  } else {
    environment = await startTestServer(cliPath, httpPort);
    how = cliPath;
  }
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  console.log(`[global-setup] Temporal dev server (${how}) on ${environment.address}, ready in ${seconds} s`);
  project.provide('temporalAddress', environment.address);
  project.provide('temporalNamespace', environment.namespace ?? 'default');
  project.provide('temporalHttpUrl', `http://127.0.0.1:${httpPort}`);
}

export async function teardown(): Promise<void> {
  await environment?.teardown();
  environment = undefined;
}
