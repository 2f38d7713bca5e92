/**
 * PHP for the tests that check our code against PHP itself (the signing cross-check, the
 * vendors' own PHP samples).
 *
 * `php` is looked up on PATH, or taken from `PHP_BIN`. Without it those tests are skipped
 * with a printed reason, except when `CI` is set: CI always installs PHP (.ci/run), so there
 * a missing PHP fails the run instead of silently dropping the check.
 */
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'vitest';

export interface PhpRuntime {
  /** The executable that was found (`php`, or the value of PHP_BIN). */
  readonly binary: string;
  /** PHP_VERSION, e.g. `8.2.26`. */
  readonly version: string;
  /** Loaded extensions, lower case. */
  readonly extensions: ReadonlySet<string>;
}

export type PhpLookup = { found: true; php: PhpRuntime } | { found: false; reason: string };

/** Is `CI` set to something that means yes? */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== '0' && value !== 'false';
}

/** Finds PHP and reads its version and extensions. Never throws. */
export function lookUpPhp(env: NodeJS.ProcessEnv = process.env): PhpLookup {
  const fromEnv = env.PHP_BIN !== undefined && env.PHP_BIN !== '';
  const binary = fromEnv ? (env.PHP_BIN as string) : 'php';
  const where = fromEnv ? `PHP_BIN=${binary}` : '`php` on PATH';
  const probe = spawnSync(binary, ['-r', 'echo json_encode(["version" => PHP_VERSION, "extensions" => get_loaded_extensions()]);'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (probe.error !== undefined) {
    const code = (probe.error as NodeJS.ErrnoException).code ?? probe.error.message;
    return { found: false, reason: `${where} could not be run (${code})` };
  }
  if (probe.status !== 0) {
    return { found: false, reason: `${where} exited with status ${String(probe.status)}: ${probe.stderr.trim()}` };
  }
  try {
    const info = JSON.parse(probe.stdout) as { version: string; extensions: string[] };
    return {
      found: true,
      php: { binary, version: info.version, extensions: new Set(info.extensions.map((name) => name.toLowerCase())) },
    };
  } catch {
    return { found: false, reason: `${where} printed something that is not its version: ${probe.stdout.slice(0, 200)}` };
  }
}

export interface PhpForTestsOptions {
  /** What is skipped without PHP, for the printed reason: "the PHP cross-check". */
  check: string;
  /** Extensions the tests need besides the core (`curl`). */
  extensions?: readonly string[];
}

/**
 * PHP for one test file, or undefined, in which case the file's suite should be skipped
 * (`describe.skipIf(php === undefined)`): this prints why. When CI is set it also registers
 * a failing test, so that a CI machine without PHP fails the run.
 * Call it at the top level of a test file.
 */
export function phpForTests(options: PhpForTestsOptions): PhpRuntime | undefined {
  const lookup = lookUpPhp();
  let missing: string; // what is missing, and why
  let skipped: string; // the printed reason for skipping
  if (!lookup.found) {
    missing = `PHP not found (${lookup.reason}; set PHP_BIN to use another PHP)`;
    skipped = `PHP not found: skipping ${options.check}; install php-cli and php-curl to run it (${lookup.reason}; set PHP_BIN to use another PHP)`;
  } else {
    const absent = (options.extensions ?? []).filter((name) => !lookup.php.extensions.has(name.toLowerCase()));
    if (absent.length === 0) return lookup.php;
    missing = `PHP ${lookup.php.version} (${lookup.php.binary}) lacks the extension(s) ${absent.join(', ')}`;
    skipped = `${missing}: skipping ${options.check}; install php-cli and php-curl to run it`;
  }
  if (isCi()) {
    const message = `${missing}, but CI is set and CI must run ${options.check}: .ci/run installs php-cli and php-curl; check that step.`;
    test(`PHP is available for ${options.check} (required when CI is set)`, () => {
      throw new Error(message);
    });
  } else {
    console.warn(skipped);
  }
  return undefined;
}

export interface PhpRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunPhpOptions {
  /** Written to the script's standard input, then closed. */
  stdin?: string;
  /** Added to the environment of the PHP process. */
  env?: Record<string, string>;
  /** Arguments after the script, as $argv[1..]. */
  args?: readonly string[];
  /** A safety net against a hung process (killed with SIGKILL), not a speed requirement. */
  killAfterMs?: number;
}

/**
 * Runs a PHP script file asynchronously (the event loop keeps running, so a simulator in this
 * process can answer the script's HTTP requests). Errors and warnings go to stderr.
 */
export function runPhpFile(php: PhpRuntime, scriptPath: string, options: RunPhpOptions = {}): Promise<PhpRun> {
  return new Promise<PhpRun>((resolve, reject) => {
    const child = spawn(
      php.binary,
      ['-d', 'display_errors=stderr', '-d', 'error_reporting=E_ALL', '-d', 'log_errors=0', '-f', scriptPath, '--', ...(options.args ?? [])],
      { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(killer);
      reject(new Error(`could not run ${php.binary} ${scriptPath}: ${error.message}`, { cause: error }));
    });
    child.on('close', (exitCode, signal) => {
      clearTimeout(killer);
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
    // A script that does not read stdin may exit before we finish writing: ignore EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
  });
}

/**
 * Runs a PHP script with `input` as JSON on stdin and returns what it printed, parsed as JSON.
 * Throws, with PHP's stderr, when the script fails, warns (anything on stderr) or prints anything but JSON.
 */
export async function runPhpJson(php: PhpRuntime, scriptPath: string, input: unknown, options: Omit<RunPhpOptions, 'stdin'> = {}): Promise<unknown> {
  const run = await runPhpFile(php, scriptPath, { ...options, stdin: JSON.stringify(input) });
  if (run.exitCode !== 0 || run.stderr.trim() !== '') {
    throw new Error(
      `PHP script ${scriptPath} failed (exit ${String(run.exitCode)}${run.signal ? `, signal ${run.signal}` : ''}):\n${run.stderr}${run.stdout.slice(0, 2_000)}`,
    );
  }
  try {
    return JSON.parse(run.stdout) as unknown;
  } catch {
    throw new Error(`PHP script ${scriptPath} did not print JSON:\n${run.stdout.slice(0, 2_000)}\nstderr:\n${run.stderr}`);
  }
}
