/**
 * First start on a bare cluster: a second dev server, started here WITHOUT orderflow's search
 * attributes. Every entry point (CLI commands, the starters, the worker process) refuses with
 * the same message (exit 2) naming the missing attributes and `orderflow setup`; setup
 * registers them once and says so; a missing namespace, an unreachable server and a refused
 * API key each get their own message.
 */
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startRefundAndCancel } from '../../src/client/starters.ts';
import { findTemporalCli } from '../../src/temporal/cli-binary.ts';
import { TemporalNotReadyError } from '../../src/temporal/readiness.ts';
import { makeCertificates, orderflowInProcess, orderflowProcess, startApiKeyGateway } from '../../harness/temporal-endpoints.ts';

const cliPath = findTemporalCli();
const missingMessage =
  "lacks orderflow's search attributes OrderflowState, OrderflowStep, StoreUserId, StoreOrderId, JustClickBillId, OrderflowBulkId, OrderflowBulkDone, OrderflowBulkFailed, OrderflowBulkWaiting, OrderflowWaitingFor, so runs cannot start or be found. " +
  'Register them once with: orderflow setup';
const noStackTrace = /\n\s+at /;

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(cliPath === undefined)('a Temporal server without orderflow search attributes', () => {
  let server: TestWorkflowEnvironment;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: cliPath! },
        ip: '127.0.0.1',
        ui: false,
        searchAttributes: [],
        log: { format: 'pretty', level: 'error' },
        // Attributes registered by setup are usable by the very next call.
        extraArgs: ['--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=true'],
      },
    });
    env = { TEMPORAL_ADDRESS: server.address, ORDERFLOW_TASK_QUEUE: 'bare-cluster' };
  }, 120_000);

  afterAll(async () => {
    await server?.teardown();
  });

  it('every entry point refuses (exit 2) naming the missing attributes and orderflow setup; setup registers them once', async () => {
    for (const args of [
      ['status', 'refund-and-cancel:7:319'],
      ['start', 'refund-and-cancel', '--user', '7', '--order', '319', '--amount', '5.50', '--reason', 'damaged'],
      ['ops', 'list'],
      ['decide', 'refund-and-cancel:7:319', '--action', 'retry', '--note', 'checked', '--operator', 'anna'],
    ]) {
      const result = await orderflowInProcess(args, env);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(`The namespace default at ${server.address} ${missingMessage}`);
      expect(result.stderr).not.toMatch(noStackTrace);
    }

    // The starters, for backend systems, on a connection that skipped our check.
    const connection = await Connection.connect({ address: server.address });
    try {
      const refused = await startRefundAndCancel(
        { client: new Client({ connection }), taskQueue: 'bare-cluster' },
        { userId: 7, orderId: 319, amount: '5.50', reason: 'test', requestedBy: 'test' },
      ).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(TemporalNotReadyError);
      expect((refused as TemporalNotReadyError).missingSearchAttributes).toEqual(['OrderflowState', 'OrderflowStep', 'StoreUserId', 'StoreOrderId', 'JustClickBillId', 'OrderflowBulkId', 'OrderflowBulkDone', 'OrderflowBulkFailed', 'OrderflowBulkWaiting', 'OrderflowWaitingFor']);
      expect((refused as Error).message).toContain(missingMessage);
    } finally {
      await connection.close();
    }

    // The worker process refuses to start.
    const worker = await orderflowProcess(['worker'], {
      ...env,
      WEBTV_API_URL: 'http://127.0.0.1:9/api.php',
      WEBTV_KEY_ID: '0123456789abcdef0123456789abcdef',
      WEBTV_SHARED_SECRET: 'worker-secret-not-printed',
      ORDERFLOW_LEDGER: `sqlite:${join(mkdtempSync(join(tmpdir(), 'orderflow-bare-')), 'ledger.db')}`,
    });
    expect(worker.code).toBe(2);
    expect(worker.stderr).toContain(missingMessage);
    expect(worker.stderr).not.toMatch(noStackTrace);
    expect(worker.stderr + worker.stdout).not.toContain('worker-secret-not-printed');

    const first = await orderflowInProcess(['setup'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('namespace default exists.');
    for (const name of ['OrderflowState', 'OrderflowStep', 'StoreUserId', 'StoreOrderId', 'JustClickBillId', 'OrderflowBulkId', 'OrderflowBulkDone', 'OrderflowBulkFailed', 'OrderflowBulkWaiting', 'OrderflowWaitingFor']) expect(first.stdout).toContain(`created  ${name}`);
    expect(first.stdout).toContain('Registered 10 search attribute(s)');

    const second = await orderflowInProcess(['setup'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain('created');
    for (const name of ['OrderflowState', 'OrderflowStep', 'StoreUserId', 'StoreOrderId', 'JustClickBillId', 'OrderflowBulkId', 'OrderflowBulkDone', 'OrderflowBulkFailed', 'OrderflowBulkWaiting', 'OrderflowWaitingFor']) expect(second.stdout).toContain(`existing ${name}`);
    expect(second.stdout).toContain('Nothing to do');

    const started = await orderflowInProcess(['start', 'refund-and-cancel', '--user', '7', '--order', '319', '--amount', '5.50', '--reason', 'damaged'], env);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    expect(started.stdout).toContain('Started refund-and-cancel');
  });

  it('says when the namespace does not exist (setup and every command, exit 2)', async () => {
    for (const args of [['setup'], ['status', 'refund-and-cancel:7:319']]) {
      const result = await orderflowInProcess(args, { ...env, TEMPORAL_NAMESPACE: 'no-such-namespace' });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `The namespace no-such-namespace does not exist at Temporal at ${server.address}. ` +
          "Create it (temporal operator namespace create --namespace no-such-namespace, or in Temporal Cloud's UI), or set TEMPORAL_NAMESPACE to an existing one.\n",
      );
    }
  });

  it('says when the server cannot be reached (exit 1)', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    const result = await orderflowInProcess(['setup'], { TEMPORAL_ADDRESS: address });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^Cannot reach Temporal at ${address} \\(namespace default, TLS off\\): .+\\. Start it \\(npm start runs a local one\\) or set TEMPORAL_ADDRESS`));
    expect(result.stderr).not.toMatch(noStackTrace);
  });

  it('says when the credential is refused (exit 2), never printing it; the right key gets through', async () => {
    const certificates = makeCertificates();
    const gateway = await startApiKeyGateway({ target: server.address, certificates, apiKey: 'the-right-key' });
    try {
      const tls = { TEMPORAL_ADDRESS: gateway.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certificates.caCertPath, TEMPORAL_TLS_SERVER_NAME: 'localhost' };
      const refused = await orderflowInProcess(['status', 'refund-and-cancel:7:319'], { ...tls, TEMPORAL_API_KEY: 'a-wrong-key' });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(new RegExp(`^Temporal at ${gateway.address} refused our credential \\(API key\\) for namespace default: Request unauthorized\\. Check TEMPORAL_API_KEY`));
      expect(refused.stderr + refused.stdout).not.toContain('a-wrong-key');

      const admitted = await orderflowInProcess(['setup'], { ...tls, TEMPORAL_API_KEY: 'the-right-key' });
      expect(admitted.stderr).toBe('');
      expect(admitted.code).toBe(0);
      expect(admitted.stdout).toContain('credential API key');
      expect(admitted.stdout).not.toContain('the-right-key');
    } finally {
      await gateway.close();
    }
  });
});
