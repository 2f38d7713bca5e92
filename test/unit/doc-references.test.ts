/**
 * No dangling documentation references: every Markdown file path that the code, the tests,
 * the scripts, the benchmarks, the clients or the docs mention exists in the repository, and
 * every relative Markdown link (with its `#anchor`, when it points into a Markdown file of
 * the repository) resolves. URLs and files under node_modules are not checked.
 *
 * The checker is plain functions over a small file-system interface, so the first tests can
 * show it failing on made-up content; the last test runs it over the repository.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Where mentions are looked for, relative to the repository root. */
const scannedRoots = ['src', 'test', 'scripts', 'bench', 'clients', 'docs', 'README.md'];
const scannedExtensions = ['.ts', '.js', '.mjs', '.cjs', '.php', '.md', '.sh', '.yml', '.yaml', '.toml'];
const skippedDirectories = new Set(['node_modules', 'vendor', '.venv']);

/** What the checker needs to know about the repository (paths relative to its root, with `/`). */
export interface RepositoryView {
  exists(path: string): boolean;
  /** The text of a Markdown file, or undefined when there is none. */
  readMarkdown(path: string): string | undefined;
}

const extension = ['', 'md'].join('.');

/** A Markdown file path as code or prose writes it: a bare name, a path from the root, or `../` relative. */
const mentionPattern = /(?<![\w./@-])((?:\.\.?\/)*[\w-][\w.-]*(?:\/[\w.-]+)*\.md)(?![\w-])/g;

/** Every Markdown path mentioned in a text (URLs and node_modules paths excluded). */
export function mentionedMarkdownPaths(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(mentionPattern)) {
    const path = match[1]!;
    const before = text.slice(Math.max(0, match.index - 3), match.index);
    if (before.endsWith('://') || path.split('/').includes('node_modules')) continue;
    found.push(path);
  }
  return found;
}

/** Joins and normalises repository-relative paths, always with `/`. */
function joinPath(...parts: string[]): string {
  return normalize(join(...parts)).split('\\').join('/');
}

/** A mention resolves beside the file that mentions it, or from the repository root. */
export function danglingMentions(file: string, text: string, repository: RepositoryView): string[] {
  return mentionedMarkdownPaths(text)
    .filter((path) => !repository.exists(joinPath(dirname(file), path)) && !repository.exists(joinPath(path)))
    .map((path) => `${file} mentions ${path}, which is not in the repository`);
}

/** The text without fenced code blocks (their lines are kept empty, so line numbers stay). */
function withoutCodeBlocks(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const opener = /^\s*(```|~~~)/.exec(line)?.[1];
      if (fence === undefined && opener !== undefined) {
        fence = opener;
        return '';
      }
      if (fence !== undefined) {
        if (line.trim().startsWith(fence)) fence = undefined;
        return '';
      }
      return line;
    })
    .join('\n');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen. */
export function headingSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a Markdown file offers: its headings' slugs (numbered when repeated) and HTML ids. */
export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutCodeBlocks(markdown).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = headingSlug(heading);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(match[1]!);
  }
  return anchors;
}

/** The targets of a Markdown file's inline links, images and link definitions, outside code. */
export function markdownLinkTargets(markdown: string): string[] {
  const prose = withoutCodeBlocks(markdown).replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(match[1]!);
  for (const match of prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push(match[1]!);
  return targets;
}

/** Relative links whose file, or whose anchor in a repository Markdown file, does not exist. */
export function brokenLinks(file: string, markdown: string, repository: RepositoryView): string[] {
  const problems: string[] = [];
  for (const target of markdownLinkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
    const hash = target.indexOf('#');
    const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
    const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
    const path = pathPart === '' ? file : joinPath(dirname(file), pathPart);
    if (path.split('/').includes('node_modules')) continue;
    if (!repository.exists(path)) {
      problems.push(`${file} links to ${target}: ${path} does not exist`);
      continue;
    }
    if (anchor === undefined || anchor === '' || !path.endsWith(extension)) continue;
    const text = repository.readMarkdown(path);
    if (text === undefined || !markdownAnchors(text).has(anchor)) {
      problems.push(`${file} links to ${target}: ${path} has no heading or anchor "${anchor}"`);
    }
  }
  return problems;
}

function scannedFiles(path: string): string[] {
  const full = join(root, path);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return scannedExtensions.some((ending) => path.endsWith(ending)) ? [path] : [];
  return readdirSync(full, { withFileTypes: true })
    .filter((entry) => !(entry.isDirectory() && skippedDirectories.has(entry.name)))
    .flatMap((entry) => scannedFiles(joinPath(path, entry.name)));
}

const repository: RepositoryView = {
  exists: (path) => !relative(root, join(root, path)).startsWith('..') && existsSync(join(root, path)),
  readMarkdown: (path) => (existsSync(join(root, path)) ? readFileSync(join(root, path), 'utf8') : undefined),
};

describe('the dangling-reference checker', () => {
  const missing = ['docs/nowhere', 'md'].join('.');
  const present = ['docs/here', 'md'].join('.');
  const view: RepositoryView = {
    exists: (path) => path === present || path === 'README.md' || path === 'docs',
    readMarkdown: (path) => (path === present ? '# Title\n\n## The effect ledger\n\n```\n## not a heading\n```\n\n## Steps\n## Steps\n' : undefined),
  };

  it('flags a mentioned Markdown file that does not exist, beside the file or at the root', () => {
    expect(danglingMentions('src/a.ts', `// see ${missing}, "Signing"`, view)).toEqual([`src/a.ts mentions ${missing}, which is not in the repository`]);
    expect(danglingMentions('src/a.ts', `// see ${present} and README.md`, view)).toEqual([]);
  });

  it('does not flag URLs or files under node_modules', () => {
    const url = ['https://github.com/temporalio/samples-typescript/blob/main/patching-api/README', 'md'].join('.');
    const dependency = ['node_modules/@temporalio/worker/README', 'md'].join('.');
    expect(mentionedMarkdownPaths(`${url} ${dependency}`)).toEqual([]);
    expect(brokenLinks('README.md', `[a](${url}) [b](${dependency}) [c](mailto:someone@example.com)`, view)).toEqual([]);
  });

  it('flags a relative link to a missing file and an anchor that no heading makes', () => {
    expect(brokenLinks('README.md', `[x](${missing}) [y](${present}#the-effect-ledger) [z](${present}#no-such-part)`, view)).toEqual([
      `README.md links to ${missing}: ${missing} does not exist`,
      `README.md links to ${present}#no-such-part: ${present} has no heading or anchor "no-such-part"`,
    ]);
  });

  it('makes anchors as GitHub does: code, punctuation, repeated headings, not inside code blocks', () => {
    expect(headingSlug('Drift: `orderflow reconcile`')).toBe('drift-orderflow-reconcile');
    expect(headingSlug('bench:memory')).toBe('benchmemory');
    expect([...markdownAnchors(view.readMarkdown(present)!)]).toEqual(['title', 'the-effect-ledger', 'steps', 'steps-1']);
  });

  it('ignores links inside code', () => {
    expect(markdownLinkTargets(`\`[a](${missing})\`\n\n\`\`\`\n[b](${missing})\n\`\`\`\n[c](${present})`)).toEqual([present]);
  });
});

describe('documentation references in this repository', () => {
  const files = scannedRoots.flatMap(scannedFiles);

  it('scans the code, the tests and the docs', () => {
    expect(files).toContain('README.md');
    expect(files).toContain('src/config.ts');
    expect(files.some((file) => file.startsWith('docs/'))).toBe(true);
  });

  it('every Markdown file mentioned exists, and every relative link and anchor resolves', () => {
    const problems = files.flatMap((file) => {
      const text = readFileSync(join(root, file), 'utf8');
      return [...danglingMentions(file, text, repository), ...(file.endsWith(extension) ? brokenLinks(file, text, repository) : [])];
    });
    expect(problems).toEqual([]);
  });
});
