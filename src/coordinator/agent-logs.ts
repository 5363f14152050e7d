import { LOG_BATCH_MAX_LINES } from '../protocol/messages.js';
import { printableName } from '../runtime/printable.js';
import { type Logger, logK6 } from '../runtime/logger.js';

/** Lines one agent may put in the coordinator's log: a second's batch, refilled at that rate. */
const BURST_LINES = 2 * LOG_BATCH_MAX_LINES;
const LINES_PER_SECOND = LOG_BATCH_MAX_LINES;
/**
 * Lines all agents together may put there (issue 20.6): many agents each
 * within their own rate would still bury the log (and GitHub cuts long ones).
 */
const RUN_BURST_LINES = 4 * LOG_BATCH_MAX_LINES;
const RUN_LINES_PER_SECOND = 2 * LOG_BATCH_MAX_LINES;
/** Lines left out are said at most this often per agent, and once more at the end. */
const DROPPED_NOTE_INTERVAL_MS = 10_000;

interface Bucket {
  tokens: number;
  refilledMs: number;
}

/** A token bucket refilled at `perSecond` up to `burst`; returns how many of `wanted` it grants. */
function take(bucket: Bucket, wanted: number, now: number, burst: number, perSecond: number) {
  bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.refilledMs) / 1_000) * perSecond);
  bucket.refilledMs = now;
  const granted = Math.max(0, Math.min(wanted, Math.floor(bucket.tokens)));
  bucket.tokens -= granted;
  return granted;
}

interface AgentLogState extends Bucket {
  /** Left out (by the agent or here) and not said yet. */
  dropped: number;
  notedMs: number;
}

/**
 * Puts what remote agents' k6 printed into the coordinator's log, prefixed
 * by the agent (issue 20.3). The lines are the agent's word, so untrusted:
 * each is made printable on one line (no ANSI sequences, no newline that
 * could start a `::workflow-command::` in a GitHub Actions log) and printed
 * at info level, never as an annotation; an agent that sends more than an
 * honest one can (one batch a second) has the rest counted, not printed.
 */
export class AgentLogs {
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #agents = new Map<string, AgentLogState>();
  readonly #run: Bucket;

  constructor(log: Logger, now: () => number) {
    this.#log = log;
    this.#now = now;
    this.#run = { tokens: RUN_BURST_LINES, refilledMs: now() };
  }

  /** One batch from the agent labelled `label` ("agent 2 (eu-runner)"). */
  receive(label: string, lines: readonly string[], dropped: number): void {
    const now = this.#now();
    const state = this.#state(label, now);
    const ownShare = take(state, lines.length, now, BURST_LINES, LINES_PER_SECOND);
    const shown = take(this.#run, ownShare, now, RUN_BURST_LINES, RUN_LINES_PER_SECOND);
    // What the run's budget refused stays the agent's to use.
    state.tokens += ownShare - shown;
    for (const line of lines.slice(0, shown)) logK6(this.#log, `[${label}] ${printableName(line)}`);
    state.dropped += dropped + lines.length - shown;
    if (state.dropped > 0 && now - state.notedMs >= DROPPED_NOTE_INTERVAL_MS) {
      this.#noteDropped(label, state, now);
    }
  }

  /** Says the lines left out since the last note (the run is over). */
  finish(): void {
    const now = this.#now();
    for (const [label, state] of this.#agents) {
      if (state.dropped > 0) this.#noteDropped(label, state, now);
    }
  }

  #state(label: string, now: number): AgentLogState {
    let state = this.#agents.get(label);
    if (!state) {
      state = { tokens: BURST_LINES, refilledMs: now, dropped: 0, notedMs: -Infinity };
      this.#agents.set(label, state);
    }
    return state;
  }

  #noteDropped(label: string, state: AgentLogState, now: number): void {
    logK6(
      this.#log,
      `[${label}] … ${state.dropped.toLocaleString('en-US')} more k6 log lines not shown here ` +
        `(at most ${String(LINES_PER_SECOND)} a second per agent, ${String(RUN_LINES_PER_SECOND)} ` +
        "for all); that agent's own log has them",
    );
    state.dropped = 0;
    state.notedMs = now;
  }
}
