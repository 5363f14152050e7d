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
  };
}

/** Logs to one writable stream (the CLI uses stderr so stdout stays for results). */
export function streamLogger(
  stream: { write(chunk: string): unknown },
  options: { debug?: boolean } = {},
): Logger {
  const line = (prefix: string, message: string) => stream.write(`${prefix}${message}\n`);
  return {
    debug: (m) => {
      if (options.debug) line('debug: ', m);
    },
    info: (m) => line('', m),
    k6: (m) => line('', m),
    warning: (m) => line('warning: ', m),
    error: (m) => line('error: ', m),
  };
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warning: () => undefined,
  error: () => undefined,
};
