/**
 * The command framework behind `orderflow`: a tree of commands, each with its own help,
 * dispatched from argv; exit codes as `orderflow --help` lists them. Loaded by every
 * command, `--help` included, so it imports nothing heavy (no Temporal SDK, no config reader).
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { Environment } from '../config.ts';
import { isApiCallError } from '../apis/outcome.ts';
import { printable } from '../single-line-text.ts';

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
   * Resolves with the signal's name on the first SIGINT or SIGTERM after the call; handlers
   * are installed only when a command asks, so a short command stays interruptible as usual.
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
  /** The environment variables it reads (listed in its help), and a note on what it does not read. */
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

/** A command whose module is loaded only when it runs or shows its help; its summary is the loaded command's. */
export interface LazyCommand {
  readonly name: string;
  readonly summary: string;
  load(): Promise<Command>;
}

export type CommandEntry = Command | LazyCommand;

function isGroup(command: Command): command is GroupCommand {
  return 'subcommands' in command;
}

/** The command of an entry, loading its module when it is lazy. */
export async function loadCommand(entry: CommandEntry): Promise<Command> {
  return 'load' in entry ? entry.load() : entry;
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

/** Writes one line to a command's standard output. */
export function line(context: { readonly stdout: TextOutput }, text = ''): void {
  context.stdout.write(`${text}\n`);
}

/** Writes one line to a command's standard error. */
export function errorLine(context: { readonly stderr: TextOutput }, text: string): void {
  context.stderr.write(`${text}\n`);
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

/** The help section that lists what a command reads. */
function environmentHelp(variables: readonly string[], note?: string): string {
  const lines = ['Environment (read by this command; it ignores the other orderflow variables):'];
  let current = ' ';
  for (const name of variables) {
    if (current.length + name.length + 2 > 88) {
      lines.push(current);
      current = ' ';
    }
    current += ` ${name},`;
  }
  lines.push(current.replace(/,$/, ''));
  if (note !== undefined) lines.push(wrapText(note));
  return lines.join('\n');
}

function reportUsage(context: CliContext, path: readonly Command[], message: string): ExitCode {
  errorLine(context, `${commandPath(path)}: ${message}`);
  errorLine(context, `Usage: ${usageOf(path)}`);
  errorLine(context, `Run '${commandPath(path)} --help' for more.`);
  return exitCodes.usage;
}

/** Prints an API call failure and returns exit status 1. */
export function reportApiFailure(context: CliContext, error: unknown): ExitCode {
  if (!isApiCallError(error)) throw error;
  // Vendor texts come from a remote server: never let them drive the terminal.
  if (error.outcome === 'rejected') {
    errorLine(context, printable(`${error.code} | ${error.vendorText ?? '(no text from the API)'}`));
  }
  errorLine(context, printable(error.message));
  return exitCodes.failed;
}

/** What {@link watchUntilInterrupted}'s race answers when Ctrl-C came first. */
export const stoppedWatching: unique symbol = Symbol('stopped watching');

type WatchStep = <T>(run: (signal: AbortSignal) => Promise<T>) => Promise<T | typeof stoppedWatching>;

/**
 * For `--wait` commands that watch what goes on without them: from this call on, Ctrl-C ends
 * the watch, not the process. Each step (a poll, a sleep, the result) runs through the returned
 * function, which answers {@link stoppedWatching} when Ctrl-C came first and aborts the step.
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
  errorLine(context, `Stopped watching (Ctrl-C); ${whatGoesOn}. Follow it with: ${followWith}`);
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
      errorLine(context, error.message);
      return error.exitCode;
    }
    // Loaded here, not at start-up: a command that threw one has loaded them already.
    const [{ ConfigError }, { TemporalNotReadyError }, { findPayloadKeyError }] = await Promise.all([
      import('../config.ts'), import('../temporal/readiness.ts'), import('../temporal/encryption.ts'),
    ]);
    if (error instanceof ConfigError || error instanceof TemporalNotReadyError) {
      errorLine(context, error.message);
      return error instanceof ConfigError ? exitCodes.usage : error.exitCode;
    }
    // A payload this command cannot decrypt: the message names the key id and what to do.
    const keyError = findPayloadKeyError(error);
    if (keyError !== undefined) {
      errorLine(context, `Cannot read the run's data: ${keyError.message}`);
      return exitCodes.failed;
    }
    throw error;
  }
}

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** A value that is a negative number, e.g. `-1`, `-3`, `-0.5`: meant as a value, never as options. */
const negativeNumber = /^-\d[\d.,]*$/;

/**
 * Parses a command's arguments strictly (node:util parseArgs), every problem a UsageError: an
 * option given twice that is not `multiple` is refused (not last-wins), and a negative number
 * after an option that takes a value (`--amount -1`) is its value, for its own check to name.
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
  let parsed;
  try {
    parsed = parseArgs({ ...config, args: joined, strict: true as const, tokens: true as const });
  } catch (error) {
    if (error instanceof TypeError && 'code' in error && typeof error.code === 'string' && error.code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(error.message.replace(/\. To specify a positional argument.*$/s, '.'));
    }
    throw error;
  }
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
