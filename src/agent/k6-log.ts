import { parseK6LogLine, type K6LogEntry } from '../k6/log-line.js';
import { type Logger, logK6 } from '../runtime/logger.js';

/** k6's warning when no iteration completed; on one agent of many it says nothing about the run. */
const NO_ITERATIONS = 'No script iterations fully finished';
/** What k6 logs as it exits after an agent stopped it through the REST API, on the coordinator's order. */
const STOPPED_BY_US = 'test run stopped from REST API';
/** What k6 logs as it exits on a signal; ours when the agent released or stopped its k6. */
const SIGNALLED = 'test run was aborted because k6 received a ';
/** k6's REST API logs a failed setup() or teardown() so; the agent reports the error to the coordinator. */
const SETUP_FAILED = 'Error executing setup';
const TEARDOWN_FAILED = 'Error executing teardown';
/** Each exec.test.fail() call (internal/js/modules/k6/execution). */
const MARKED_FAILED = 'test marked as failed';
/** k6's last line after exec.test.fail() (internal/cmd/run.go): about the run, so the coordinator's. */
const RUN_MARKED_FAILED = 'test run was marked as failed';
const ABORTED = 'test aborted: ';
/**
 * k6 could not bind its REST API (another socket took the port picked for it
 * a moment before): it exits 106 and the agent starts it again on another
 * port (local-k6.ts), so the line is our side effect, not the test's.
 */
const API_SERVER_FAILED = 'Error from API server';
const PORT_TAKEN = 'address already in use';
/** k6's hint on the error that ended its VUs' initialisation (internal/execution/scheduler.go). */
const INIT_ERROR_HINT = /^error while initializing VU #\d+/;
/**
 * exec.test.fail() messages sent to the coordinator, at most: a script that
 * calls it in every iteration must not queue thousands of events ahead of the
 * run's own. Later ones stay in the agent's log.
 */
export const MAX_MARKED_FAILED_EVENTS = 100;

export interface K6LogOptions {
  log: Logger;
  /** The coordinator ordered this agent to stop its k6. */
  stopOrdered: () => boolean;
  /** The agent itself is ending its k6 (released, or its dead-man switch). */
  signalledByUs: () => boolean;
  /** Sends an exec.test.fail() message to the coordinator. */
  onMarkedFailed: (message: string) => void;
  /**
   * Passes a line on to the coordinator's log (a remote agent's, issue 20.3):
   * every line this agent shows but the VU init error, which the coordinator
   * prints itself.
   */
  forward?: (line: string) => void;
}

/**
 * Passes an agent's k6 log on, and reads what the run needs from it: the
 * reason of a test.abort(), which k6 prints only as it exits, a VU's init
 * error, and each exec.test.fail(). Lines the coordinator says for the whole run, and our own
 * side effects (a stop or release we ordered, setup() run through the REST
 * API), are kept to debug: `k6 run` on one machine prints none of them.
 */
export class K6Log {
  readonly #o: K6LogOptions;
  #abortMessage: string | undefined;
  #initError: string | undefined;
  #markedFailedEvents = 0;

  constructor(options: K6LogOptions) {
    this.#o = options;
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
    const initError = entry?.hint !== undefined && INIT_ERROR_HINT.test(entry.hint);
    if (initError) this.#initError ??= `${msg.trimEnd()} (${entry.hint ?? ''})`;
    const why = this.#coordinatorSays(msg, entry);
    if (why) {
      this.#o.log.debug(`[k6] ${line} (${why})`);
      return;
    }
    logK6(this.#o.log, `[k6] ${line}`);
    if (!initError) this.#o.forward?.(line);
  };

  /** Why the coordinator, not this agent, tells the user; undefined when it does not. */
  #coordinatorSays(msg: string, entry: K6LogEntry | undefined): string | undefined {
    if (msg.startsWith(NO_ITERATIONS)) return 'the coordinator judges the whole run';
    if (msg === STOPPED_BY_US && this.#o.stopOrdered()) return 'the coordinator stopped the run';
    if (msg.startsWith(SIGNALLED) && this.#o.signalledByUs()) return 'the agent ended its k6';
    if (msg === API_SERVER_FAILED && entry?.error?.includes(PORT_TAKEN)) {
      return 'its port was taken; the agent starts k6 again on another';
    }
    if (msg === SETUP_FAILED) return 'the coordinator reports what setup() threw';
    if (msg === TEARDOWN_FAILED) return 'the coordinator reports what teardown() threw';
    if (msg === RUN_MARKED_FAILED) return 'the coordinator says it for the whole run';
    if (isMarkedFailed(entry) && this.#markedFailedEvents < MAX_MARKED_FAILED_EVENTS) {
      this.#markedFailedEvents++;
      this.#o.onMarkedFailed(msg);
      return 'sent to the coordinator';
    }
    return undefined;
  }
}

/** k6's own line, not a script's console.error() of the same words. */
function isMarkedFailed(entry: K6LogEntry | undefined): boolean {
  if (entry?.level !== 'error' || entry.source !== undefined) return false;
  const msg = entry.msg ?? '';
  return msg === MARKED_FAILED || msg.startsWith(`${MARKED_FAILED}: `);
}
