/**
 * deploy/tls/make-certs.sh, the documented command that makes the production stack's
 * certificates (docs/production-security.md): what it makes works for the names and uses
 * docker-compose.yml gives them. Real TLS handshakes on loopback: the frontend's certificate
 * for its clients (`temporal`, `localhost`, 127.0.0.1), internode mutual TLS (a role without
 * the certificate is refused), and the worker's and the client's own TLS stacks (the SDK's
 * NativeConnection and Connection, configured the way the compose file configures them) through
 * a TLS-terminating proxy in front of the test run's dev server. No Docker engine needed.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls, createServer as createTlsServer } from 'node:tls';
import type { ConnectionOptions, Server as TlsServer, TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTemporalConnection } from '../../src/temporal/connection.ts';
import { temporalAvailable, testTemporalTarget } from '../../harness/temporal.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'orderflow-certs-'));
const out = join(scratch, 'secrets');
const file = (name: string): string => join(out, name);
const read = (name: string): Buffer => readFileSync(file(name));

function makeCerts(): void {
  const made = spawnSync('sh', [join(root, 'deploy/tls/make-certs.sh'), out], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`deploy/tls/make-certs.sh failed (${made.status}): ${made.stderr}`);
}

const servers: TlsServer[] = [];
beforeAll(makeCerts);
afterAll(async () => {
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(scratch, { recursive: true, force: true });
});

async function listen(server: TlsServer): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A TLS handshake with `options`; resolves with whether the client trusts the server, or the error. */
async function handshake(port: number, options: ConnectionOptions): Promise<{ authorized: boolean; error?: string }> {
  return await new Promise((resolve) => {
    const socket: TLSSocket = connectTls({ host: '127.0.0.1', port, ...options }, () => {
      resolve({ authorized: socket.authorized });
      socket.end();
    });
    socket.on('error', (error) => resolve({ authorized: false, error: error.message }));
  });
}

describe('deploy/tls/make-certs.sh', () => {
  it('makes a CA and the frontend, internode and web certificates it signed, with the names and uses the stack needs', () => {
    const ca = new X509Certificate(read('tls_ca_cert'));
    expect(ca.ca).toBe(true);
    const expected: Record<string, { names: string[]; usages: string[] }> = {
      tls_frontend_cert: { names: ['temporal', 'localhost'], usages: ['1.3.6.1.5.5.7.3.1'] },
      tls_internode_cert: { names: ['temporal-internode'], usages: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'] },
      tls_web_cert: { names: ['localhost'], usages: ['1.3.6.1.5.5.7.3.1'] },
    };
    for (const [name, { names, usages }] of Object.entries(expected)) {
      const leaf = new X509Certificate(read(name));
      expect(leaf.verify(ca.publicKey), `${name} is signed by the CA`).toBe(true);
      expect(leaf.ca, name).toBe(false);
      for (const host of names) expect(leaf.checkHost(host), `${name} names ${host}`).toBe(host);
      expect(leaf.keyUsage?.sort(), `${name}: extended key usage`).toEqual(usages.sort());
      expect(leaf.checkPrivateKey(createPrivateKey(read(name.replace(/_cert$/, '_key')))), `${name} matches its key`).toBe(true);
    }
    expect(new X509Certificate(read('tls_frontend_cert')).checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(new X509Certificate(read('tls_frontend_cert')).checkHost('temporal-internode')).toBeUndefined();
    // The CA key is the owner's alone and is given to no container; the rest must be readable by the containers' users.
    expect(statSync(file('tls_ca_key')).mode & 0o777).toBe(0o400);
    expect(statSync(file('tls_frontend_key')).mode & 0o777).toBe(0o444);
    expect(statSync(out).mode & 0o777).toBe(0o700);
  });

  it('keeps the CA when run again (certificates handed out stay trusted) and renews the others under it', () => {
    const caBefore = new X509Certificate(read('tls_ca_cert')).fingerprint256;
    const leafBefore = new X509Certificate(read('tls_frontend_cert')).serialNumber;
    makeCerts();
    const ca = new X509Certificate(read('tls_ca_cert'));
    expect(ca.fingerprint256).toBe(caBefore);
    const leaf = new X509Certificate(read('tls_frontend_cert'));
    expect(leaf.serialNumber).not.toBe(leafBefore);
    expect(leaf.verify(ca.publicKey)).toBe(true);
  });

  it('writes into secrets/ (ignored by git) unless told otherwise', () => {
    expect(readFileSync(join(root, 'deploy/tls/make-certs.sh'), 'utf8')).toMatch(/out="\$\{1:-\$\(cd "\$\(dirname "\$0"\)\/\.\.\/\.\." && pwd\)\/secrets\}"/);
    expect(readFileSync(join(root, '.gitignore'), 'utf8').split('\n')).toContain('secrets/');
  });
});

describe('the certificates in TLS handshakes', () => {
  it('lets a client that trusts the CA verify the frontend as temporal, localhost and 127.0.0.1, and no other name', async () => {
    const port = await listen(createTlsServer({ cert: read('tls_frontend_cert'), key: read('tls_frontend_key') }, (socket) => socket.end()));
    for (const servername of ['temporal', 'localhost']) {
      expect(await handshake(port, { ca: read('tls_ca_cert'), servername }), servername).toEqual({ authorized: true });
    }
    expect(await handshake(port, { ca: read('tls_ca_cert') }), '127.0.0.1 (no server name)').toEqual({ authorized: true });
    expect((await handshake(port, { ca: read('tls_ca_cert'), servername: 'temporal.example.com' })).error).toMatch(/does not match|altnames/i);
    // Without the private CA the certificate is not trusted.
    expect((await handshake(port, { servername: 'temporal' })).error).toMatch(/self[- ]signed|unable to (get|verify)/i);
  });

  it('runs internode mutual TLS: a role with the internode certificate is let in, a caller without one is refused', async () => {
    const accepted: boolean[] = [];
    const port = await listen(
      createTlsServer(
        { cert: read('tls_internode_cert'), key: read('tls_internode_key'), ca: read('tls_ca_cert'), requestCert: true, rejectUnauthorized: true },
        (socket) => {
          accepted.push(socket.authorized);
          socket.end();
        },
      ),
    );
    const withCertificate = await handshake(port, { ca: read('tls_ca_cert'), servername: 'temporal-internode', cert: read('tls_internode_cert'), key: read('tls_internode_key') });
    expect(withCertificate).toEqual({ authorized: true });
    // Without a certificate: the server refuses the handshake (TLS 1.3 tells the client after its
    // own handshake, so read until the connection ends) and never accepts the connection.
    const refused = await new Promise<string | undefined>((resolve) => {
      const socket = connectTls({ host: '127.0.0.1', port, ca: read('tls_ca_cert'), servername: 'temporal-internode' });
      socket.on('error', (error) => resolve(error.message));
      socket.on('close', () => resolve(undefined));
      socket.on('secureConnect', () => socket.write('hello'));
    });
    expect(refused).toMatch(/certificate required|alert number 116/i);
    expect(accepted).toEqual([true]);
  });
});

/** A TLS terminator in front of the dev server (gRPC over HTTP/2), as the frontend serves TLS in the compose stack. */
async function tlsFrontTo(address: string): Promise<number> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const server = createTlsServer({ cert: read('tls_frontend_cert'), key: read('tls_frontend_key'), ALPNProtocols: ['h2'] }, (socket) => {
    const upstream = connectTcp(port, host);
    socket.pipe(upstream).pipe(socket);
    const close = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', close);
    upstream.on('error', close);
  });
  return await listen(server);
}

describe.skipIf(!temporalAvailable())('the worker\'s and the clients\' TLS to the frontend, configured as in docker-compose.yml', () => {
  it('connects with the private CA and the frontend\'s name, and refuses a server it cannot verify', async () => {
    const target = testTemporalTarget();
    const port = await tlsFrontTo(target.address);
    const env = {
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      TEMPORAL_NAMESPACE: target.namespace,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('tls_ca_cert'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal',
    };
    const { settings, problems } = readTemporalConnection(env);
    expect(problems).toEqual([]);
    expect(settings!.tls).toBe('on (CA from the configuration, server name temporal)');

    // The worker's connection (Rust core, rustls).
    const native = await NativeConnection.connect(settings!.connectionOptions());
    try {
      const described = await native.workflowService.describeNamespace({ namespace: target.namespace });
      expect(described.namespaceInfo?.name).toBe(target.namespace);
    } finally {
      await native.close();
    }
    // The starters' and commands' connection (grpc-js).
    const client = await Connection.connect({ ...settings!.connectionOptions(), connectTimeout: 10_000 });
    try {
      const info = await client.workflowService.getSystemInfo({});
      expect(info.capabilities).toBeDefined();
    } finally {
      await client.close();
    }

    // A name the certificate does not carry is refused: the client checks who it talks to.
    const wrongName = readTemporalConnection({ ...env, TEMPORAL_TLS_SERVER_NAME: 'temporal.example.com' });
    await expect(NativeConnection.connect({ ...wrongName.settings!.connectionOptions() })).rejects.toThrow();
  });
});
