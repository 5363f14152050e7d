/** Where the CLI and the action send human-readable progress. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
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
