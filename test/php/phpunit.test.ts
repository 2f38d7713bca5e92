/**
 * The PHP client's own checks, as a PHP developer runs them in clients/php: `composer test`
 * (its PHPUnit suite: the shared table of inputs, every exception, answers of any shape
 * from a stand-in HTTP API) and `composer lint` (PSR-12 with PHP_CodeSniffer). Offline:
 * the tools come from vendor/bin when someone installed them, else from PATH (Debian's
 * phpunit and php-codesniffer packages, which .ci/run installs).
 */
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { composerEnv, composerForTests, runCommand, temporaryComposerHome } from '../../harness/composer.ts';
import { phpForTests } from '../../harness/php.ts';

const php = phpForTests({ check: "the PHP client's PHPUnit suite and PSR-12 check", extensions: ['curl', 'json'] });
const composer = composerForTests("the PHP client's PHPUnit suite and PSR-12 check");
const clientDirectory = fileURLToPath(new URL('../../clients/php/', import.meta.url));

describe.skipIf(php === undefined || composer === undefined)('the PHP client in clients/php', () => {
  const { home, remove } = temporaryComposerHome();
  afterAll(remove);

  it('passes its PHPUnit suite (composer test)', { timeout: 180_000 }, async () => {
    const run = await runCommand(composer!.binary, ['test', '--no-ansi'], { cwd: clientDirectory, env: composerEnv(home), killAfterMs: 170_000 });
    expect(run.code, `composer test failed:\n${run.output}`).toBe(0);
    expect(run.output).toMatch(/^OK \(\d+ tests, \d+ assertions\)$/m);
  });

  it('follows PSR-12 (composer lint)', { timeout: 120_000 }, async () => {
    const run = await runCommand(composer!.binary, ['lint', '--no-ansi'], { cwd: clientDirectory, env: composerEnv(home), killAfterMs: 110_000 });
    expect(run.code, `composer lint found problems:\n${run.output}`).toBe(0);
  });
});
