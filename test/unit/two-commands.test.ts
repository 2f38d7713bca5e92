/**
 * The README's two commands are all a user types on a fresh clone: `npm start` and
 * `npm test` each run the set-up first (scripts/setup.js), which is quick and silent when
 * everything is in place. (A real fresh clone installs; that is checked by hand and in CI,
 * where `.ci/run` runs nothing but `npm test`.)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the two commands', () => {
  it('the README block holds exactly npm start and npm test', () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const block = /## The two commands\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    expect(block.trim().split('\n').map((line) => line.replace(/\s+#.*$/, ''))).toEqual(['npm start', 'npm test']);
  });

  it('npm start and npm test set up first; CI runs only npm test', () => {
    const scripts = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['prestart']).toBe('node scripts/setup.js');
    expect(scripts['pretest']).toBe('node scripts/setup.js');
    const ci = readFileSync(`${root}.ci/run`, 'utf8');
    expect(ci).toMatch(/^npm test$/m);
    expect(ci).not.toMatch(/^[^#]*setup\.(sh|js)/m);
  });

  it('the set-up is silent and succeeds when everything is in place', () => {
    const result = spawnSync(process.execPath, [`${root}scripts/setup.js`], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_execpath: '' } });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });
});
