/** `orderflow simulate`: the local WebTV and JustClick simulators, with the credentials the clients use. */
import { loadSimulatorCredentials } from '../config.ts';
import { UsageError, errorLine, exitCodes, leafCommand, wholeNumberOption } from './framework.ts';

const defaultWebTvSimulatorPort = 8081;
const defaultJustClickSimulatorPort = 8082;

interface Simulator {
  readonly label: string;
  readonly urlVariable: 'WEBTV_API_URL' | 'JUSTCLICK_API_URL';
  readonly port: number;
  readonly option: string;
  start(): Promise<{ readonly origin: string; readonly apiUrl: string; close(): Promise<void> }>;
}

function portOption(simulator: string, port: number) {
  return { type: 'string' as const, value: '<N>', help: `Port of the ${simulator} simulator (default ${port}; 0: any free port)` };
}

function describeStartFailure({ label, port, option }: Simulator, host: string, error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') return `The ${label} could not listen on ${where}: the port is in use. Choose another with ${option} <port>, or ${option} 0 for any free port.`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `The ${label} could not listen on ${where}: this machine has no such address. Check --host.`;
  if (code === 'EACCES') return `The ${label} may not listen on ${where} (permission denied). Use a port above 1023.`;
  return `The ${label} could not start on ${where}: ${error instanceof Error ? error.message : String(error)}`;
}

export const simulateCommand = leafCommand({
  name: 'simulate',
  summary: 'Run local simulators of both APIs for development and tests',
  usage: 'simulate [--webtv-port N] [--justclick-port N] [--host 127.0.0.1] [--seed demo|empty]',
  environment: { variables: ['WEBTV_KEY_ID(_FILE)', 'WEBTV_SHARED_SECRET(_FILE)', 'JUSTCLICK_LOGIN', 'JUSTCLICK_SECRET(_FILE)'], note: 'They are the credentials the simulators accept (WEBTV_API_URL and JUSTCLICK_API_URL are not read: the simulators print their own URLs).' },
  help: `Runs local stand-ins for the WebTV store API and JustClick until Ctrl-C or SIGTERM, with
the credentials the clients use (the variables below); one whose credentials are not set does
not run (neither: exit 2). It prints their URLs and the export line a second terminal needs.
Each serves an admin API under /_sim/ (state, calls, faults): see docs/simulators.md.`,
  options: {
    'webtv-port': portOption('WebTV', defaultWebTvSimulatorPort),
    'justclick-port': portOption('JustClick', defaultJustClickSimulatorPort),
    host: {
      type: 'string', value: '<address>', default: '127.0.0.1',
      help: 'Address to listen on (default 127.0.0.1). The clients accept plain http only for loopback addresses.',
    },
    seed: {
      type: 'string', value: 'demo|empty', default: 'demo',
      help: 'Initial state (default demo): demo has WebTV users 1-100 without credit and products 1-5 in EUR; empty has nothing. ' +
        'JustClick starts without bills either way.',
    },
  },
  notes: `Examples:
  WEBTV_KEY_ID=1b323a1cb879fd4e66530fbad07a32ee WEBTV_SHARED_SECRET=... orderflow simulate
  orderflow simulate --webtv-port 0 --justclick-port 0 --seed empty
`,
  async run({ values }, context) {
    // Port 0: any free port.
    const webTvPort = wholeNumberOption('webtv-port', values['webtv-port'], defaultWebTvSimulatorPort, [0, 65535]);
    const justClickPort = wholeNumberOption('justclick-port', values['justclick-port'], defaultJustClickSimulatorPort, [0, 65535]);
    const { host, seed } = values;
    if (host.trim() === '') throw new UsageError('--host must not be empty; e.g. --host 127.0.0.1.');
    if (seed !== 'demo' && seed !== 'empty') throw new UsageError(`--seed ${JSON.stringify(seed)} is not a known seed; use demo or empty.`);

    const credentials = loadSimulatorCredentials(context.env);
    // Listen for SIGINT/SIGTERM before anything is printed: a caller that stops us as soon
    // as the URLs appear must find the handlers in place.
    const shutdown = context.waitForShutdown();
    const simulators: Simulator[] = [];
    if (credentials.webtv !== undefined) {
      const { startWebTvSimulator } = await import('../simulators/webtv/index.ts');
      const webTvCredentials = [{ keyId: credentials.webtv.keyId, sharedSecret: credentials.webtv.sharedSecret.reveal() }];
      simulators.push({
        label: 'WebTV simulator', urlVariable: 'WEBTV_API_URL', port: webTvPort, option: '--webtv-port',
        start: () => startWebTvSimulator({ host, port: webTvPort, credentials: webTvCredentials, seed }),
      });
    }
    if (credentials.justclick !== undefined) {
      const { startJustClickSimulator } = await import('../simulators/justclick/index.ts');
      const { login, secret } = credentials.justclick;
      simulators.push({
        label: 'JustClick simulator', urlVariable: 'JUSTCLICK_API_URL', port: justClickPort, option: '--justclick-port',
        start: () => startJustClickSimulator({ host, port: justClickPort, login, secret: secret.reveal(), seed }),
      });
    }
    const running: Array<Simulator & Awaited<ReturnType<Simulator['start']>>> = [];
    const closeAll = (): Promise<unknown> => Promise.allSettled(running.map((simulator) => simulator.close()));
    for (const simulator of simulators) {
      try {
        const handle = await simulator.start();
        running.push({ ...simulator, origin: handle.origin, apiUrl: handle.apiUrl, close: () => handle.close() });
      } catch (error) {
        await closeAll();
        errorLine(context, describeStartFailure(simulator, host, error));
        return exitCodes.failed;
      }
    }

    const width = Math.max(...running.map((simulator) => simulator.label.length)) + 1;
    const admin = (origin: string): string => `(admin: ${origin}/_sim/state, ${origin}/_sim/calls)`;
    const out = running.map(({ label, apiUrl, origin }) => `${`${label}:`.padEnd(width)} ${apiUrl}   ${admin(origin)}`);
    if (credentials.webtv === undefined) out.push('WebTV simulator not started: WEBTV_KEY_ID and WEBTV_SHARED_SECRET are not set.');
    if (credentials.justclick === undefined) out.push('JustClick simulator not started: JUSTCLICK_LOGIN and JUSTCLICK_SECRET are not set.');
    out.push(
      `Seed: ${seed}.`,
      '',
      'In a second terminal with the same credentials set, point the clients here:',
      `  export ${running.map((simulator) => `${simulator.urlVariable}=${simulator.apiUrl}`).join(' ')}`,
      '',
      'Press Ctrl-C to stop.',
    );
    context.stdout.write(`${out.join('\n')}\n`);

    const signal = await shutdown;
    context.stderr.write(`Received ${signal}; stopping the simulators.\n`);
    await closeAll();
    context.stderr.write('Simulators stopped.\n');
    return exitCodes.ok;
  },
});
