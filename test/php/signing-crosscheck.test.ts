/**
 * Our signing code against PHP's own functions, on hundreds of generated inputs.
 *
 * WebTV: `webTvSignature` / `buildSignedUrl` against `base64_encode(hash_hmac('sha256', ...,
 * true))` and `http_build_query` as the vendor's samples use them. JustClick:
 * `phpHttpBuildQuery`, `justClickRequestHash`, `justClickResponseHash` against
 * `http_build_query` and `md5` (the seed's own GetHash / CheckHash code), and `nestPhpFields`
 * against `parse_str`. Each check runs ONE php process for its whole batch.
 *
 * The inputs come from a seeded PRNG (harness/php-values.ts): a failure prints the
 * seed and the case, and `CROSSCHECK_SEED=<seed>` reproduces it. Values travel to PHP in a
 * tagged encoding that keeps float versus int, 64-bit ints and key order
 * (test/fixtures/php/signing-crosscheck.php).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  justClickRequestHash,
  justClickResponseHash,
  phpHttpBuildQuery,
} from '../../src/apis/justclick/signing.ts';
import { nestPhpFields } from '../../src/apis/justclick/php-fields.ts';
import type { PhpParams } from '../../src/apis/justclick/signing.ts';
import { buildSignedUrl, webTvSignature } from '../../src/apis/webtv/signing.ts';
import { webTvActions } from '../../src/apis/webtv/types.ts';
import { phpForTests, runPhpJson } from '../../harness/php.ts';
import type { PhpRuntime } from '../../harness/php.ts';
import {
  Prng,
  crosscheckSeed,
  floatBits,
  genFields,
  genFloat,
  genInt,
  genParams,
  genText,
  isPhpWholeFloatAmbiguous,
  nestedToPhpNode,
  paramsToPhpNode,
  paramsToTs,
  toPhpNode,
  urlencodedBody,
} from '../../harness/php-values.ts';
import type { GenParams, GenValue, PhpNode } from '../../harness/php-values.ts';

const php = phpForTests({ check: 'the PHP cross-check', extensions: ['hash', 'json'] });
const phpScript = fileURLToPath(new URL('../fixtures/php/signing-crosscheck.php', import.meta.url));
const seed = crosscheckSeed();

function requirePhp(): PhpRuntime {
  if (php === undefined) throw new Error('PHP is not available (this suite should have been skipped)');
  return php;
}

/** Runs one batch in one PHP process; PHP returns one result per case, in order. */
async function phpResults(check: string, cases: readonly unknown[]): Promise<unknown[]> {
  const output = (await runPhpJson(requirePhp(), phpScript, { check, cases })) as { results: unknown[] };
  expect(output.results).toHaveLength(cases.length);
  return output.results;
}

interface Mismatch {
  case: number;
  input: unknown;
  ours: unknown;
  php: unknown;
}

/** Every case where ours differs from PHP's; printed with the seed so it can be reproduced. */
function compare<C>(cases: readonly C[], theirs: readonly unknown[], ours: (input: C) => unknown, show: (input: C) => unknown = (input) => input): Mismatch[] {
  const found: Mismatch[] = [];
  cases.forEach((input, index) => {
    let mine: unknown;
    try {
      mine = ours(input);
    } catch (error) {
      mine = `threw: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (JSON.stringify(mine) !== JSON.stringify(theirs[index])) {
      found.push({ case: index, input: show(input), ours: mine, php: theirs[index] });
    }
  });
  return found;
}

function expectNoMismatch(found: Mismatch[], total: number): void {
  const shown = found.slice(0, 8);
  expect(
    shown,
    `${found.length} of ${total} cases differ from PHP (seed ${seed}; rerun with CROSSCHECK_SEED=${seed}); the first ${shown.length}:\n` +
      JSON.stringify(shown, null, 2),
  ).toEqual([]);
}

/** A readable form of generated parameters for failure output. */
function showParams(params: GenParams): unknown {
  return { form: params.kind, php: paramsToPhpNode(params) };
}

const docSecret = 'MWIzMjNhMWNiODc5ZmQ0ZTY2NTMwZmJhZDA3YTMyZWViOTQ3MDJiOGM2ZTU2NjE3';
const docKeyId = '1b323a1cb879fd4e66530fbad07a32ee';
const justClickSecret = 'X'.repeat(40);

/**
 * Timestamps are Unix seconds. Our side prints a number with JS's String(), which writes
 * integers above 2^53 rounded (2^62 + 2^40 → "4611687117939016000", PHP "4611687117939015680"):
 * keep number timestamps to safe integers.
 */
function safeInt(value: number): number {
  return Number.isSafeInteger(value) ? value : 1_700_000_000;
}

function hex(prng: Prng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += '0123456789abcdef'[prng.int(0, 15)];
  return out;
}

describe.skipIf(php === undefined)(`signing, cross-checked against PHP ${php?.version ?? ''}`, () => {
  it('the transfer encoding carries float vs int, 64-bit ints and key order to PHP (so this check can fail)', async () => {
    const cases: Array<{ params: PhpNode }> = [
      { params: { t: 'a', v: [['a', { t: 'f', v: floatBits(1e15) }]] } },
      { params: { t: 'a', v: [['a', { t: 'i', v: '1000000000000000' }]] } },
      { params: { t: 'a', v: [['a', { t: 'f', v: floatBits(5) }]] } },
      { params: { t: 'a', v: [['a', { t: 'f', v: floatBits(-0) }]] } },
      { params: { t: 'a', v: [['a', { t: 'i', v: '9223372036854775807' }]] } },
      { params: { t: 'a', v: [['k', { t: 'a', v: [['1', { t: 's', v: 'x' }], ['0', { t: 's', v: 'y' }]] }]] } },
      { params: { t: 'a', v: [['a', { t: 'b', v: true }], ['b', { t: 'b', v: false }], ['c', { t: 'n' }], ['d', { t: 'a', v: [] }]] } },
    ];
    expect(await phpResults('http-build-query', cases)).toEqual([
      'a=1.0E%2B15',
      'a=1000000000000000',
      'a=5',
      'a=-0',
      'a=9223372036854775807',
      'k%5B1%5D=x&k%5B0%5D=y',
      'a=1&b=0',
    ]);
  });

  it('webTvSignature = base64_encode(hash_hmac("sha256", $salt.$timestamp, $secret, true))', async () => {
    const prng = new Prng(seed);
    type Case = { secret: string; salt: string; timestamp: GenValue };
    const cases: Case[] = [{ secret: docSecret, salt: '5f4dcc3b5aa765d61d8327deb882cf99', timestamp: { kind: 'int', value: 1_700_000_000 } }];
    for (let i = 0; i < 400; i++) {
      const roll = prng.next();
      cases.push({
        secret: roll < 0.2 ? docSecret : genText(prng, 8),
        salt: prng.chance(0.5) ? hex(prng, 32) : genText(prng, 5),
        timestamp: prng.chance(0.75)
          ? { kind: 'int', value: prng.chance(0.7) ? prng.int(0, 2 ** 31) : safeInt(genInt(prng)) }
          : { kind: 'string', value: prng.chance(0.5) ? String(prng.int(0, 2 ** 31)) : genText(prng, 2) },
      });
    }
    const theirs = await phpResults(
      'webtv-signature',
      cases.map((c) => ({ secret: c.secret, salt: c.salt, timestamp: toPhpNode(c.timestamp) })),
    );
    expect(theirs[0]).toBe('3KQW2RQ8FINy5lLVRtDNQGnW+PPhkCUnhuWtydTRsk4=');
    expectNoMismatch(
      compare(cases, theirs, (c) => webTvSignature(c.secret, c.salt, (c.timestamp as { value: number | string }).value)),
      cases.length,
    );
  });

  it('buildSignedUrl gives the query string of the vendor sample (http_build_query of the GET vars)', async () => {
    const prng = new Prng(seed + 1);
    const cases = Array.from({ length: 200 }, (_, i) => ({
      action: prng.pick(webTvActions),
      userId: prng.chance(0.2) ? 2 : prng.int(1, 2 ** 31 - 1),
      keyId: i % 3 === 0 ? docKeyId : hex(prng, 32),
      secret: i % 3 === 0 ? docSecret : genText(prng, 8),
      salt: hex(prng, 32),
      timestamp: prng.int(1_000_000_000, 2 ** 31 - 1),
    }));
    const theirs = await phpResults('webtv-query', cases);
    expectNoMismatch(
      compare(cases, theirs, (c) =>
        buildSignedUrl('https://www.interstreamdomain.tv/api.php', c.action, c.userId, { keyId: c.keyId, sharedSecret: c.secret }, {
          timestamp: c.timestamp,
          salt: c.salt,
        }).search.slice(1),
      ),
      cases.length,
    );
  });

  it('phpHttpBuildQuery = http_build_query on generated parameters (unicode, nesting, numbers, booleans, null, empty arrays)', async () => {
    const prng = new Prng(seed + 2);
    const fixed: GenParams[] = [
      { kind: 'object', entries: [['bill_id', { kind: 'int', value: 1111 }]] },
      {
        kind: 'object',
        entries: [
          ['amount', { kind: 'float', value: 5 }],
          ['half', { kind: 'float', value: 5.5 }],
          ['tenth', { kind: 'float', value: 0.1 }],
          ['sum', { kind: 'float', value: 0.1 + 0.2 }],
          ['big', { kind: 'float', value: 1e25 }],
          ['small', { kind: 'float', value: 1e-7 }],
          ['ties', { kind: 'float', value: 123456789012.345 }],
        ],
      },
      {
        kind: 'pairs',
        pairs: [
          ['goods', { kind: 'list', items: [{ kind: 'object', entries: [['good_name', { kind: 'string', value: 'Курс «Старт» 🎉' }], ['good_sum', { kind: 'string', value: '5.50' }]] }] }],
          ['utm', { kind: 'object', entries: [['utm_source', { kind: 'string', value: "a b~*'()+&=%" }]] }],
          ['empty', { kind: 'list', items: [] }],
          ['flag', { kind: 'bool', value: false }],
          ['none', { kind: 'null' }],
        ],
      },
      { kind: 'object', entries: [['k', { kind: 'map', entries: [[1, { kind: 'string', value: 'x' }], [0, { kind: 'string', value: 'y' }], ['05', { kind: 'string', value: 'z' }]] }]] },
    ];
    const cases = [...fixed, ...Array.from({ length: 500 }, () => genParams(prng))];
    const theirs = await phpResults('http-build-query', cases.map((params) => ({ params: paramsToPhpNode(params) })));
    expect(theirs[0]).toBe('bill_id=1111');
    expect(theirs[1]).toBe('amount=5&half=5.5&tenth=0.1&sum=0.3&big=1.0E%2B25&small=1.0E-7&ties=123456789012.35');
    expectNoMismatch(compare(cases, theirs, (params) => phpHttpBuildQuery(paramsToTs(params)), showParams), cases.length);
  });

  it('justClickRequestHash = the seed\'s GetHash: md5(http_build_query($params)."::".$login."::".$secret)', async () => {
    const prng = new Prng(seed + 3);
    type Case = { params: GenParams; login: string; secret: string };
    const cases: Case[] = [{ params: { kind: 'object', entries: [['bill_id', { kind: 'int', value: 1111 }]] }, login: 'username', secret: justClickSecret }];
    for (let i = 0; i < 300; i++) {
      cases.push({
        params: genParams(prng),
        login: prng.chance(0.3) ? 'username' : genText(prng, 3),
        secret: prng.chance(0.3) ? justClickSecret : genText(prng, 6),
      });
    }
    const theirs = await phpResults(
      'justclick-request-hash',
      cases.map((c) => ({ params: paramsToPhpNode(c.params), login: c.login, secret: c.secret })),
    );
    expect(theirs[0]).toBe('47d890b61dcad113dee75f57f69be233');
    expectNoMismatch(
      compare(cases, theirs, (c) => justClickRequestHash(paramsToTs(c.params) as PhpParams, c.login, c.secret), (c) => ({ ...c, params: showParams(c.params) })),
      cases.length,
    );
  });

  it('justClickResponseHash = the seed\'s CheckHash: md5("$code::$text::$secret") with the code as json_decode gives it', async () => {
    const prng = new Prng(seed + 4);
    type Case = { code: GenValue; text: string; secret: string };
    const cases: Case[] = [
      { code: { kind: 'int', value: 0 }, text: 'OK', secret: justClickSecret },
      { code: { kind: 'int', value: 200 }, text: 'Nonexistent order', secret: justClickSecret },
    ];
    const knownCodes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 200, 201, 202, 203, 302, 303, 400, 601];
    for (let i = 0; i < 300; i++) {
      const roll = prng.next();
      let code: GenValue;
      if (roll < 0.5) code = { kind: 'int', value: prng.pick(knownCodes) };
      else if (roll < 0.65) code = { kind: 'int', value: genInt(prng) };
      else if (roll < 0.8) {
        const value = genFloat(prng);
        code = isPhpWholeFloatAmbiguous(value) ? { kind: 'int', value: Math.trunc(value) || 0 } : { kind: 'float', value };
      } else code = { kind: 'string', value: prng.chance(0.5) ? String(prng.pick(knownCodes)) : genText(prng, 2) };
      cases.push({
        code,
        text: prng.chance(0.3) ? prng.pick(['OK', 'ok', 'Nonexistent order', 'Order number is empty', 'Заказ удалён', '']) : genText(prng, 6),
        secret: prng.chance(0.3) ? justClickSecret : genText(prng, 6),
      });
    }
    const theirs = await phpResults(
      'justclick-response-hash',
      cases.map((c) => ({ code: toPhpNode(c.code), text: c.text, secret: c.secret })),
    );
    expect(theirs.slice(0, 2)).toEqual(['cf2b10a8fd707c6d14f496e19503b0a1', 'e95a8dcc9368519482412470b53d392f']);
    expectNoMismatch(
      compare(cases, theirs, (c) => justClickResponseHash((c.code as { value: number | string }).value, c.text, c.secret)),
      cases.length,
    );
  });

  it('nestPhpFields = parse_str on bodies with bracketed names (then http_build_query of the result)', async () => {
    const prng = new Prng(seed + 5);
    const deep = (levels: number): string => `d${'[x]'.repeat(levels)}`;
    const fixed: Array<Array<[string, string]>> = [
      [['goods[0][good_name]', 'Курс'], ['goods[0][good_sum]', '5.50'], ['goods[1][good_name]', '注文 🎉'], ['bill_id', '1111']],
      [['a[]', '1'], ['a[]', '2'], ['a[5]', 'x'], ['a[]', 'y'], ['a[-3]', 'n'], ['a[]', 'z']],
      [['a', 'scalar'], ['a[x]', 'array replaces it']],
      [['a[x]', 'array'], ['a', 'scalar replaces it']],
      [['a[9223372036854775807]', 'max'], ['a[]', 'no room after PHP_INT_MAX']],
      [['x.y z', 'dots and spaces'], ['ok[', 'unclosed'], ['b[c', 'unclosed'], ['e[f][g', 'deep unclosed'], ['[x]', 'no name']],
      [['..Host-id', 'mangled to __Host-'], ['__Host-id', 'sent as is'], ['_.Secure-id', 'mangled'], ['a\0b', 'NUL ends the name']],
      [['d', 'kept?'], [deep(63), 'level 64'], [deep(64), 'level 65: PHP drops all of d']],
      [[deep(64), 'too deep alone'], ['e', 'e']],
      [['utm[utm_source]', 'a b'], ['utm[ utm_medium]', 'leading space in the key'], ['utm[\tt]', 'tab']],
    ];
    const cases = [...fixed, ...Array.from({ length: 400 }, () => genFields(prng))];
    const bodies = cases.map((fields) => ({ body: urlencodedBody(fields) }));
    const theirs = await phpResults('parse-str', bodies);
    expectNoMismatch(
      compare(
        cases,
        theirs,
        (fields) => {
          const nested = nestPhpFields(fields);
          return {
            query: phpHttpBuildQuery(nested),
            tree: { t: 'a', v: nested.map(([key, value]) => [key, nestedToPhpNode(value)]) },
          };
        },
        (fields) => ({ fields, body: urlencodedBody(fields) }),
      ),
      cases.length,
    );
  });
});
