/**
 * k6's test run duration for a run spread over machines (`testRunDurationMs`,
 * every counter's `rate`, `delayAbortEval`).
 *
 * One k6 counts from just before setup() to just after teardown(), with the
 * executors in between and nothing else (execution.Scheduler.Run: MarkStarted,
 * setup, executors, teardown, MarkEnded). A distributed run has gaps one k6 has
 * not: handing the setup data to every agent, the lead before the start
 * instant, learning that the last agent finished, and each round trip to the
 * agent doing setup() or teardown(). The clock leaves them out:
 *
 *     duration = setup() + (first k6's start → last k6's end) + teardown()
 *
 * Each part is measured where it happens, so no clock skew enters: setup() and
 * teardown() on the agent that ran them; when each agent's k6 started and
 * ended, on its own clock, after the agreed start instant (the one thing
 * agents agree on, so a start late by the unpause request is not counted). What an agent reports only
 * narrows what the coordinator saw itself (the time from the order to the
 * report): an agent can make the run no longer than a slow report would.
 */
export class RunClock {
  #setupBegan: number | undefined;
  #setupMs: number | undefined;
  #startAt: number | undefined;
  /** The earliest start and the latest end agents reported so far (ms after the start instant). */
  #firstStartMs: number | undefined;
  #lastEndMs: number | undefined;
  #runOver = false;
  #teardownBegan: number | undefined;
  #teardownMs: number | undefined;
  #endedAt: number | undefined;

  /** The run began (k6's MarkStarted): setup() is ordered, or would be. */
  setupBegan(nowMs: number): void {
    this.#setupBegan ??= nowMs;
  }

  setupEnded(nowMs: number, reportedMs?: number): void {
    if (this.#setupBegan === undefined || this.#setupMs !== undefined) return;
    this.#setupMs = bounded(reportedMs, nowMs - this.#setupBegan);
  }

  /** The agreed instant every agent unpauses its k6 at (coordinator clock). */
  started(atMs: number): void {
    if (this.#setupBegan === undefined) return;
    // Without setup(), or with its end not reported, the time since the run began.
    this.#setupMs ??= 0;
    this.#startAt ??= atMs;
  }

  /**
   * One agent's k6 ran from `startMs` to `runMs` after the start instant (its
   * own clock), or, unreported, until the coordinator heard of its end.
   */
  agentFinished(nowMs: number, reported: { startMs?: number; runMs?: number } = {}): void {
    if (this.#startAt === undefined) return;
    const endMs = bounded(reported.runMs, nowMs - this.#startAt);
    const startMs = Math.min(endMs, Math.max(0, reported.startMs ?? 0));
    this.#lastEndMs = Math.max(this.#lastEndMs ?? 0, endMs);
    this.#firstStartMs = Math.min(this.#firstStartMs ?? startMs, startMs);
  }

  /** Every agent still in the run finished: nothing more runs until teardown(). */
  runEnded(nowMs: number): void {
    if (this.#startAt === undefined || this.#runOver) return;
    // No agent left to report its end (all lost): the coordinator's own view.
    this.#lastEndMs ??= Math.max(0, nowMs - this.#startAt);
    this.#runOver = true;
  }

  teardownBegan(nowMs: number): void {
    this.#teardownBegan ??= nowMs;
  }

  teardownEnded(nowMs: number, reportedMs?: number): void {
    if (this.#teardownBegan === undefined || this.#teardownMs !== undefined) return;
    this.#teardownMs = bounded(reportedMs, nowMs - this.#teardownBegan);
  }

  /** The run is over (agents released); the duration stops growing. */
  ended(nowMs: number): void {
    this.#endedAt ??= nowMs;
  }

  /** The run began (setup() was ordered, or would have been). */
  get began(): boolean {
    return this.#setupBegan !== undefined;
  }

  /** The run's start instant, once announced. */
  get startAt(): number | undefined {
    return this.#startAt;
  }

  /** Setup time counted before the start instant (0 without setup()). */
  get setupMs(): number {
    return this.#setupMs ?? 0;
  }

  /** From the first k6's start to the last one's end, once every agent finished. */
  get runMs(): number | undefined {
    if (!this.#runOver || this.#lastEndMs === undefined) return undefined;
    return this.#lastEndMs - (this.#firstStartMs ?? 0);
  }

  /** The duration's parts, for the debug log. */
  describe(nowMs: number): string {
    const ms = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)} ms`);
    return (
      `test run ${ms(this.durationMs(nowMs))}: setup() ${ms(this.#setupMs)}, ` +
      `run ${ms(this.runMs)}, teardown() ${ms(this.#teardownMs)}`
    );
  }

  /** The test run duration at `nowMs`, as one k6 would report it then. */
  durationMs(nowMs: number): number {
    if (this.#setupBegan === undefined) return 0;
    const now = Math.min(nowMs, this.#endedAt ?? nowMs);
    if (this.#startAt === undefined) return this.#setupMs ?? now - this.#setupBegan;
    const runMs = this.runMs ?? Math.max(0, now - this.#startAt);
    return this.setupMs + runMs + this.#teardownPart(now);
  }

  #teardownPart(now: number): number {
    if (this.#teardownMs !== undefined) return this.#teardownMs;
    return this.#teardownBegan === undefined ? 0 : Math.max(0, now - this.#teardownBegan);
  }
}

/** An agent's own measure, never longer than what the coordinator saw. */
function bounded(reportedMs: number | undefined, observedMs: number): number {
  const observed = Math.max(0, observedMs);
  return reportedMs === undefined ? observed : Math.min(Math.max(0, reportedMs), observed);
}
