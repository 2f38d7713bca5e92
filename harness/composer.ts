/**
 * Composer for the tests of the PHP client's own tooling (`composer test`, `composer lint`,
 * the install from an empty folder). Looked up on PATH, or taken from `COMPOSER_BIN`.
 * Without it those tests are skipped with a printed reason, except when `CI` is set: CI
 * installs composer (.ci/run), so there a missing composer fails the run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'vitest';
import { isCi } from './php.ts';

export interface Composer {
  /** The executable: `composer`, or the value of COMPOSER_BIN. */
  readonly binary: string;
  /** What `composer --version` printed. */
  readonly version: string;
}

/** Composer for one test file, or undefined (then skip the suite; this printed why, or, under CI, registered a failing test). */
export function composerForTests(check: string): Composer | undefined {
  const binary = process.env.COMPOSER_BIN || 'composer';
  const probe = spawnSync(binary, ['--version', '--no-ansi'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, COMPOSER_ALLOW_SUPERUSER: '1', COMPOSER_NO_INTERACTION: '1' },
  });
  if (probe.error === undefined && probe.status === 0) return { binary, version: probe.stdout.trim() };
  const why = probe.error !== undefined ? ((probe.error as NodeJS.ErrnoException).code ?? probe.error.message) : `exit ${String(probe.status)}: ${probe.stderr.trim()}`;
  const missing = `${binary} could not be run (${why}; set COMPOSER_BIN to use another composer)`;
  if (isCi()) {
    test(`composer is available for ${check} (required when CI is set)`, () => {
      throw new Error(`${missing}, but CI is set and CI must run ${check}: .ci/run installs composer; check that step.`);
    });
  } else {
    console.warn(`${missing}: skipping ${check}; install composer (Debian: apt-get install composer) to run it`);
  }
  return undefined;
}

/**
 * The environment for a composer run that uses no network and nothing of this machine's
 * composer set-up: its own COMPOSER_HOME (config and cache), network off, no questions.
 */
export function composerEnv(home: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    COMPOSER_HOME: home,
    COMPOSER_CACHE_DIR: join(home, 'cache'),
    COMPOSER_DISABLE_NETWORK: '1',
    COMPOSER_NO_INTERACTION: '1',
    COMPOSER_ALLOW_SUPERUSER: '1',
    COMPOSER_NO_AUDIT: '1',
  };
}

export interface CommandRun {
  code: number | null;
  /** stdout and stderr, interleaved as they came. */
  output: string;
}

/** Runs a command asynchronously (a server in this process can still answer it); never throws for a failing command. */
export function runCommand(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; killAfterMs?: number }): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(killer);
      reject(new Error(`could not run ${command}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    });
  });
}

/** A temporary COMPOSER_HOME, removed by the returned function. */
export function temporaryComposerHome(): { home: string; remove(): void } {
  const home = mkdtempSync(join(tmpdir(), 'orderflow-composer-home-'));
  return { home, remove: () => rmSync(home, { recursive: true, force: true }) };
}
