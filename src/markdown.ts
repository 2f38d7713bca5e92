/** Escapes what Markdown would read as markup (emphasis, code, links, table cells, HTML): the one rule for the UI's details. */
export function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]|<>])/g, '\\$1');
}
