/**
 * PHP-compatible signing. Expected strings come from docs/vendor-apis.md (vectors computed with
 * PHP), the PHP manual's own examples for http_build_query/urlencode, php-src's tests
 * (Zend/tests/double_to_string.phpt) and php-src's code (http.c, php_variables.c).
 */
import { describe, expect, it } from 'vitest';
import {
  justClickRequestHash,
  justClickResponseHash,
  phpHttpBuildQuery,
  phpNumberToString,
  phpUrlencode,
} from '../../src/apis/justclick/signing.ts';
import { nestPhpFields, parsePhpFieldName } from '../../src/apis/justclick/php-fields.ts';
import type { PhpValue } from '../../src/apis/justclick/signing.ts';

const secret = 'X'.repeat(40);

/** Nested Maps as plain arrays of pairs, to compare structure and order. */
function plain(value: PhpValue): unknown {
  return value instanceof Map ? [...value].map(([key, item]) => [key, plain(item as PhpValue)]) : value;
}
function nested(pairs: Array<[string, string]>): unknown {
  return nestPhpFields(pairs).map(([key, value]) => [key, plain(value)]);
}

describe('the vectors of docs/vendor-apis.md (computed with PHP)', () => {
  it('signs bill_id=1111 for login username', () => {
    expect(justClickRequestHash({ bill_id: 1111 }, 'username', secret)).toBe('47d890b61dcad113dee75f57f69be233');
    expect(justClickRequestHash([['bill_id', '1111']], 'username', secret)).toBe('47d890b61dcad113dee75f57f69be233');
  });

  it('signs the answers 0 OK and 200 Nonexistent order', () => {
    expect(justClickResponseHash(0, 'OK', secret)).toBe('cf2b10a8fd707c6d14f496e19503b0a1');
    expect(justClickResponseHash('0', 'OK', secret)).toBe('cf2b10a8fd707c6d14f496e19503b0a1');
    expect(justClickResponseHash(200, 'Nonexistent order', secret)).toBe('e95a8dcc9368519482412470b53d392f');
  });

  it('is sensitive to the letter case of the text (docs say ok, the server says OK)', () => {
    expect(justClickResponseHash(0, 'ok', secret)).not.toBe('cf2b10a8fd707c6d14f496e19503b0a1');
  });
});

describe('phpUrlencode (PHP urlencode)', () => {
  it('keeps only A-Z a-z 0-9 - _ . and turns space into +', () => {
    expect(phpUrlencode('AZaz09-_.')).toBe('AZaz09-_.');
    expect(phpUrlencode('a b')).toBe('a+b');
    expect(phpUrlencode('~')).toBe('%7E');
    expect(phpUrlencode('*')).toBe('%2A');
    expect(phpUrlencode('+')).toBe('%2B');
    expect(phpUrlencode('&=')).toBe('%26%3D');
    expect(phpUrlencode("!'()")).toBe('%21%27%28%29');
    expect(phpUrlencode('5/12/1956')).toBe('5%2F12%2F1956');
    expect(phpUrlencode('\n\t\0')).toBe('%0A%09%00');
  });

  it('encodes the UTF-8 bytes with upper-case hex', () => {
    expect(phpUrlencode('Заказ')).toBe('%D0%97%D0%B0%D0%BA%D0%B0%D0%B7');
    expect(phpUrlencode('é')).toBe('%C3%A9');
    expect(phpUrlencode('€')).toBe('%E2%82%AC');
    expect(phpUrlencode('😀')).toBe('%F0%9F%98%80');
    expect(phpUrlencode('\ud800')).toBe('%EF%BF%BD'); // a lone surrogate has no UTF-8 form
  });
});

describe('phpNumberToString (PHP 8 int and float to string, precision 14)', () => {
  it('prints whole numbers in PHP int range as integers', () => {
    expect(phpNumberToString(5)).toBe('5');
    expect(phpNumberToString(-42)).toBe('-42');
    expect(phpNumberToString(-0)).toBe('0');
    expect(phpNumberToString(1e15)).toBe('1000000000000000');
    expect(phpNumberToString(2 ** 53)).toBe('9007199254740992');
  });

  it('prints floats like (string)$float', () => {
    expect(phpNumberToString(5.5)).toBe('5.5');
    expect(phpNumberToString(0.1)).toBe('0.1');
    expect(phpNumberToString(0.1 + 0.2)).toBe('0.3');
    expect(phpNumberToString(1 / 3)).toBe('0.33333333333333');
    expect(phpNumberToString(-1.5)).toBe('-1.5');
    expect(phpNumberToString(0.0001)).toBe('0.0001');
    expect(phpNumberToString(0.00001)).toBe('1.0E-5');
    expect(phpNumberToString(1.5e-7)).toBe('1.5E-7');
    expect(phpNumberToString(1e20)).toBe('1.0E+20');
    expect(phpNumberToString(9.3e18)).toBe('9.3E+18');
    expect(phpNumberToString(NaN)).toBe('NAN');
    expect(phpNumberToString(Infinity)).toBe('INF');
    expect(phpNumberToString(-Infinity)).toBe('-INF');
  });

  it('matches php-src Zend/tests/double_to_string.phpt', () => {
    // The test's literals 29000000000000.7123123 and 0.12345678901234567890, as doubles:
    expect(phpNumberToString(29000000000000.71)).toBe('29000000000001');
    expect(phpNumberToString(29000.7123123)).toBe('29000.7123123');
    expect(phpNumberToString(239234242.7123123)).toBe('239234242.71231');
    expect(phpNumberToString(0.12345678901234568)).toBe('0.12345678901235');
  });

  it('rounds exact ties to even, as zend_dtoa does', () => {
    // 1234567890123.25 is exact in binary: 15 significant digits ending in 5.
    expect(phpNumberToString(1234567890123.25)).toBe('1234567890123.2');
    expect(phpNumberToString(1234567890123.75)).toBe('1234567890123.8');
  });
});

describe('phpHttpBuildQuery (PHP http_build_query, default arguments)', () => {
  it('reproduces the PHP manual example, null skipped', () => {
    const data = { foo: 'bar', baz: 'boom', cow: 'milk', null: null, php: 'hypertext processor' };
    expect(phpHttpBuildQuery(data)).toBe('foo=bar&baz=boom&cow=milk&php=hypertext+processor');
  });

  it('reproduces the PHP manual example with integer keys, in insertion order', () => {
    const data: Array<[string, PhpValue]> = [
      ['0', 'foo'], ['1', 'bar'], ['2', 'baz'], ['3', null], ['4', 'boom'], ['cow', 'milk'], ['php', 'hypertext processor'],
    ];
    expect(phpHttpBuildQuery(data)).toBe('0=foo&1=bar&2=baz&4=boom&cow=milk&php=hypertext+processor');
  });

  it('reproduces the PHP manual example with nested arrays', () => {
    const data: Array<[string, PhpValue]> = [
      ['user', { name: 'Bob Smith', age: 47, sex: 'M', dob: '5/12/1956' }],
      ['pastimes', ['golf', 'opera', 'poker', 'rap']],
      ['children', { bobby: { age: 12, sex: 'M' }, sally: { age: 8, sex: 'F' } }],
      ['0', 'CEO'],
    ];
    expect(phpHttpBuildQuery(data)).toBe(
      'user%5Bname%5D=Bob+Smith&user%5Bage%5D=47&user%5Bsex%5D=M&user%5Bdob%5D=5%2F12%2F1956' +
        '&pastimes%5B0%5D=golf&pastimes%5B1%5D=opera&pastimes%5B2%5D=poker&pastimes%5B3%5D=rap' +
        '&children%5Bbobby%5D%5Bage%5D=12&children%5Bbobby%5D%5Bsex%5D=M' +
        '&children%5Bsally%5D%5Bage%5D=8&children%5Bsally%5D%5Bsex%5D=F&0=CEO',
    );
  });

  it('encodes JustClick goods as goods%5B0%5D%5Bgood_name%5D=...', () => {
    const query = phpHttpBuildQuery([
      ['goods', [{ good_name: 'course one', good_sum: '990.00' }, { good_name: 'book', good_sum: 5.5 }]],
      ['bill_email', 'buyer+tag@example.com'],
    ]);
    expect(query).toBe(
      'goods%5B0%5D%5Bgood_name%5D=course+one&goods%5B0%5D%5Bgood_sum%5D=990.00' +
        '&goods%5B1%5D%5Bgood_name%5D=book&goods%5B1%5D%5Bgood_sum%5D=5.5&bill_email=buyer%2Btag%40example.com',
    );
  });

  it('encodes keys, nested keys included', () => {
    expect(phpHttpBuildQuery({ 'a b': { 'c d': 'e', 'ф~': 'x' } })).toBe('a+b%5Bc+d%5D=e&a+b%5B%D1%84%7E%5D=x');
  });

  it('prints booleans as 1 and 0, omits null and undefined, keeps empty strings', () => {
    expect(phpHttpBuildQuery({ t: true, f: false, n: null, u: undefined, e: '' })).toBe('t=1&f=0&e=');
    expect(phpHttpBuildQuery({ a: [true, null, false] })).toBe('a%5B0%5D=1&a%5B2%5D=0');
  });

  it('omits empty nested arrays entirely, at any depth', () => {
    expect(phpHttpBuildQuery({ a: [], b: {}, c: new Map(), d: { e: [] }, f: '1' })).toBe('f=1');
    expect(phpHttpBuildQuery({})).toBe('');
    expect(phpHttpBuildQuery([])).toBe('');
  });

  it('prints numbers as PHP does, then urlencodes them', () => {
    expect(phpHttpBuildQuery({ i: 5, f: 5.0, g: 5.5, h: 0.1, big: 1e20, neg: -3 })).toBe('i=5&f=5&g=5.5&h=0.1&big=1.0E%2B20&neg=-3');
  });

  it('keeps insertion order for pairs and Maps, integer keys included', () => {
    expect(phpHttpBuildQuery([['b', '1'], ['10', 'x'], ['2', 'y']])).toBe('b=1&10=x&2=y');
    expect(phpHttpBuildQuery({ m: new Map<string | number, PhpValue>([['z', '1'], [3, '2'], ['1', '3']]) })).toBe('m%5Bz%5D=1&m%5B3%5D=2&m%5B1%5D=3');
    // A plain object puts integer-like keys first, as JS does: the reason pairs exist.
    expect(phpHttpBuildQuery({ b: '1', 10: 'x' })).toBe('10=x&b=1');
  });

  it('treats repeated pair names like $a[$k] = $v: first position, last value', () => {
    expect(phpHttpBuildQuery([['a', '1'], ['b', '2'], ['a', '3']])).toBe('a=3&b=2');
  });

  it('skips holes of sparse arrays', () => {
    const sparse: PhpValue[] = [];
    sparse[1] = 'x';
    expect(phpHttpBuildQuery({ s: sparse })).toBe('s%5B1%5D=x');
  });

  it('refuses values PHP parameters cannot hold', () => {
    expect(() => phpHttpBuildQuery({ d: new Date(0) as unknown as PhpValue })).toThrow(/d is a Date/);
    expect(() => phpHttpBuildQuery({ x: 1n as unknown as PhpValue })).toThrow(/bigint/);
  });
});

describe('parsePhpFieldName (php_register_variable_ex)', () => {
  it('splits nested names', () => {
    expect(parsePhpFieldName('goods[0][good_name]')).toEqual(['goods', '0', 'good_name']);
    expect(parsePhpFieldName('list[]')).toEqual(['list', '']);
    expect(parsePhpFieldName('a[ ]')).toEqual(['a', '']); // one space before ] still means append
    expect(parsePhpFieldName('a[ k]')).toEqual(['a', ' k']); // the space is part of the key
    expect(parsePhpFieldName('a[b]tail')).toEqual(['a', 'b']); // text after ] is ignored
  });

  it('mangles the top-level name as PHP does', () => {
    expect(parsePhpFieldName('a.b c')).toEqual(['a_b_c']);
    expect(parsePhpFieldName('  lead')).toEqual(['lead']);
    expect(parsePhpFieldName('a.b[c.d]')).toEqual(['a_b', 'c.d']); // only before the first [
    expect(parsePhpFieldName('a[b')).toEqual(['a_b']);
    expect(parsePhpFieldName(' a.b[c d.[e')).toEqual(['a_b_c_d__e']);
    expect(parsePhpFieldName('a[b][c')).toEqual(['a', 'b']);
    expect(parsePhpFieldName('nul\0ignored')).toEqual(['nul']);
  });

  it('returns [] for the names PHP drops', () => {
    expect(parsePhpFieldName('')).toEqual([]);
    expect(parsePhpFieldName('[x]')).toEqual([]);
    expect(parsePhpFieldName('   ')).toEqual([]);
    expect(parsePhpFieldName('._Host-x')).toEqual([]); // becomes __Host- only by mangling
    expect(parsePhpFieldName('a[__Secure-x]')).toEqual([]);
    expect(parsePhpFieldName('a' + '[x]'.repeat(65))).toEqual([]);
    expect(parsePhpFieldName('__Host-x')).toEqual(['__Host-x']);
  });
});

describe('nestPhpFields (how PHP fills $_POST)', () => {
  it('nests goods[i][...] in the order received', () => {
    expect(nested([['goods[0][good_sum]', '1'], ['goods[0][good_name]', 'A'], ['bill_id', '7']])).toEqual([
      ['goods', [['0', [['good_sum', '1'], ['good_name', 'A']]]]],
      ['bill_id', '7'],
    ]);
  });

  it('appends with [] after the largest integer key, negative ones included (PHP 8)', () => {
    expect(nested([['a[]', 'x'], ['a[5]', 'y'], ['a[]', 'z']])).toEqual([['a', [['0', 'x'], ['5', 'y'], ['6', 'z']]]]);
    expect(nested([['a[-5]', 'x'], ['a[]', 'y']])).toEqual([['a', [['-5', 'x'], ['-4', 'y']]]]);
    expect(nested([['a[05]', 'x'], ['a[]', 'y']])).toEqual([['a', [['05', 'x'], ['0', 'y']]]]); // "05" is a string key
  });

  it('lets a later value overwrite in place, and an array replace a string in place', () => {
    expect(nested([['a', '1'], ['b', '2'], ['a', '3']])).toEqual([['a', '3'], ['b', '2']]);
    expect(nested([['a', 's'], ['b', '2'], ['a[x]', '1']])).toEqual([['a', [['x', '1']]], ['b', '2']]);
    expect(nested([['a[x]', '1'], ['a', 's']])).toEqual([['a', 's']]);
  });

  it('keeps the arrays created before a name is refused', () => {
    // PHP creates q before refusing the nested __Host- key, so q keeps its early position.
    expect(nested([['q[__Host-x][y]', '1'], ['z', '2'], ['q[b]', '3']])).toEqual([['q', [['b', '3']]], ['z', '2']]);
    expect(phpHttpBuildQuery(nestPhpFields([['q[__Host-x][y]', '1'], ['z', '2'], ['q[b]', '3']]))).toBe('q%5Bb%5D=3&z=2');
  });

  it('deletes the whole top-level variable past 64 nesting levels', () => {
    const deep = `a${'[x]'.repeat(65)}`;
    expect(nested([['a', 'earlier'], [deep, '1'], ['b', '2']])).toEqual([['b', '2']]);
    expect(nested([[`a${'[x]'.repeat(64)}`, '1']])).not.toEqual([]);
  });

  it('round-trips what phpHttpBuildQuery builds', () => {
    const params: Array<[string, PhpValue]> = [
      ['bill_id', 'A-1'],
      ['goods', [{ good_name: 'курс', good_sum: '990.00' }, { good_name: 'a&b=c', good_sum: '' }]],
      ['utm', new Map<string, PhpValue>([['utm_source', 'mail list'], ['0', 'x']])],
      ['flag', true],
    ];
    const query = phpHttpBuildQuery(params);
    expect(phpHttpBuildQuery(nestPhpFields([...new URLSearchParams(query)]))).toBe(query);
  });

  it('gives what the server hashes for names PHP rewrites', () => {
    // A client hashing "x.y=2" raw is refused by PHP, which hashes "x_y=2".
    expect(phpHttpBuildQuery(nestPhpFields([['bill_id', '1'], ['x.y', '2']]))).toBe('bill_id=1&x_y=2');
  });
});
