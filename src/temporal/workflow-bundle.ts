/**
 * The worker's workflow bundle, made in a short-lived child process so webpack's heap never
 * enters the worker. Run directly, this module is that child: it writes the bundle to stdout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import type { BundleOptions } from '@temporalio/worker';

type WebpackConfiguration = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];

/**
 * The bundler setting of every workflow bundle (the worker's, the tests' and the replay's): every
 * cached run evaluates the bundle's workflow modules again (the SDK keeps module state per run);
 * joined into one scope they cost a cached run about 49 KB instead of 71.
 */
export const joinWorkflowModules = (config: WebpackConfiguration): WebpackConfiguration => ({
  ...config,
  optimization: { ...config.optimization, concatenateModules: true },
});

/**
 * The bundle's code. A worker given a bundle ignores `interceptors.workflowModules`, the data
 * converter's `failureConverterPath` and plugins' bundler settings: they must be in the bundle.
 */
export function bundleWorkflowsApart(workflowsPath: string, interceptorModules: readonly string[], failureConverterPath?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const converterArgs = failureConverterPath === undefined ? [] : [`--failure-converter=${failureConverterPath}`];
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...converterArgs, workflowsPath, ...interceptorModules], { stdio: ['ignore', 'pipe', 'pipe'] });
    const code: Buffer[] = [];
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => code.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString('utf8')).slice(-4_000);
    });
    child.once('error', (error) => reject(new Error(`could not start the process that bundles the workflows: ${error.message}`)));
    child.once('exit', (exitCode, signal) => {
      if (exitCode === 0) resolve(Buffer.concat(code).toString('utf8'));
      else reject(new Error(`bundling the workflows at ${workflowsPath} failed (${signal ?? `exit code ${exitCode}`}): ${errors.trim() || 'no output'}`));
    });
  });
}

if (import.meta.main) {
  const converterFlag = '--failure-converter=';
  const args = process.argv.slice(2);
  const failureConverterPath = args[0]?.startsWith(converterFlag) === true ? args.shift()?.slice(converterFlag.length) : undefined;
  const [workflowsPath, ...workflowInterceptorModules] = args;
  if (workflowsPath === undefined) {
    process.stderr.write('usage: node workflow-bundle.ts [--failure-converter=<module path>] <workflows module path> [<workflow interceptor module path>...]\n');
    process.exit(2);
  }
  const bundle = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules,
    failureConverterPath,
    logger: new DefaultLogger('WARN', ({ message }) => process.stderr.write(`${message}\n`)),
    webpackConfigHook: joinWorkflowModules,
  });
  process.stdout.write(bundle.code);
}
