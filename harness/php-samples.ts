/**
 * The vendors' own PHP samples, taken from the documentation pages in shared/seeds/
 * (shared/ lies beside the repository; ORDERFLOW_SEEDS_DIR overrides), made runnable against
 * our simulators by replacing the API URL and nothing else.
 *
 * Seeds 000, 002 and 003 keep their line breaks: their code is cut out of the page at test
 * time, so the tests run the seed's code itself. Seeds 001 and 004 lost their line breaks when
 * they were scraped (each `//` comment swallows the code after it); their code is committed
 * in test/fixtures/php/ with the line breaks put back, and {@link fixtureMatchesSeed} proves it
 * is still the seed's code, whitespace aside.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'vitest';
import { isCi } from './php.ts';

export const sampleSeeds = {
  cancelOrder: '000_eab7d1e850b6c57e.txt',
  processOrder: '001_d297e60d2ee7795f.txt',
  listOrders: '002_57c9a2ed5d91be57.txt',
  addSubtractCredit: '003_779646d115dfc8ed.txt',
  deleteOrder: '004_2b510286bfbda7d7.txt',
} as const;

/** The API URLs as the samples spell them: the only thing the tests change. */
export const webTvSampleApiUrl = 'https://www.interstreamdomain.tv/api.php';
export const justClickSampleDeleteOrderUrl = 'https://username.justclick.ru/api/DeleteOrder';

/** The samples' public example credentials, which the simulators are started with. */
export const sampleCredentials = {
  webTvKeyId: '1b323a1cb879fd4e66530fbad07a32ee',
  webTvSharedSecret: 'MWIzMjNhMWNiODc5ZmQ0ZTY2NTMwZmJhZDA3YTMyZWViOTQ3MDJiOGM2ZTU2NjE3',
  justClickLogin: 'username',
  justClickSecret: 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
} as const;

const repositoryRoot = fileURLToPath(new URL('../', import.meta.url));

/** shared/seeds beside the repository, or ORDERFLOW_SEEDS_DIR. */
export function seedsDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.ORDERFLOW_SEEDS_DIR;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(repositoryRoot, '..', 'shared', 'seeds');
}

/**
 * The seeds directory, or undefined (then the sample tests are skipped, printing why; with
 * CI set a failing test is registered instead, as for a missing PHP). Call at a test file's top level.
 */
export function seedsForTests(check: string): string | undefined {
  const directory = seedsDirectory();
  const missing = Object.values(sampleSeeds).filter((name) => !existsSync(join(directory, name)));
  if (missing.length === 0) return directory;
  const problem =
    `vendor documentation seeds not found in ${directory} (missing ${missing.join(', ')}): skipping ${check}; ` +
    'shared/ must lie beside the repository, or set ORDERFLOW_SEEDS_DIR';
  if (isCi()) {
    test(`the vendor seeds are available for ${check} (required when CI is set)`, () => {
      throw new Error(problem);
    });
  } else {
    console.warn(problem);
  }
  return undefined;
}

export function readSeed(directory: string, name: string): string {
  return readFileSync(join(directory, name), 'utf8');
}

/** Every run of whitespace as one space: how a scraped page and the real code compare. */
export function normalizeWhitespace(code: string): string {
  return code.replace(/\s+/g, ' ').trim();
}

const webTvBlockOne = 'GETおよびPOSTデータを準備します。';
const webTvBlockTwo = 'salt, timestamp, signatureを生成してリクエストを送信します。';

function between(text: string, marker: string, seed: string): number {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`seed ${seed}: the marker ${JSON.stringify(marker)} is not in the page any more`);
  if (text.indexOf(marker, at + 1) >= 0) throw new Error(`seed ${seed}: the marker ${JSON.stringify(marker)} appears twice`);
  return at;
}

/**
 * The PHP code of a WebTV page (seeds 000–003): its two code blocks, "prepare the GET and
 * POST data" and "make salt, timestamp, signature and send", without the prose between them.
 */
export function webTvSampleCode(seedText: string, seed: string): string {
  const first = between(seedText, webTvBlockOne, seed) + webTvBlockOne.length;
  const prose = between(seedText, webTvBlockTwo, seed);
  return `${seedText.slice(first, prose).trim()}\n\n${seedText.slice(prose + webTvBlockTwo.length).trim()}\n`;
}

/** The PHP code of the JustClick page (seed 004): its one numbered listing, without the `|` frame. */
export function justClickSampleCode(seedText: string, seed: string): string {
  const start = between(seedText, '// Логин в системе Джастклик', seed);
  const code = seedText.slice(start).trimEnd();
  if (!code.endsWith('|')) throw new Error(`seed ${seed}: the listing no longer ends with its "|" frame`);
  return `${code.slice(0, -1).trimEnd()}\n`;
}

const fixtureMarker = /^\/\/ ---- vendor sample \(seed \d{3}\).*----\n/m;

/** The sample code of a committed fixture (after its marker line, without the header). */
export function fixtureSampleCode(fixtureName: string): string {
  const text = readFileSync(fileURLToPath(new URL(`../test/fixtures/php/${fixtureName}`, import.meta.url)), 'utf8');
  const match = fixtureMarker.exec(text);
  if (!match) throw new Error(`test/fixtures/php/${fixtureName} has no "// ---- vendor sample (seed NNN) ... ----" line`);
  return text.slice(match.index + match[0].length);
}

/** Replaces the one occurrence of `from` (a URL in the sample) by `to`; throws unless there is exactly one. */
export function replaceOnce(code: string, from: string, to: string): string {
  const parts = code.split(from);
  if (parts.length !== 2) throw new Error(`expected the sample to contain ${from} exactly once; found it ${parts.length - 1} times`);
  if (!/^[A-Za-z0-9:/.\-_[\]]+$/.test(to)) throw new Error(`refusing to put ${JSON.stringify(to)} into a PHP string literal`);
  return parts.join(to);
}

/** Writes `<?php` + code to a fresh temporary file; returns its path and a clean-up. */
export function writePhpScript(code: string, name: string): { path: string; remove: () => void } {
  const directory = mkdtempSync(join(tmpdir(), 'orderflow-php-sample-'));
  const path = join(directory, name);
  writeFileSync(path, `<?php\n${code}`, 'utf8');
  return { path, remove: () => rmSync(directory, { recursive: true, force: true }) };
}
