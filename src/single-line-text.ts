/**
 * A single-line text from a person holds no control, line or paragraph separator, or invisible format characters (Cf:
 * `evil\u202eman` shows as "evilnam"). Pure. The same rule: clients/php/src/InputRules.php, the contract's `singleLineText`.
 */
export const controlCharacters = /[\p{Cc}\p{Cf}\u2028\u2029]/u;

/** The bidirectional controls (a subset of Cf): they reorder what is displayed. */
const bidirectionalControls = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

const namedCharacters: Readonly<Record<string, string>> = {
  '\n': 'a line break', '\r': 'a carriage return', '\t': 'a tab', '\x1b': 'an escape character (ESC)',
};

/** How a refused character is named in a problem (as the PHP client names it). */
function describeRefusedCharacter(character: string): string {
  const hex = `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  if (bidirectionalControls.test(character)) return `the bidirectional control character ${hex}`;
  if (/\p{Cf}/u.test(character)) return `the invisible format character ${hex}`;
  return namedCharacters[character] ?? `the control character ${hex}`;
}

/** The problem with `value` as a single-line text named `what`, or undefined when fine. */
export function controlCharacterProblem(what: string, value: string): string | undefined {
  const found = controlCharacters.exec(value);
  if (found === null) return undefined;
  return `${what} must be one line of printable text; it holds ${describeRefusedCharacter(found[0])} at position ${found.index + 1}`;
}

/** `text` safe for a terminal: control characters shown as \u escapes, never sent raw. */
export function printable(text: string): string {
  return text.replace(new RegExp(controlCharacters.source, 'gu'), (char) => (char === '\n' ? '\n' : `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`));
}
