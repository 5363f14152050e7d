import { printableName } from '../runtime/printable.js';

/**
 * Untrusted text in GitHub Markdown (job summary, PR comment, check run):
 * check, group and agent names, tags and messages come from the script or an
 * agent (issue 17.10). In a code span nothing renders: no link, image, HTML,
 * `@mention`, `#123` reference or autolink. So names go in code spans; plain
 * text, where a span would read badly, is escaped. Both are one line (a
 * newline would end a table row or start a block).
 */

export interface SpanOptions {
  /** Inside a table cell, where `|` would end the cell even in a code span (GFM). */
  table?: boolean;
}

/**
 * `text` as one code span: fenced with one backtick more than its longest run
 * of backticks, and padded with a space where CommonMark would otherwise eat
 * a backtick or a space at either end (spec: code spans).
 */
export function codeSpan(text: string, options: SpanOptions = {}): string {
  let body = printableName(text);
  if (options.table) body = body.replace(/\|/g, '\\|');
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = body === '' || /^[` ]|[` ]$/.test(body) ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}

/**
 * A zero-width space: after `@`, `#`, a URL's `:` and `www` it keeps GitHub
 * from reading a mention, an issue reference or an autolink (as Renovate
 * does in its pull requests), and stays invisible.
 */
const BREAK = '\u200b';

/** Plain text on one line with Markdown's and HTML's special characters escaped. */
export function markdownText(text: string): string {
  return printableName(text)
    .replace(/[\\`*_{}[\]()<>#!|~&]/g, '\\$&')
    .replace(/[@#]|:(?=\/\/)/g, `$&${BREAK}`)
    .replace(/\bwww\./gi, `www${BREAK}.`)
    .trim();
}
