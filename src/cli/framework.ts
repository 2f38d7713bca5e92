/**
 * The command framework behind `orderflow`: a tree of commands, each with its own help,
 * dispatched from argv. A group (`api`) lists subcommands; a leaf (`api webtv`) runs.
 *
 * Exit status, the same for every command:
 *   0  success
 *   1  an API call failed (rejected, not sent, or outcome unknown) or another runtime failure
 *   2  bad usage or bad configuration; nothing was sent to any API
 *   3  (--wait) the run, bulk or reconcile stopped at something that waits for an operator
 *   4  (status, ops show, bulk status, decide) no run has this workflow id
 * 130  (--wait) Ctrl-C stopped watching; what was watched goes on
 *
 * This module is loaded by every command, `--help` included: it imports nothing heavy
 * (no Temporal SDK, no configuration reader); what a command needs, its own module loads.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { Environment } from '../config.ts';
import { isApiCallError } from '../apis/outcome.ts';
import { printable } from '../single-line-text.ts';
import { environmentHelp } from './environment.ts';

export const exitCodes = Object.freeze({ ok: 0, failed: 1, usage: 2, waitingForOperator: 3, notFound: 4, interrupted: 130 } as const);
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

export interface TextOutput {
  write(text: string): unknown;
}

export interface CliContext {
  readonly env: Environment;
  readonly stdout: TextOutput;
  readonly stderr: TextOutput;
  /**
   * Resolves with the signal's name on the first SIGINT or SIGTERM after the call. The
   * handlers are installed by the call, synchronously, and only when a command asks
   * (long-running commands), so that a short command stays interruptible the ordinary way.
   */
  waitForShutdown(): Promise<string>;
}

interface CommandBase {
  readonly name: string;
  /** One line, shown in the parent's command list. */
  readonly summary: string;
  /** The help text after the usage line: description, options, examples. */
  readonly help: string;
}

export interface LeafCommand extends CommandBase {
  /** The synopsis after `orderflow`, e.g. `api webtv <action> --user <id> [--set name=value]...`. */
  readonly usage: string;
  /**
   * The environment variables it reads (src/cli/environment.ts), listed in its help, and a
   * note on what it does not read that one might think it does.
   */
  readonly environment: { readonly variables: readonly string[]; readonly note?: string };
  /** Runs with the arguments after the command's name. Throw {@link UsageError} for bad usage. */
  run(args: readonly string[], context: CliContext): Promise<ExitCode>;
}

export interface GroupCommand extends CommandBase {
  readonly subcommands: readonly CommandEntry[];
  /** Help text shown after the list of commands: options, examples. */
  readonly footer?: string;
}

export type Command = LeafCommand | GroupCommand;

/**
 * A command listed by name and summary whose module is loaded only when it runs (or shows
 * its own help): `orderflow --help` and `orderflow api ...` do not load the Temporal SDK,
 * the worker or OpenTelemetry. Its summary is the one the loaded command has (a test
 * keeps them equal).
 */
export interface LazyCommand {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

/** What a group lists: commands, or lazy entries of commands. */
export type CommandEntry = Command | LazyCommand;

function isGroup(command: Command): command is GroupCommand {
  return 'subcommands' in command;
}

function isLazy(entry: CommandEntry): entry is LazyCommand {
  return 'load' in entry;
}

/** The command of an entry, loading its module when it is lazy. */
export async function loadCommand(entry: CommandEntry): Promise<Command> {
  return isLazy(entry) ? entry.load() : entry;
}

/** Wraps `text` at `width` columns, indenting continuation lines by `indent` spaces. */
export function wrapText(text: string, width = 88, indent = 0): string {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter((part) => part !== '')) {
    if (current !== '' && current.length + 1 + word.length > width) {
      lines.push(current);
      current = ' '.repeat(indent) + word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  if (current !== '') lines.push(current);
  return lines.join('\n');
}

/** A failure the command explains in its message (e.g. Temporal unreachable): printed; exit 1 unless told otherwise. */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
  readonly exitCode: ExitCode;
  constructor(message: string, options: { exitCode?: ExitCode } = {}) {
    super(message);
    this.exitCode = options.exitCode ?? exitCodes.failed;
  }
}

/** Bad usage: printed with the command's usage line; exit 2; nothing was sent. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const helpFlags = new Set(['--help', '-h']);

function wantsHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (helpFlags.has(arg)) return true;
  }
  return false;
}

function writeLine(output: TextOutput, text = ''): void {
  output.write(`${text}\n`);
}

/** Writes one line to a command's standard output. */
export function line(context: { readonly stdout: TextOutput }, text = ''): void {
  writeLine(context.stdout, text);
}

function commandPath(path: readonly Command[]): string {
  return ['orderflow', ...path.slice(1).map((command) => command.name)].join(' ');
}

function usageOf(path: readonly Command[]): string {
  const command = path[path.length - 1];
  if (command === undefined) return 'orderflow';
  if (isGroup(command)) return `${commandPath(path)} <command> [options]`;
  return `orderflow ${command.usage}`;
}

export function renderHelp(path: readonly Command[]): string {
  const command = path[path.length - 1];
  if (command === undefined) return '';
  const parts = [`Usage: ${usageOf(path)}`, '', command.help.trimEnd()];
  if (isGroup(command)) {
    const width = Math.max(...command.subcommands.map((sub) => sub.name.length)) + 2;
    parts.push('', 'Commands:');
    for (const sub of command.subcommands) parts.push(`  ${sub.name.padEnd(width)}${sub.summary}`);
    if (command.footer !== undefined) parts.push('', command.footer.trimEnd());
    parts.push('', `Run '${commandPath(path)} <command> --help' for a command's options and examples.`);
  } else {
    parts.push('', environmentHelp(command.environment.variables, command.environment.note));
  }
  return `${parts.join('\n')}\n`;
}

function reportUsage(context: CliContext, path: readonly Command[], message: string): ExitCode {
  writeLine(context.stderr, `${commandPath(path)}: ${message}`);
  writeLine(context.stderr, `Usage: ${usageOf(path)}`);
  writeLine(context.stderr, `Run '${commandPath(path)} --help' for more.`);
  return exitCodes.usage;
}

/** Prints an API call failure and returns exit status 1. */
export function reportApiFailure(context: CliContext, error: unknown): ExitCode {
  if (!isApiCallError(error)) throw error;
  // Vendor texts come from a remote server: never let them drive the terminal.
  if (error.outcome === 'rejected') {
    writeLine(context.stderr, printable(`${error.code} | ${error.vendorText ?? '(no text from the API)'}`));
  }
  writeLine(context.stderr, printable(error.message));
  return exitCodes.failed;
}

/** What {@link watchUntilInterrupted}'s race answers when Ctrl-C came first. */
export const stoppedWatching: unique symbol = Symbol('stopped watching');

/** One step of a watch: runs under the watch's abort signal (pass it to Temporal calls and sleeps). */
export type WatchStep = <T>(run: (signal: AbortSignal) => Promise<T>) => Promise<T | typeof stoppedWatching>;

/**
 * For `--wait` commands that watch something that goes on without them (a run, a bulk, a
 * reconcile): from this call on, Ctrl-C (SIGINT, or SIGTERM) ends the watch instead of the
 * process. Each step of the watch (a poll, a sleep, the result) runs through the returned
 * function, which answers {@link stoppedWatching} when Ctrl-C came first and then aborts the
 * step (its Temporal call is cancelled, not left to retry); then print what goes on with
 * {@link reportStoppedWatching}. A second Ctrl-C exits at once (130).
 */
export function watchUntilInterrupted(context: CliContext): WatchStep {
  const controller = new AbortController();
  const interrupted: Promise<typeof stoppedWatching> = context.waitForShutdown().then(() => stoppedWatching);
  // Aborted after the race has its answer, so that an aborted step's error never wins it.
  void interrupted.then(() => controller.abort());
  return <T,>(run: (signal: AbortSignal) => Promise<T>): Promise<T | typeof stoppedWatching> =>
    controller.signal.aborted ? interrupted : Promise.race<T | typeof stoppedWatching>([run(controller.signal), interrupted]);
}

/** Says that the watch stopped and what goes on without it (stderr); exit 130, as for any command ended by Ctrl-C. */
export function reportStoppedWatching(context: CliContext, whatGoesOn: string, followWith: string): ExitCode {
  writeLine(context.stderr, `Stopped watching (Ctrl-C); ${whatGoesOn}. Follow it with: ${followWith}`);
  return exitCodes.interrupted;
}

/** Runs the command that `args` names under `root` and returns the exit status. */
export async function dispatch(root: GroupCommand, args: readonly string[], context: CliContext): Promise<ExitCode> {
  const path: Command[] = [root];
  let rest = args;
  let command: Command = root;
  while (isGroup(command)) {
    const [first, ...others] = rest;
    if (first === undefined) {
      context.stderr.write(renderHelp(path));
      return exitCodes.usage;
    }
    if (helpFlags.has(first) || first === 'help') {
      context.stdout.write(renderHelp(path));
      return exitCodes.ok;
    }
    const entry: CommandEntry | undefined = command.subcommands.find((sub) => sub.name === first);
    if (entry === undefined) {
      const known = command.subcommands.map((sub) => sub.name).join(', ');
      const what = first.startsWith('-') ? `unknown option ${first}` : `unknown command "${first}"`;
      return reportUsage(context, path, `${what}; the commands are: ${known}.`);
    }
    const next = await loadCommand(entry);
    path.push(next);
    command = next;
    rest = others;
  }
  if (wantsHelp(rest)) {
    context.stdout.write(renderHelp(path));
    return exitCodes.ok;
  }
  try {
    return await command.run(rest, context);
  } catch (error) {
    if (error instanceof UsageError) return reportUsage(context, path, error.message);
    if (isApiCallError(error)) return reportApiFailure(context, error);
    if (error instanceof CommandFailure) {
      writeLine(context.stderr, error.message);
      return error.exitCode;
    }
    // Loaded here, not at start-up: a command that threw one has loaded them already.
    const [{ ConfigError }, { TemporalNotReadyError }, { findPayloadKeyError }] = await Promise.all([
      import('../config.ts'), import('../temporal/readiness.ts'), import('../temporal/encryption.ts'),
    ]);
    if (error instanceof ConfigError) {
      writeLine(context.stderr, error.message);
      return exitCodes.usage;
    }
    if (error instanceof TemporalNotReadyError) {
      writeLine(context.stderr, error.message);
      return error.exitCode;
    }
    // A payload this command cannot decrypt (its key is not configured here): the message
    // names the key id and what to do.
    const keyError = findPayloadKeyError(error);
    if (keyError !== undefined) {
      writeLine(context.stderr, `Cannot read the run's data: ${keyError.message}`);
      return exitCodes.failed;
    }
    throw error;
  }
}

/**
 * Runs a `node:util` parseArgs call (strict), turning its errors into {@link UsageError}s:
 * `withUsageErrors(() => parseArgs({ args: [...args], options, strict: true }))`.
 */
export function withUsageErrors<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof TypeError && 'code' in error && typeof error.code === 'string' && error.code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(error.message.replace(/\. To specify a positional argument.*$/s, '.'));
    }
    throw error;
  }
}

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** A value that is a negative number, e.g. `-1`, `-3`, `-0.5`: meant as a value, never as options. */
const negativeNumber = /^-\d[\d.,]*$/;

/**
 * Parses a command's arguments strictly (node:util parseArgs), turning every problem into a
 * {@link UsageError} that says what is wrong:
 *  - an option given twice that is not `multiple` (`--user 900 --user 901`) is refused,
 *    instead of the last one silently winning;
 *  - a negative number after an option that takes a value (`--amount -1`) is taken as its
 *    value, so that the value's own check says what is wrong with it.
 */
export function parseCommandArgs<T extends { options: OptionSpecs; allowPositionals: boolean }>(
  args: readonly string[],
  config: T,
): ReturnType<typeof parseArgs<T & { args: string[]; strict: true; tokens: true }>> {
  const { options } = config;
  const joined: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const next = args[index + 1];
    if (arg === '--') {
      joined.push(...args.slice(index));
      break;
    }
    const name = arg.startsWith('--') && !arg.includes('=')
      ? arg.slice(2)
      : /^-[A-Za-z]$/.test(arg) ? Object.keys(options).find((candidate) => options[candidate]?.short === arg.slice(1)) : undefined;
    const spec = name === undefined ? undefined : options[name];
    if (spec?.type === 'string' && next !== undefined && negativeNumber.test(next)) {
      joined.push(`--${name}=${next}`);
      index++;
    } else {
      joined.push(arg);
    }
  }
  const parsed = withUsageErrors(() => parseArgs({ ...config, args: joined, strict: true as const, tokens: true as const }));
  const seen = new Map<string, string[]>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option' || options[token.name]?.multiple === true) continue;
    const given = seen.get(token.name) ?? [];
    given.push(token.value ?? token.rawName);
    seen.set(token.name, given);
  }
  for (const [name, given] of seen) {
    if (given.length > 1) {
      const shown = options[name]?.type === 'string' ? ` (${given.map((value) => JSON.stringify(value)).join(', ')})` : '';
      throw new UsageError(`--${name} is given ${given.length} times${shown}; give it once.`);
    }
  }
  return parsed;
}

/** `--set name=value` pairs, in order; the name must be non-empty. */
export function parseSetOptions(values: readonly string[] | undefined): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const value of values ?? []) {
    const equals = value.indexOf('=');
    if (equals <= 0) {
      throw new UsageError(`--set ${JSON.stringify(value)} must have the form name=value (the value may be empty: name=).`);
    }
    pairs.push([value.slice(0, equals), value.slice(equals + 1)]);
  }
  return pairs;
}

/** A TCP port option: 0 (any free port) to 65535. */
export function parsePortOption(option: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new UsageError(`${option} ${JSON.stringify(value)} is not a port; give a number from 1 to 65535, or 0 for any free port.`);
  }
  return port;
}
