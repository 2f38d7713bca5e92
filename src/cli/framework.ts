/**
 * The command framework behind `orderflow`: a tree of commands, each with its own help,
 * dispatched from argv; exit codes as `orderflow --help` lists them. Loaded by every
 * command, `--help` included, so it imports nothing heavy (no Temporal SDK, no config reader).
 */
import { parseArgs } from 'node:util';
import type { Environment } from '../config.ts';
import { isApiCallError } from '../apis/outcome.ts';
import { printable } from '../single-line-text.ts';
import { temporalVariables } from './environment.ts';

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
  /** The help text after the usage line: what it does. */
  readonly help: string;
}

/** One option of a leaf command: how node:util parseArgs reads it, and its line in the command's help. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly default?: string;
  /** The value as the help shows it, e.g. `<id>`. */
  readonly value?: string;
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** A leaf command's arguments, parsed: its options' values and its other arguments. */
export type ParsedArgs<O extends OptionSpecs> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>;

export interface LeafCommand<O extends OptionSpecs = OptionSpecs> extends CommandBase {
  /** The synopsis after `orderflow`, e.g. `api webtv <action> --user <id> [--set name=value]...`. */
  readonly usage: string;
  /** The environment variables it reads (listed in its help), and a note on what it does not read. */
  readonly environment: { readonly variables: readonly string[]; readonly note?: string };
  /** Its options, listed in its help after `help`. */
  readonly options?: O;
  /** Whether it takes arguments besides its options (a workflow id, an action); if not, one is refused. */
  readonly positionals?: boolean;
  /** The help text after the options: rules, exit status, examples. */
  readonly notes?: string;
  /** Runs with the arguments after the command's name. Throw {@link UsageError} for bad usage. */
  run(args: ParsedArgs<O>, context: CliContext): Promise<ExitCode>;
}

/** A leaf command whose run sees its options' values typed; it reads the Temporal variables unless it says otherwise. */
export function leafCommand<const O extends OptionSpecs>(
  command: Omit<LeafCommand<O>, 'environment'> & Partial<Pick<LeafCommand<O>, 'environment'>>,
): LeafCommand<O> {
  return { environment: { variables: temporalVariables }, ...command };
}

export interface GroupCommand extends CommandBase {
  readonly subcommands: readonly CommandEntry[];
  /** Help text shown after the list of commands: options, examples. */
  readonly footer?: string;
}

export type Command = LeafCommand | GroupCommand;

/** A command, or one whose module is loaded only when it runs or shows its help (its summary is the loaded command's). */
export type CommandEntry = Command | (Pick<CommandBase, 'name' | 'summary'> & { load(): Promise<Command> });

function isGroup(command: Command): command is GroupCommand {
  return 'subcommands' in command;
}

/** The command of an entry, loading its module when it is lazy. */
export async function loadCommand(entry: CommandEntry): Promise<Command> {
  return 'load' in entry ? entry.load() : entry;
}

/** Wraps `text` (or these words) at `width` columns, indenting continuation lines by `indent` spaces. */
export function wrapText(text: string | readonly string[], width = 88, indent = 0): string {
  const lines: string[] = [];
  let current = '';
  for (const word of typeof text === 'string' ? text.split(/\s+/).filter((part) => part !== '') : text) {
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

/** Whether `-h` or `--help` comes before any `--` (after which everything is an argument). */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return args.slice(0, end === -1 ? undefined : end).some((arg) => helpFlags.has(arg));
}

export function line(context: { readonly stdout: TextOutput }, text = ''): void {
  context.stdout.write(`${text}\n`);
}

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
    if (command.options !== undefined) parts.push('', optionsHelp(command.options));
    if (command.notes !== undefined) parts.push('', command.notes.trimEnd());
    const { variables, note } = command.environment;
    const listed = variables.map((name, index) => (index === variables.length - 1 ? name : `${name},`));
    parts.push('', 'Environment (read by this command; it ignores the other orderflow variables):', `  ${wrapText(listed, 86, 2)}`);
    if (note !== undefined) parts.push(wrapText(note));
  }
  return `${parts.join('\n')}\n`;
}

/** The help's list of options, each described in a column after its flag, wrapped within 88 columns. */
function optionsHelp(options: OptionSpecs): string {
  const flags = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short === undefined ? '' : `-${spec.short}, `}--${name}${spec.value === undefined ? '' : ` ${spec.value}`}`;
    return [flag, spec.help] as const;
  });
  const column = Math.max(...flags.map(([flag]) => flag.length)) + 4;
  const newLine = `\n${' '.repeat(column)}`;
  const lines = flags.map(([flag, help]) => `  ${flag.padEnd(column - 2)}${wrapText(help, 88 - column).replaceAll('\n', newLine)}`);
  return ['Options:', ...lines].join('\n');
}

function reportUsage(context: CliContext, path: readonly Command[], message: string): ExitCode {
  errorLine(context, `${commandPath(path)}: ${message}`);
  errorLine(context, `Usage: ${usageOf(path)}`);
  errorLine(context, `Run '${commandPath(path)} --help' for more.`);
  return exitCodes.usage;
}

/** `[#######.......] 12/30`: how much of `total` is done. */
export function progressBar(done: number, total: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

/** A progress line on stderr: redrawn in place on a terminal; elsewhere printed when it changes, at most once per `everyMs`. */
export function progressDisplay(context: CliContext, everyMs = 0): { show(text: string, last?: boolean): void; end(): void } {
  const tty = 'isTTY' in context.stderr && context.stderr.isTTY === true;
  let shown: string | undefined;
  let shownAt = 0;
  return {
    show(text, last = false) {
      if (tty) context.stderr.write(`\r${text.slice(0, 160).padEnd(160)}${last ? '\n' : ''}`);
      else if (last || (text !== shown && Date.now() - shownAt >= everyMs)) {
        context.stderr.write(`${text}\n`);
        shownAt = Date.now();
      }
      shown = text;
    },
    /** Ends the line a terminal shows, before another message. */
    end() {
      if (tty) context.stderr.write('\n');
    },
  };
}

/** What a watch's step throws when Ctrl-C came first. */
const stoppedWatching: unique symbol = Symbol('stopped watching');

/** Runs one step of a watch (a poll, a sleep, the result), aborting it on Ctrl-C. */
export type WatchStep = <T>(run: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/**
 * For `--wait` commands that watch what goes on without them: while `watch` runs, Ctrl-C ends
 * the watch, not the process. Each step runs through `step`; on Ctrl-C the watch ends with
 * exit 130, saying on stderr what goes on without it and how to follow it.
 */
export async function watchUntilInterrupted(
  context: CliContext,
  stopped: { readonly whatGoesOn: string; readonly followWith: string; readonly before?: () => void },
  watch: (step: WatchStep) => Promise<ExitCode>,
): Promise<ExitCode> {
  const controller = new AbortController();
  const interrupted: Promise<typeof stoppedWatching> = context.waitForShutdown().then(() => stoppedWatching);
  // Aborted after the race has its answer, so that an aborted step's error never wins it.
  void interrupted.then(() => controller.abort());
  const step: WatchStep = async (run) => {
    const outcome = controller.signal.aborted ? stoppedWatching : await Promise.race([run(controller.signal), interrupted]);
    if (outcome === stoppedWatching) throw stoppedWatching;
    return outcome;
  };
  return watch(step).catch((error: unknown) => {
    if (error !== stoppedWatching) throw error;
    stopped.before?.();
    errorLine(context, `Stopped watching (Ctrl-C); ${stopped.whatGoesOn}. Follow it with: ${stopped.followWith}`);
    return exitCodes.interrupted;
  });
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
    return await command.run(parseCommandArgs(rest, command.options ?? {}, command.positionals === true), context);
  } catch (error) {
    if (error instanceof UsageError) return reportUsage(context, path, error.message);
    if (isApiCallError(error)) {
      // Vendor texts come from a remote server: never let them drive the terminal.
      if (error.outcome === 'rejected') errorLine(context, printable(`${error.code} | ${error.vendorText ?? '(no text from the API)'}`));
      errorLine(context, printable(error.message));
      return exitCodes.failed;
    }
    if (error instanceof CommandFailure) {
      errorLine(context, error.message);
      return error.exitCode;
    }
    // Loaded here, not at start-up: a command that threw one has loaded them already.
    const [{ InputError }, { ConfigError }, { TemporalNotReadyError }, { findPayloadKeyError }] = await Promise.all([
      import('../validation.ts'), import('../config.ts'), import('../temporal/readiness.ts'), import('../temporal/encryption.ts'),
    ]);
    // Input the starters refused: bad usage, refused before anything was sent.
    if (error instanceof InputError) return reportUsage(context, path, error.message);
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

/** A whole-number option from `min` to `max`, `fallback` when not given; anything else is bad usage naming the option. */
export function wholeNumberOption(name: string, value: string | undefined, fallback: number, [min, max]: [number, number]): number {
  if (value === undefined) return fallback;
  const number = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!(number >= min && number <= max)) {
    throw new UsageError(`--${name} ${JSON.stringify(value)} must be a whole number from ${min} to ${max}.`);
  }
  return number;
}

/** A value that is a negative number, e.g. `-1`, `-3`, `-0.5`: meant as a value, never as options. */
const negativeNumber = /^-\d[\d.,]*$/;

/**
 * Parses a command's arguments strictly (node:util parseArgs), every problem a UsageError: an
 * option given twice that is not `multiple` is refused (not last-wins), and a negative number
 * after an option that takes a value (`--amount -1`) is its value, for its own check to name.
 */
function parseCommandArgs(args: readonly string[], options: OptionSpecs, allowPositionals: boolean): ParsedArgs<OptionSpecs> {
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
    parsed = parseArgs({ options, allowPositionals, args: joined, strict: true, tokens: true });
  } catch (error) {
    if (error instanceof TypeError && 'code' in error && typeof error.code === 'string' && error.code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError(error.message.replace(/\. To specify a positional argument.*$/s, '.'));
    }
    throw error;
  }
  for (const [name, spec] of Object.entries(options)) {
    const given = parsed.tokens.flatMap((token) => (token.kind === 'option' && token.name === name ? [token.value ?? token.rawName] : []));
    if (given.length > 1 && spec.multiple !== true) {
      const shown = spec.type === 'string' ? ` (${given.map((value) => JSON.stringify(value)).join(', ')})` : '';
      throw new UsageError(`--${name} is given ${given.length} times${shown}; give it once.`);
    }
  }
  return parsed;
}
