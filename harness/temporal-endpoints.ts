/**
 * Real endpoints in front of a Temporal dev server, for the connection tests:
 * certificates made at test time (openssl), a TLS terminator (TLS, optionally mutual, to
 * plain TCP: the gRPC client speaks HTTP/2 over TLS to it, the dev server sees plain
 * HTTP/2), a gateway that admits only one API key (as Temporal Cloud does), and
 * `orderflow` run in-process or as a child process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http2 from 'node:http2';
import { createServer as createTlsServer } from 'node:tls';
import { runCli } from '../src/cli.ts';

export interface TestCertificates {
  readonly dir: string;
  /** The CA that signed the server's and the client's certificates. */
  readonly caCertPath: string;
  /** Another CA, which signed nothing here: trusting it must fail. */
  readonly otherCaCertPath: string;
  readonly serverCertPath: string;
  readonly serverKeyPath: string;
  readonly clientCertPath: string;
  readonly clientKeyPath: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, a server certificate for localhost/127.0.0.1 and a client certificate, fresh in a temp dir. */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'orderflow-tls-'));
  const ca = (name: string): void =>
    openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`]);
  ca('ca');
  ca('other-ca');
  const leaf = (name: string, extensions: string): void => {
    openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  };
  leaf('server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  leaf('client', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
  return {
    dir,
    caCertPath: join(dir, 'ca.crt'),
    otherCaCertPath: join(dir, 'other-ca.crt'),
    serverCertPath: join(dir, 'server.crt'),
    serverKeyPath: join(dir, 'server.key'),
    clientCertPath: join(dir, 'client.crt'),
    clientKeyPath: join(dir, 'client.key'),
  };
}

export interface Endpoint {
  /** `127.0.0.1:port` */
  readonly address: string;
  close(): Promise<void>;
}

function parseAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

/**
 * Terminates TLS on loopback and pipes the bytes to `target` (plain TCP). With
 * `clientCaPath`, a client certificate signed by that CA is required (mTLS).
 */
export async function startTlsTerminator(options: { target: string; certificates: TestCertificates; requireClientCertificate?: boolean }): Promise<Endpoint> {
  const target = parseAddress(options.target);
  const sockets = new Set<Socket>();
  const server = createTlsServer(
    {
      key: readFileSync(options.certificates.serverKeyPath),
      cert: readFileSync(options.certificates.serverCertPath),
      ALPNProtocols: ['h2'],
      ...(options.requireClientCertificate ? { requestCert: true, rejectUnauthorized: true, ca: readFileSync(options.certificates.caCertPath) } : {}),
    },
    (clientSide) => {
      const serverSide = netConnect(target.port, target.host);
      sockets.add(clientSide).add(serverSide);
      const drop = (): void => {
        clientSide.destroy();
        serverSide.destroy();
      };
      clientSide.on('error', drop).on('close', drop);
      serverSide.on('error', drop).on('close', drop);
      clientSide.pipe(serverSide).pipe(clientSide);
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A TLS gRPC gateway that admits only `Authorization: Bearer <apiKey>` (as Temporal Cloud
 * does) and forwards admitted calls to `target`; any other call is answered with gRPC
 * status 16 UNAUTHENTICATED.
 */
export async function startApiKeyGateway(options: { target: string; certificates: TestCertificates; apiKey: string }): Promise<Endpoint> {
  const upstream = http2.connect(`http://${options.target}`);
  upstream.on('error', () => undefined);
  const server = http2.createSecureServer({
    key: readFileSync(options.certificates.serverKeyPath),
    cert: readFileSync(options.certificates.serverCertPath),
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (headers['authorization'] !== `Bearer ${options.apiKey}`) {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'Request unauthorized.' }, { endStream: true });
      return;
    }
    const forwarded: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name === ':authority' || name === ':scheme' || name === 'authorization') continue;
      forwarded[name] = value;
    }
    const call = upstream.request(forwarded);
    call.on('error', () => stream.destroy());
    stream.on('close', () => call.close());
    let trailers: http2.IncomingHttpHeaders = {};
    call.on('trailers', (received) => (trailers = received));
    call.on('response', (responseHeaders) => {
      const { ...copy } = responseHeaders;
      if ('grpc-status' in copy) {
        stream.respond(copy, { endStream: true });
        return;
      }
      stream.respond(copy, { waitForTrailers: true });
      stream.on('wantTrailers', () => {
        const { ...rest } = trailers;
        stream.sendTrailers(rest);
      });
      call.pipe(stream);
    });
    stream.pipe(call);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        upstream.close();
        server.close(() => resolve());
      }),
  };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `orderflow <args>` in this process, with exactly `env` (no HOME: no user config file). */
export async function orderflowInProcess(args: string[], env: Record<string, string>): Promise<CommandResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env,
    stdout: { write: (text: string) => ((stdout += text), true) },
    stderr: { write: (text: string) => ((stderr += text), true) },
    waitForShutdown: () => new Promise(() => undefined),
  });
  return { code, stdout, stderr };
}

const root = fileURLToPath(new URL('../', import.meta.url));

/** `bin/orderflow <args>` as a child process (for the worker, which owns its process). */
export function orderflowProcess(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CommandResult> {
  const child = spawn(`${root}bin/orderflow`, args, {
    cwd: root,
    env: { PATH: `${root}node_modules/.bin:${process.env['PATH'] ?? '/usr/bin:/bin'}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
