import { parseK6LogLine } from '../k6/log-line.js';
import type { Logger } from '../runtime/logger.js';

/** k6's warning when no iteration completed; on one agent of many it says nothing about the run. */
const NO_ITERATIONS = 'No script iterations fully finished';
/** What k6 logs as it exits after an agent stopped it through the REST API, on the coordinator's order. */
const STOPPED_BY_US = 'test run stopped from REST API';
const ABORTED = 'test aborted: ';
/** What k6 logs as it exits on the SIGINT that releases it, e.g. while still paused. */
const INTERRUPTED = "test run was aborted because k6 received a 'interrupt' signal";
/** k6's hint on the error that ended its VUs' initialisation (internal/execution/scheduler.go). */
const INIT_ERROR_HINT = /^error while initializing VU #\d+/;

/**
 * Passes an agent's k6 log on, and reads what the run needs from it: the
 * reason of a test.abort(), which k6 prints only as it exits. Lines that are
 * true of one agent but misleading for the run are kept to debug: the
 * coordinator warns about no finished iterations from the merged count, and
 * a stop the coordinator ordered is no error.
 */
export class K6Log {
  readonly #log: Logger;
  readonly #stopOrdered: () => boolean;
  #abortMessage: string | undefined;
  #initError: string | undefined;

  constructor(log: Logger, stopOrdered: () => boolean) {
    this.#log = log;
    this.#stopOrdered = stopOrdered;
  }

  /** k6's `test aborted: <reason> at <stack>`, once it printed it. */
  get abortMessage(): string | undefined {
    return this.#abortMessage;
  }

  /**
   * k6's error when a VU's init code threw, as `k6 run` prints it: its
   * message (with the script's stack), then what k6 was doing.
   */
  get initError(): string | undefined {
    return this.#initError;
  }

  readonly line = (line: string): void => {
    const entry = parseK6LogLine(line);
    const msg = entry?.msg ?? '';
    if (msg.startsWith(ABORTED)) this.#abortMessage ??= msg;
    if (entry?.hint !== undefined && INIT_ERROR_HINT.test(entry.hint)) {
      this.#initError ??= `${msg.trimEnd()} (${entry.hint})`;
    }
    if (msg.startsWith(NO_ITERATIONS)) {
      this.#log.debug(`[k6] ${line} (the coordinator judges the whole run)`);
    } else if ((msg === STOPPED_BY_US || msg === INTERRUPTED) && this.#stopOrdered()) {
      this.#log.debug(`[k6] ${line} (the coordinator stopped the run)`);
    } else {
      this.#log.info(`[k6] ${line}`);
    }
  };
}
