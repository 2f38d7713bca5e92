/** Loopback ports for the dev server: free ones to pick, and a check that a given one is free. */
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Port numbers that were free a moment ago on `ip` (all distinct). */
export async function pickFreePorts(ip: string, count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createServer().listen(0, ip);
      await once(server, 'listening');
      return server;
    }),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

/**
 * Throws when `port` is taken on `ip`: otherwise the readiness check could succeed against
 * whatever already listens there (another dev server) while ours fails to bind.
 */
export async function assertPortFree(ip: string, port: number, what: string): Promise<void> {
  const server = createServer();
  try {
    server.listen(port, ip);
    await once(server, 'listening');
  } catch (error) {
    throw new Error(
      `Cannot start the Temporal dev server: the ${what} port ${ip}:${port} is not available (${error instanceof Error ? error.message : String(error)}). ` +
        'Stop whatever listens there (another dev server?) or choose another port.',
      { cause: error },
    );
  }
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
