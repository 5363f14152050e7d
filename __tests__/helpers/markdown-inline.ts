/**
 * What GitHub would render live in one line of Markdown, for tests of
 * untrusted text (issue 17.10): the text outside code spans (CommonMark: a
 * span runs from a backtick run to the next run of the same length) with
 * backslash-escaped punctuation taken as plain text (shown as `·`).
 */
export function liveText(line: string): string {
  let out = '';
  for (let i = 0; i < line.length;) {
    const c = line[i] ?? '';
    if (c === '\\' && /[!-/:-@[-`{-~]/.test(line[i + 1] ?? '')) {
      out += '·';
      i += 2;
    } else if (c === '`') {
      const run = /^`+/.exec(line.slice(i))?.[0] ?? '`';
      const close = new RegExp(`(?<!\`)${run}(?!\`)`, 'g');
      close.lastIndex = i + run.length;
      const end = close.exec(line);
      if (end) i = end.index + run.length;
      else {
        out += '·'.repeat(run.length);
        i += run.length;
      }
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** What would render as markup from `line`: links, images, HTML, mentions, references, autolinks. */
export function liveMarkup(line: string): string[] {
  const text = liveText(line);
  const found = [
    /!?\[[^\]]*\]\s*[([]/.exec(text)?.[0],
    /<\/?[A-Za-z!?]/.exec(text)?.[0],
    /(?:^|[^\w])@[A-Za-z0-9]/.exec(text)?.[0],
    /(?:^|[\s(])#\d/.exec(text)?.[0],
    /\b(?:https?|ftp):\/\/|\bwww\./i.exec(text)?.[0],
    /&#?\w+;/.exec(text)?.[0],
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.exec(line)?.[0],
  ];
  return found.filter((x): x is string => x !== undefined);
}

/** The cells of a GFM table row: split at pipes a backslash does not escape. */
export function tableCells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}
