/**
 * A headless, in-memory Temporal dev server for tests and scripts, through the SDK's own
 * `TestWorkflowEnvironment.createLocal`: the installed Temporal CLI when there is one,
 * otherwise the SDK's download. Our search attributes are registered at launch, and it is
 * returned only once they are listed, so the first visibility query can use them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { EphemeralServerExecutable } from '@temporalio/testing';
import { orderflowSearchAttributes } from '../src/search-attributes.ts';
import { devServerDynamicConfig } from '../src/temporal/dev-server.ts';


/**
 * `cliPath`: the installed Temporal CLI; undefined: the SDK downloads the dev server (needs the internet).
 * `httpPort`: serve Temporal's HTTP API there too (for tests of non-Node callers, e.g. the PHP client).
 */
export async function startTestServer(cliPath: string | undefined, httpPort?: number): Promise<TestWorkflowEnvironment> {
  const executable: EphemeralServerExecutable = cliPath === undefined ? { type: 'cached-download' } : { type: 'existing-path', path: cliPath };
  const environment = await TestWorkflowEnvironment.createLocal({
    server: {
      executable,
      searchAttributes: Object.values(orderflowSearchAttributes),
      extraArgs: httpPort === undefined ? [...devServerDynamicConfig] : [...devServerDynamicConfig, '--http-port', String(httpPort)],
    },
  });
  try {
    await untilSearchAttributesListed(environment);
  } catch (error) {
    await environment.teardown();
    throw error;
  }
  return environment;
}

async function untilSearchAttributesListed(environment: TestWorkflowEnvironment): Promise<void> {
  const expected = Object.values(orderflowSearchAttributes).map((key) => key.name);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { customAttributes } = await environment.connection.operatorService.listSearchAttributes({ namespace: environment.namespace ?? 'default' });
    const missing = expected.filter((name) => !(name in customAttributes));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the Temporal dev server did not register the search attributes ${missing.join(', ')} within 30 s`);
    await sleep(200);
  }
}
