/**
 * The configuration table in docs/configuration.md is configVariables, row for row: a
 * variable added, renamed, given another default or described anew in src/config.ts fails
 * here until the documentation says the same.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configVariables } from '../../src/config.ts';
import type { ConfigVariable } from '../../src/config.ts';

const tableHeader = '| variable | section | required | default | meaning |';

function row(entry: ConfigVariable): string {
  const name = entry.fileVariant ? `\`${entry.name}\` (or \`${entry.name}_FILE\`)` : `\`${entry.name}\``;
  const fallback = entry.default === null ? '—' : `\`${entry.default}\``;
  return `| ${name} | ${entry.section} | ${entry.required ? 'yes' : 'no'} | ${fallback} | ${entry.description} |`;
}

const document = 'docs/configuration.md';

function documentedTable(): string[] {
  const lines = readFileSync(new URL(`../../${document}`, import.meta.url), 'utf8').split('\n');
  const start = lines.indexOf(tableHeader);
  if (start === -1) throw new Error(`${document} has no configuration table (no line ${JSON.stringify(tableHeader)})`);
  const end = lines.findIndex((line, index) => index > start && !line.startsWith('|'));
  return lines.slice(start + 2, end === -1 ? undefined : end);
}

describe('the configuration table (docs/configuration.md)', () => {
  it('lists exactly configVariables, in order, with their sections, defaults and meanings', () => {
    expect(documentedTable()).toEqual(configVariables.map(row));
  });
});
