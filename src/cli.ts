/** The `orderflow` command (bin/orderflow runs this file, or dist/cli.js when installed); commands live in src/cli/, listed below. */
import { readFileSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { dispatch, exitCodes } from './cli/framework.ts';
import type { CliContext, CommandEntry, ExitCode, GroupCommand } from './cli/framework.ts';

export type { Command, CommandEntry, LeafCommand, TextOutput } from './cli/framework.ts';

/** One lazy entry per command: its module is loaded only when it runs, so `--help` loads none. */
export const commands: readonly CommandEntry[] = [
  { name: 'setup', summary: "Prepare the Temporal namespace: check it exists, register orderflow's search attributes", load: async () => (await import('./cli/setup.ts')).setupCommand },
  { name: 'start', summary: 'Start a workflow (refund-and-cancel, process-paid-order, adjust-credit, cancel-order)', load: async () => (await import('./cli/workflows.ts')).startGroup },
  { name: 'bulk', summary: 'Run many items from a file with bounded concurrency and a progress bar', load: async () => (await import('./cli/bulk.ts')).bulkGroup },
  { name: 'reconcile', summary: 'Report drift no retry can see: stale effects, late landings, orders and bills changed by hand', load: async () => (await import('./cli/reconcile.ts')).reconcileCommand },
  { name: 'schedule', summary: 'Temporal Schedules for recurring orderflow work', load: async () => (await import('./cli/reconcile.ts')).scheduleGroup },
  { name: 'status', summary: "Show a run's state, each step, and what it waits for", load: async () => (await import('./cli/workflows.ts')).statusCommand },
  { name: 'decide', summary: 'Resume runs that wait for an operator: retry, skip, compensate, abort or approve', load: async () => (await import('./cli/decide.ts')).decideCommand },
  { name: 'ops', summary: 'For the operator on call: list stuck runs, show one', load: async () => (await import('./cli/ops.ts')).opsGroup },
  { name: 'worker', summary: 'Run an orderflow worker until Ctrl-C', load: async () => (await import('./cli/workflows.ts')).workerCommand },
  { name: 'codec-server', summary: 'Serve /encode and /decode for the Temporal UI, the temporal CLI and backends (payload encryption)', load: async () => (await import('./cli/codec-server.ts')).codecServerCommand },
  { name: 'api', summary: 'Call one WebTV store action or JustClick method, signed, and print the answer', load: async () => (await import('./cli/api.ts')).apiCommand },
  { name: 'simulate', summary: 'Run local simulators of both APIs for development and tests', load: async () => (await import('./cli/simulate.ts')).simulateCommand },
];

const rootCommand: GroupCommand = {
  name: 'orderflow',
  summary: 'Durable order operations across the WebTV store API and JustClick, on Temporal',
  help: `Durable order operations (refund and cancel, process paid orders, credit
adjustments) across the WebTV store API and JustClick, on Temporal.`,
  footer: `Options:
  -h, --help             Show help; works after any command, e.g. orderflow api webtv --help
  --version              Print the version

Configuration comes from environment variables (secrets also from files: the _FILE
variants; Temporal as the temporal CLI reaches it), see docs/configuration.md. Each command
reads only the variables its --help lists, refuses a bad value of one (exit 2, naming it),
and ignores the others.

Exit status: 0 success; 1 an API call failed (or the run failed); 2 bad usage or bad
configuration; 3 (--wait) the run, a bulk item or a reconcile finding waits for an
operator; 4 (status, ops show, decide) no run has that workflow id; 130 (--wait) Ctrl-C
stopped watching: what was watched goes on.

Examples:
  orderflow setup
  orderflow worker
  orderflow start refund-and-cancel --user 7 --order 319 --amount 5.50 --reason damaged --wait
  orderflow status refund-and-cancel:7:319
  orderflow decide refund-and-cancel:7:319 --action retry --note "credit unchanged" --operator anna
  orderflow simulate --seed demo
  orderflow api webtv get_credit --user 42
  orderflow api justclick DeleteOrder --set bill_id=1111`,
  subcommands: commands,
};

/** Waits for SIGINT or SIGTERM; a second signal while shutting down exits at once (130). */
function waitForProcessSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      const forceExit = (): void => process.exit(130);
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal).once('SIGINT', forceExit).once('SIGTERM', forceExit);
      resolve(signal);
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
}

/** Runs `orderflow <args>` and returns the exit status; never calls process.exit. Defaults: this process's. */
export async function runCli(args: readonly string[], options: Partial<CliContext> = {}): Promise<ExitCode> {
  const context: CliContext = {
    env: options.env ?? process.env,
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    waitForShutdown: options.waitForShutdown ?? waitForProcessSignal,
  };
  if (args[0] === '--version') {
    // ../package.json both from src/cli.ts and from dist/cli.js.
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    context.stdout.write(`orderflow ${typeof version === 'string' ? version : 'unknown'}\n`);
    return exitCodes.ok;
  }
  try {
    return await dispatch(rootCommand, args, context);
  } catch (error) {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    context.stderr.write(`orderflow: unexpected failure (a bug; please report it with this output):\n${detail}\n`);
    return exitCodes.failed;
  }
}

/** A reader that stops early (`orderflow ... | head -1`) is no failure: stop quietly, not with an EPIPE stack trace. */
function stopQuietlyWhenOutputCloses(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

if (import.meta.main) {
  // About half of a call's start-up (bench/cli-startup.ts); only modules loaded from here on use it.
  enableCompileCache();
  stopQuietlyWhenOutputCloses(process.stdout);
  stopQuietlyWhenOutputCloses(process.stderr);
  process.exitCode = await runCli(process.argv.slice(2));
  // Ctrl-C stopped a watch: end now rather than wait for what the Temporal client may still have scheduled.
  if (process.exitCode === exitCodes.interrupted) process.exit(exitCodes.interrupted);
}
