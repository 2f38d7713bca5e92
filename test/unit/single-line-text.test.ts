/**
 * The single-line text rule: control characters, line separators and invisible format
 * characters (bidirectional controls, zero-width characters, U+FEFF, the soft hyphen) are
 * refused and named, in every place that checks a text: the starters' rules, the operator's
 * decision, the ledger's identifiers; and printed escaped.
 */
import { describe, expect, it } from 'vitest';
import { assertIdentifier, assertWorkflowId } from '../../src/ledger/rules.ts';
import { controlCharacterProblem, printable } from '../../src/single-line-text.ts';
import { authorshipProblems } from '../../src/run-kit/operator.ts';

describe('the single-line text rule', () => {
  it.each([
    ['evil\u202eman', 'the bidirectional control character U+202E at position 5'],
    ['a\u2066b\u2069', 'the bidirectional control character U+2066 at position 2'],
    ['a\u200fb', 'the bidirectional control character U+200F at position 2'],
    ['a\u061cb', 'the bidirectional control character U+061C at position 2'],
    ['zero\u200bwidth', 'the invisible format character U+200B at position 5'],
    ['a\u200db', 'the invisible format character U+200D at position 2'],
    ['word\u2060joiner', 'the invisible format character U+2060 at position 5'],
    ['bo\ufeffm', 'the invisible format character U+FEFF at position 3'],
    ['soft\u00adhyphen', 'the invisible format character U+00AD at position 5'],
    ['tag \u{e0041}', 'the invisible format character U+E0041 at position 5'],
    ['line\nbreak', 'a line break at position 5'],
    ['x\u0085y', 'the control character U+0085 at position 2'],
  ])('refuses %j, naming %s', (value, named) => {
    expect(controlCharacterProblem('reason', value)).toBe(`reason must be one line of printable text; it holds ${named}`);
  });

  it.each(['réfund — naïve ✓', '😀 emoji', 'עברית', 'العربية', 'a b'])('accepts %j', (value) => {
    expect(controlCharacterProblem('reason', value)).toBeUndefined();
  });

  it('prints format characters escaped, so a terminal never reorders what follows', () => {
    expect(printable('evil\u202eman\u200b')).toBe('evil\\u202eman\\u200b');
  });

  it('is the rule of an operator decision and of the ledger', () => {
    expect(authorshipProblems({ note: 'checked', operator: 'evil\u202eman' }, 'decides')).toEqual([
      '"operator" must be one line of printable text; it holds the bidirectional control character U+202E at position 5',
    ]);
    expect(() => assertWorkflowId('refund \u202e1:2')).toThrow(/control or invisible format characters/);
    expect(() => assertIdentifier('anna\u200b', 'actor')).toThrow(/control or invisible format characters/);
  });
});
