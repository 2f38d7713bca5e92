/**
 * The Temporal connection over TLS, against a real TLS endpoint: the run's dev server behind
 * a TLS terminator that requires a client certificate (mTLS), with certificates made here.
 * The right CA (from a TOML profile, the Temporal CLI's config file) works for the CLI and
 * for the worker's native connection; a wrong CA is refused with a message that says what
 * to set.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { TemporalNotReadyError } from '../../src/temporal/readiness.ts';
import { connectWorkerToTemporal } from '../../src/worker.ts';
import { temporalAvailable, testTemporalTarget } from '../../harness/temporal.ts';
import { makeCertificates, orderflowInProcess, startTlsTerminator } from '../../harness/temporal-endpoints.ts';
import type { Endpoint, TestCertificates } from '../../harness/temporal-endpoints.ts';

describe.skipIf(!temporalAvailable())('Temporal over TLS (mTLS terminator in front of the dev server)', () => {
  let certificates: TestCertificates;
  let terminator: Endpoint;
  let configFile: string;

  beforeAll(async () => {
    certificates = makeCertificates();
    terminator = await startTlsTerminator({ target: testTemporalTarget().address, certificates, requireClientCertificate: true });
    configFile = join(certificates.dir, 'temporal.toml');
    writeFileSync(
      configFile,
      `[profile.secure]\naddress = "${terminator.address}"\nnamespace = "${testTemporalTarget().namespace}"\n\n` +
        `[profile.secure.tls]\nserver_ca_cert_path = "${certificates.caCertPath}"\nserver_name = "localhost"\n` +
        `client_cert_path = "${certificates.clientCertPath}"\nclient_key_path = "${certificates.clientKeyPath}"\n`,
    );
  });

  afterAll(async () => {
    await terminator?.close();
  });

  it('connects with the right CA and a client certificate, from a TOML profile: the CLI and the worker connection', async () => {
    const env = { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'secure' };
    const setup = await orderflowInProcess(['setup'], env);
    expect(setup.stderr).toBe('');
    expect(setup.code).toBe(0);
    expect(setup.stdout).toContain(`Temporal ${terminator.address} (namespace ${testTemporalTarget().namespace}, TLS on (CA from the configuration, server name localhost), credential client certificate, profile secure of ${configFile})`);
    expect(setup.stdout).toContain('existing OrderflowState');

    const status = await orderflowInProcess(['status', 'refund-and-cancel:1:404'], env);
    // Through TLS to the cluster, which answers that no such run exists (exit 4).
    expect(status.code).toBe(4);
    expect(status.stderr).toContain('No run has the workflow id "refund-and-cancel:1:404"');

    // The worker's connection (Rust core) with the same settings.
    const connection = await connectWorkerToTemporal(loadConfig(env, ['temporal']).temporal.connection);
    await connection.close();
  });

  it('refuses a server certificate the configured CA did not sign, saying what to set', async () => {
    const env = {
      TEMPORAL_ADDRESS: terminator.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certificates.otherCaCertPath,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
      TEMPORAL_TLS_CLIENT_CERT_PATH: certificates.clientCertPath,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certificates.clientKeyPath,
    };
    const status = await orderflowInProcess(['status', 'refund-and-cancel:1:404'], env);
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(new RegExp(`^The TLS connection to Temporal at ${terminator.address} failed: .+\\. TLS is on \\(CA from the configuration, server name localhost\\)\\.`));
    expect(status.stderr).toContain("set TEMPORAL_TLS_SERVER_CA_CERT_PATH to that CA's certificate");
    expect(status.stderr).not.toMatch(/\n\s+at /);

    const refused = await connectWorkerToTemporal(loadConfig(env, ['temporal']).temporal.connection).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(TemporalNotReadyError);
    expect((refused as TemporalNotReadyError).problem).toBe('tls-failed');
  });
});
