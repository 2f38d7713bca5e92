/**
 * What a single-line text from a person may hold (reasons, descriptions, notes, operator
 * names): no control characters (newline, ESC, …) and no line or paragraph separators. Such
 * texts are printed to terminals, written into Markdown, search attributes and the ledger;
 * a control character there breaks the output or is refused later, after a run started.
 * Pure code, shared by the starters, the operator protocol (workflow code) and the ledger.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const controlCharacters = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

/** The problem with `value` as a single-line text named `what`, or undefined when fine. */
export function controlCharacterProblem(what: string, value: string): string | undefined {
  const found = controlCharacters.exec(value);
  if (found === null) return undefined;
  const code = found[0].codePointAt(0) ?? 0;
  const name = code === 0x0a ? 'a line break' : code === 0x0d ? 'a carriage return' : code === 0x09 ? 'a tab' : code === 0x1b ? 'an escape character (ESC)' : `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${what} must be one line of printable text; it holds ${name} at position ${found.index + 1}`;
}

/** `text` safe for a terminal: control characters shown as \u escapes, never sent raw. */
export function printable(text: string): string {
  return text.replace(new RegExp(controlCharacters.source, 'gu'), (char) => (char === '\n' ? '\n' : `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`));
}
