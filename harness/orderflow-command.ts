/**
 * Runs this checkout's `./bin/orderflow` as a user would, for the CLI tests: the given
 * environment only (plus PATH with the project's Node and HOME), its output collected.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The command's environment: `env`, PATH with the project's Node first, and HOME. */
export function orderflowEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: `${root}node_modules/.bin:${process.env['PATH'] ?? '/usr/bin:/bin'}`, HOME: process.env['HOME'] ?? '/tmp', ...env };
}

/** Runs ./bin/orderflow; `interruptWhen` sends it SIGINT (Ctrl-C) once its stdout matches. */
export function runOrderflow(args: readonly string[], env: Record<string, string>, interruptWhen?: RegExp): Promise<CommandResult> {
  const child = spawn(`${root}bin/orderflow`, args, { cwd: root, env: orderflowEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (interruptWhen !== undefined && !interrupted && interruptWhen.test(stdout)) {
      interrupted = true;
      // A moment for the watch to begin (it polls once a second), then Ctrl-C.
      setTimeout(() => child.kill('SIGINT'), 1_500);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
