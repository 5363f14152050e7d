/**
 * Text from a script or an agent (check, group, scenario, metric and agent
 * names, tags, k6's messages), made safe to print in a terminal or a GitHub
 * Actions log. An agent's data is untrusted (issue 17.9): a newline in a
 * check name would start a line of its own, where the runner reads
 * `::add-mask::…` or `::error …::` as a workflow command; ESC sequences move
 * the cursor, recolour or erase a terminal; a lone CR overwrites the line.
 *
 * Escaped, not dropped, so a reader still sees what was there: `\n`, `\r`,
 * `\t`, `\e` for ESC and `\u{…}` for the rest.
 */

/**
 * C0 controls, DEL, C1 controls (NEL included), Unicode's line and paragraph
 * separators, bidirectional overrides and isolates (they reorder what
 * follows them on screen) and the zero-width no-break space.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu;

/** The same, keeping newline and tab: for multi-line text such as k6's error and its stack. */
const UNPRINTABLE_IN_TEXT =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu;

const NAMED: Readonly<Record<string, string>> = {
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\u001b': '\\e',
};

function escape(char: string): string {
  return NAMED[char] ?? `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`;
}

/** A name on one line: every control and separator character escaped. */
export function printableName(name: string): string {
  return name.replace(UNPRINTABLE, escape);
}

/**
 * Multi-line text (k6's error with its stack): lines kept (CRLF and CR read
 * as newlines, as a terminal would show them), every other control and
 * separator character escaped.
 */
export function printableText(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(UNPRINTABLE_IN_TEXT, escape);
}
