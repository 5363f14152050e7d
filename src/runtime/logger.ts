/** Where the CLI and the action send human-readable progress. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /**
   * A line k6 printed (console output, its warnings and errors), an agent's
   * own or forwarded: shown even under `-q`, as `k6 run -q` shows them.
   * Loggers without it print it at info.
   */
  k6?(message: string): void;
  /**
   * The run's progress, replacing the last (issue 20.5): on a terminal the
   * lines are redrawn in place; loggers without it print them at info.
   */
  progress?(lines: readonly string[]): void;
}

/** Logs progress lines: see Logger.progress. */
export function logProgress(log: Logger, lines: readonly string[]): void {
  if (log.progress) log.progress(lines);
  else for (const line of lines) log.info(line);
}

/** Logs a line k6 printed: see Logger.k6. */
export function logK6(log: Logger, message: string): void {
  if (log.k6) log.k6(message);
  else log.info(message);
}

/**
 * `-q`/`--quiet`, as k6 has it: no chatter (joins, phases, progress), while
 * what k6 printed, warnings and errors still show. With `chatter: 'debug'`
 * the chatter goes to debug instead (many local agents, issue 20.6).
 */
export function quietLogger(log: Logger, chatter: 'drop' | 'debug' = 'drop'): Logger {
  return {
    debug: (m) => log.debug(m),
    info: chatter === 'debug' ? (m) => log.debug(m) : () => undefined,
    warning: (m) => log.warning(m),
    error: (m) => log.error(m),
    k6: (m) => logK6(log, m),
    progress: chatter === 'debug' ? (lines) => lines.forEach((l) => log.debug(l)) : () => undefined,
  };
}

/** Logs to one writable stream (the CLI uses stderr so stdout stays for results). */
export function streamLogger(
  stream: { write(chunk: string): unknown; isTTY?: boolean },
  options: { debug?: boolean } = {},
): Logger {
  // On a terminal the progress lines stay at the bottom, redrawn in place: any other
  // line first erases them (cursor up, clear to the end of the screen).
  let progressShown = 0;
  const erase = () => {
    if (progressShown > 0) stream.write(`\u001b[${String(progressShown)}A\r\u001b[J`);
    progressShown = 0;
  };
  const line = (prefix: string, message: string) => {
    erase();
    stream.write(`${prefix}${message}\n`);
  };
  return {
    debug: (m) => {
      if (options.debug) line('debug: ', m);
    },
    info: (m) => line('', m),
    k6: (m) => line('', m),
    warning: (m) => line('warning: ', m),
    error: (m) => line('error: ', m),
    progress: (lines) => {
      erase();
      for (const l of lines) stream.write(`${l}\n`);
      if (stream.isTTY === true) progressShown = lines.length;
    },
  };
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warning: () => undefined,
  error: () => undefined,
};
