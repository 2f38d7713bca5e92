/**
 * The `orderflow` command. Run through `bin/orderflow`, which picks Node 24 and runs this
 * file (a checkout) or dist/cli.js (an installed package).
 *
 * Commands form a table (`commands` below); add one by writing a {@link LeafCommand}
 * or {@link GroupCommand} in src/cli/ and listing it here.
 *
 * Exit status: 0 success; 1 an API call failed or another runtime failure;
 * 2 bad usage or bad configuration (nothing was sent).
 */
import { readFileSync } from 'node:fs';
import { apiCommand } from './cli/api.ts';
import { dispatch, exitCodes } from './cli/framework.ts';
import type { CliContext, Command, ExitCode, GroupCommand, TextOutput } from './cli/framework.ts';
import { simulateCommand } from './cli/simulate.ts';
import { decideCommand, startGroup, statusCommand, workerCommand } from './cli/workflows.ts';
import { opsGroup } from './cli/ops.ts';
import { setupCommand } from './cli/setup.ts';
import { bulkGroup } from './cli/bulk.ts';
import { reconcileCommand, scheduleGroup } from './cli/reconcile.ts';
import { codecServerCommand } from './cli/codec-server.ts';
import type { Environment } from './config.ts';

export type { CliContext, Command, ExitCode, GroupCommand, LeafCommand, TextOutput } from './cli/framework.ts';
export { exitCodes } from './cli/framework.ts';

export const commands: readonly Command[] = [setupCommand, startGroup, bulkGroup, reconcileCommand, scheduleGroup, statusCommand, decideCommand, opsGroup, workerCommand, codecServerCommand, apiCommand, simulateCommand];

export const rootCommand: GroupCommand = {
  name: 'orderflow',
  summary: 'Durable order operations across the WebTV store API and JustClick, on Temporal',
  help: `Durable order operations (refund and cancel, process paid orders, credit
adjustments) across the WebTV store API and JustClick, on Temporal.`,
  footer: `Options:
  -h, --help             Show help; works after any command, e.g. orderflow api webtv --help
  --version              Print the version

Configuration comes from environment variables (WEBTV_API_URL, WEBTV_KEY_ID,
WEBTV_SHARED_SECRET, JUSTCLICK_LOGIN, JUSTCLICK_SECRET, ...); secrets may be given
as files with the _FILE variants. Temporal is reached as the temporal CLI reaches it
(TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE).
See "Configuration" in README.md.

Exit status: 0 success; 1 an API call failed (or the run failed); 2 bad usage or bad
configuration; 3 (start --wait) the run waits for an operator.

Examples:
  orderflow setup
  orderflow worker
  orderflow start refund-and-cancel --user 7 --order 319 --amount 5.50 --wait
  orderflow status refund-and-cancel:7:319
  orderflow decide refund-and-cancel:7:319 --action retry --note "credit unchanged" --operator anna
  orderflow simulate --seed demo
  orderflow api webtv get_credit --user 42
  orderflow api justclick DeleteOrder --set bill_id=1111`,
  subcommands: commands,
};

function readVersion(): string {
  // ../package.json both from src/cli.ts and from dist/cli.js.
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

export interface RunCliOptions {
  env?: Environment;
  stdout?: TextOutput;
  stderr?: TextOutput;
  /** Defaults to the first SIGINT or SIGTERM of this process. */
  waitForShutdown?: () => Promise<string>;
}

/** Waits for SIGINT or SIGTERM; a second signal while shutting down exits at once (130). */
function waitForProcessSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const forceExit = (): void => process.exit(130);
      process.once('SIGINT', forceExit);
      process.once('SIGTERM', forceExit);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Runs `orderflow <args>` and returns the exit status; never calls process.exit. */
export async function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<ExitCode> {
  const context: CliContext = {
    env: options.env ?? process.env,
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    waitForShutdown: options.waitForShutdown ?? waitForProcessSignal,
  };
  if (args[0] === '--version') {
    context.stdout.write(`orderflow ${readVersion()}\n`);
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

/**
 * A reader that stops early (`orderflow ... | head -1`) closes the pipe: the rest of the
 * output has nowhere to go, which is not a failure of the command. Stop quietly, as other
 * command-line tools do, instead of printing the write's EPIPE stack trace.
 */
function stopQuietlyWhenOutputCloses(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

if (import.meta.main) {
  stopQuietlyWhenOutputCloses(process.stdout);
  stopQuietlyWhenOutputCloses(process.stderr);
  process.exitCode = await runCli(process.argv.slice(2));
}
