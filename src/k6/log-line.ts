/** One line of k6's log, in either of its formats. */
export interface K6LogEntry {
  level?: string;
  msg?: string;
  error?: string;
  /** What k6 was doing, e.g. `error while initializing VU #2 (script exception)`. */
  hint?: string;
  /** Who logged it, when not k6 itself: `console`, `stacktrace`, … */
  source?: string;
}

/**
 * Reads a line of k6's log: JSON under `--log-format=json`, else logrus text
 * (`time="…" level=error msg="…"`), which k6 also uses for errors it reports
 * before reading its flags. Undefined for anything else (e.g. console output
 * under `--log-format=raw`).
 */
export function parseK6LogLine(line: string): K6LogEntry | undefined {
  return jsonLogEntry(line) ?? textLogEntry(line);
}

function jsonLogEntry(line: string): K6LogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry: unknown = JSON.parse(line);
    return typeof entry === 'object' && entry !== null ? entry : undefined;
  } catch {
    return undefined;
  }
}

function textLogEntry(line: string): K6LogEntry | undefined {
  const match = /\blevel=(\w+) msg=("(?:[^"\\]|\\.)*"|\S+)/.exec(line);
  if (!match) return undefined;
  const rest = line.slice(match.index + match[0].length);
  const hint = /\bhint=("(?:[^"\\]|\\.)*"|\S+)/.exec(rest);
  const source = /\bsource=(\S+)/.exec(rest)?.[1];
  const error = /\berror=("(?:[^"\\]|\\.)*"|\S+)/.exec(rest);
  return {
    level: match[1],
    msg: unquoteGo(match[2] ?? ''),
    ...(hint && { hint: unquoteGo(hint[1] ?? '') }),
    ...(error && { error: unquoteGo(error[1] ?? '') }),
    ...(source && { source }),
  };
}

/** Go's %q quoting is JSON's for what k6 prints; anything else stays as printed. */
function unquoteGo(text: string): string {
  if (!text.startsWith('"')) return text;
  try {
    return JSON.parse(text) as string;
  } catch {
    return text.slice(1, -1);
  }
}
