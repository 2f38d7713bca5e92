/**
 * The layout of the code, checked: the tree shows the architecture only as long as every
 * import goes down the layers. This test parses every import (value and type) and fails on
 *
 * - an import from a higher layer, or from a layer a layer may not see (workflow code sees
 *   no I/O: not the ledger, the APIs, the activities or the client), or a src file that
 *   belongs to no layer (add it to `layers` below, where it belongs);
 * - production code importing the harness or the tests, or tests, benchmarks and scripts
 *   importing each other instead of the shared harness (harness/);
 * - a src file over the line limit;
 * - a second definition of a rule that must be written once (escapeMarkdown, the decision
 *   check).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The layers of src/, lowest first. A file may import from its own layer and from the
 * layers in its `sees` list (all lower). Patterns: `*` is one path segment.
 */
const layers = [
  {
    name: 'base',
    what: 'pure shared definitions: contracts, money, validation, single-line text, Markdown escaping, search attribute names, effect keys',
    files: ['src/contracts.ts', 'src/activity-contracts.ts', 'src/business-keys.ts', 'src/money.ts', 'src/single-line-text.ts', 'src/markdown.ts', 'src/validation.ts', 'src/search-attributes.ts', 'src/ledger/keys.ts', 'src/features/*/contracts.ts'],
    sees: [],
  },
  {
    name: 'infrastructure',
    what: 'I/O below the workflows: vendor APIs, the ledger, configuration, telemetry, Temporal plumbing, simulators',
    files: ['src/apis/**', 'src/ledger/**', 'src/config*.ts', 'src/telemetry/**', 'src/temporal/**', 'src/simulators/**', 'src/run-events.ts'],
    sees: ['base'],
  },
  { name: 'run-kit', what: 'the workflow run kit (deterministic)', files: ['src/run-kit/**'], sees: ['base'] },
  {
    name: 'workflows',
    what: 'the workflow types (deterministic)',
    files: ['src/workflows/**', 'src/features/*/workflow.ts', 'src/features/*/finding-workflow.ts', 'src/features/bulk/rows-workflow.ts'],
    sees: ['base', 'run-kit'],
  },
  {
    name: 'client',
    what: 'starting and steering runs from outside Temporal',
    files: ['src/client/**', 'src/features/*/client.ts'],
    sees: ['base', 'infrastructure', 'workflows'],
  },
  {
    name: 'activities',
    what: 'the activities the worker runs',
    files: ['src/activities/**', 'src/features/*/activities.ts', 'src/features/reconcile/findings.ts'],
    sees: ['base', 'infrastructure', 'client'],
  },
  {
    name: 'entry points',
    what: 'the CLI, the worker and the local stack',
    files: ['src/cli/**', 'src/cli.ts', 'src/worker.ts', 'src/local-stack.ts'],
    sees: ['base', 'infrastructure', 'run-kit', 'workflows', 'client', 'activities'],
  },
] as const;

type LayerName = (typeof layers)[number]['name'];

const maxLines = 400;

function globToRegExp(pattern: string): RegExp {
  const source = pattern
    .split('/')
    .map((part) => (part === '**' ? '.+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')))
    .join('/');
  return new RegExp(`^${source}$`);
}

/** The layer of a src file; the most specific pattern wins (src/ledger/keys.ts is base, not infrastructure). */
function layerOf(file: string): LayerName | undefined {
  let best: { layer: LayerName; specificity: number } | undefined;
  for (const layer of layers) {
    for (const pattern of layer.files) {
      if (!globToRegExp(pattern).test(file)) continue;
      const specificity = pattern.includes('**') ? 0 : pattern.includes('*') ? 1 : 2;
      if (best === undefined || specificity > best.specificity) best = { layer: layer.name, specificity };
    }
  }
  return best?.layer;
}

function filesUnder(directory: string): string[] {
  return readdirSync(join(root, directory), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|js)$/.test(entry.name))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/**
 * Every relative import of code (static, type-only, re-export, dynamic, and `new URL(...)` of
 * a module to spawn or bundle) of a file, as repository paths; data files (JSON, README,
 * fixtures) are not imports of code.
 */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      specifiers.push(node.arguments[0].text);
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL') {
      const first = node.arguments?.[0];
      if (first && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first))) specifiers.push(first.text);
      else if (first && ts.isTemplateExpression(first)) specifiers.push(first.head.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers
    .filter((specifier) => (specifier.startsWith('./') || specifier.startsWith('../')) && /\.(ts|js)$/.test(specifier))
    .map((specifier) => normalize(join(dirname(file), specifier)))
    .filter((target) => codeFolders.includes(target.split('/')[0]!));
}

const codeFolders = ['src', 'harness', 'test', 'bench', 'scripts'];
const srcFiles = filesUnder('src');
const outsideFiles = codeFolders.slice(1).flatMap(filesUnder);

describe('the layout of the code', () => {
  it('puts every src file in a layer', () => {
    expect(srcFiles.filter((file) => layerOf(file) === undefined)).toEqual([]);
  });

  it('has no upward import between layers (type imports included)', () => {
    const problems: string[] = [];
    for (const file of srcFiles) {
      const from = layers.find((layer) => layer.name === layerOf(file));
      if (from === undefined) continue;
      for (const target of importsOf(file)) {
        if (!target.startsWith('src/')) {
          problems.push(`${file} imports ${target}, outside src/ (production code never imports the harness, tests or scripts)`);
          continue;
        }
        const to = layerOf(target);
        if (to === undefined || to === from.name || (from.sees as readonly string[]).includes(to)) continue;
        problems.push(`${file} (${from.name}) imports ${target} (${to}); ${from.name} may import only from ${[from.name, ...from.sees].join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('keeps tests, benchmarks and scripts apart: what they share is in harness/', () => {
    const problems: string[] = [];
    for (const file of outsideFiles) {
      const home = file.split('/')[0]!;
      for (const target of importsOf(file)) {
        const folder = target.split('/')[0]!;
        if (folder !== 'src' && folder !== 'harness' && folder !== home) problems.push(`${file} imports ${target}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it(`has no src file over ${maxLines} lines`, () => {
    const long = srcFiles
      .map((file) => ({ file, lines: readFileSync(join(root, file), 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > maxLines)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it('defines each shared rule once: escapeMarkdown, and the check of an operator decision', () => {
    const definitions = (pattern: RegExp): string[] =>
      srcFiles.filter((file) => pattern.test(readFileSync(join(root, file), 'utf8')));
    expect(definitions(/(?:function|const|let)\s+escapeMarkdown\b/)).toEqual(['src/markdown.ts']);
    expect(definitions(/(?:function|const|let)\s+decisionProblems\b/)).toEqual(['src/run-kit/operator.ts']);
  });
});
