/** Markdown text for the Temporal UI (current and static details): the one escaping rule. */

/** Escapes what Markdown would read as markup (emphasis, code, links, table cells, HTML). */
export function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]|<>])/g, '\\$1');
}
