import type { TickPoint } from './delta.js';
import { createSink } from './sinks.js';
import type { Sink } from './types.js';

/** What the merge needs to know about the run when it starts. */
export interface InstanceGaugeRun {
  /** The agents starting the run: each tick sums one value of each. */
  readonly agentIds: readonly string[];
  /** setup() time the run counts before the start instant. */
  readonly setupMs: number;
}

/** One agent's samples of one gauge not yet passed by a settled tick. */
interface AgentSamples {
  /** Its value at the last settled tick (or its latest sample before it). */
  latest: number | undefined;
  /** Samples after the last settled tick, oldest first: [ms since the start instant, value]. */
  queue: [number, number][];
  /** The newest sample's time. */
  newestMs: number;
}

/** k6 samples vus/vus_max once a second (execution.Scheduler.emitVUsAndVUsMax). */
const TICK_MS = 1_000;
/**
 * How far before each second of the run one k6 samples. Its ticker starts
 * before it initializes the VUs (Scheduler.Init), so its ticks fall that long
 * before each second of the run: never on the instant an arrival-rate
 * iteration or a ramp step is due (both fall on the run's seconds), so a tick
 * does not race them. The agents sample this long before each second too.
 */
export const TICK_LEAD_MS = 10;

/**
 * Tick `n`, n seconds into the test run (which begins with setup()), in ms
 * after the start instant. Whole ms, so an agent's sample, reported at the
 * nominal instant, is at the tick exactly.
 */
export function tickAtMs(n: number, setupMs: number): number {
  return n * TICK_MS - Math.round(setupMs) - TICK_LEAD_MS;
}

/**
 * When the agents sample their k6 (issue 16.11): every second from this many
 * ms after the start instant, at the ticks of one k6 of the whole run.
 */
export function tickPhaseMs(setupMs: number): number {
  return ((tickAtMs(0, setupMs) % TICK_MS) + TICK_MS) % TICK_MS;
}

/** Ticks one k6 takes in a test run of `durationMs` (each one before its end). */
function ticksIn(durationMs: number): number {
  return Math.max(0, Math.floor((durationMs + TICK_LEAD_MS) / TICK_MS));
}
/** A tick waits this long past it for an agent that sends nothing (lost, or retrying). */
const LAG_MS = 60_000;
/** Values while setup() runs, before any VU of the run is active. */
const SETUP_VALUES: Readonly<Record<string, number>> = { vus: 0 };

/**
 * The `vus` and `vus_max` gauges of one big k6 (issue 16.11). Every k6 samples
 * its own once a second from its init on, so a plain merge of the agents'
 * gauges mixes seconds (a peak of 203 of 300 VUs) and keeps the zeros of a
 * paused k6 (`min=0`). One k6 would have sampled the whole test's count once a
 * second of its run, setup() included; so this takes, once a second of the
 * run's duration, the sum of every agent's latest value at that instant (time
 * measured from the start instant on each agent's own clock), and the gauge is
 * those sums: the last is its value, and a run shorter than a second has none,
 * as in k6.
 */
export class InstanceGauges {
  #run: InstanceGaugeRun | undefined;
  readonly #merges = new Map<string, GaugeMerge>();

  start(run: InstanceGaugeRun): void {
    this.#run ??= run;
  }

  /** Adds an agent's samples, in time order, then settles every tick all agents have passed. */
  add(agentId: string, metric: string, points: readonly TickPoint[]): void {
    // Agents send samples from the start instant on: none can come before start().
    if (!this.#run) return;
    let merge = this.#merges.get(metric);
    if (!merge) {
      merge = new GaugeMerge(metric, this.#run);
      this.#merges.set(metric, merge);
    }
    merge.add(agentId, points);
  }

  /**
   * The merged gauge over the run's first `durationMs`: every tick in it, or
   * none. `final`: the run is over, so ticks no agent has passed yet count
   * each agent's latest value, until its later samples arrive.
   */
  sink(metric: string, durationMs: number, final: boolean): Sink | undefined {
    const merge = this.#merges.get(metric);
    if (!merge) return undefined;
    // The run's end is known to a poll gap (±1 %): a tick at which some agent's k6 still
    // ran is in the run although the end may have been measured just before it.
    const count = final ? Math.max(ticksIn(durationMs), merge.sampledTicks) : ticksIn(durationMs);
    const sums = final ? merge.sumsUpTo(count) : merge.sums;
    const ticks = Math.min(sums.length, count);
    if (ticks === 0) return undefined;
    const sink = createSink('gauge');
    for (let i = 0; i < ticks; i++) sink.add(sums[i] ?? 0, i + 1);
    return sink;
  }

  /** Metrics with samples from at least one agent. */
  get metrics(): Iterable<string> {
    return this.#merges.keys();
  }
}

/** One gauge's merge: each agent's pending samples and the settled sums, tick by tick. */
class GaugeMerge {
  /** The sum at tick 1, 2, ... (index 0 is tick 1). */
  readonly sums: number[] = [];
  readonly #metric: string;
  readonly #setupMs: number;
  readonly #agents = new Map<string, AgentSamples>();
  #newestMs = Number.NEGATIVE_INFINITY;
  /** The newest sample any agent took while its k6 still ran. */
  #newestRunningMs = Number.NEGATIVE_INFINITY;
  /** Agents with no sample past the next tick yet: it settles when none is left. */
  #behind: number;

  constructor(metric: string, run: InstanceGaugeRun) {
    this.#metric = metric;
    this.#setupMs = run.setupMs;
    for (const id of run.agentIds) {
      this.#agents.set(id, { latest: undefined, queue: [], newestMs: Number.NEGATIVE_INFINITY });
    }
    this.#behind = this.#agents.size;
  }

  add(agentId: string, points: readonly TickPoint[]): void {
    const own = this.#agents.get(agentId);
    if (!own) return;
    const nextAtMs = this.#atMs(this.sums.length + 1);
    const wasBehind = own.newestMs <= nextAtMs;
    for (const [ms, value, over] of points) {
      // A sample older than one already held (never from one k6's stream) is ignored.
      if (ms < own.newestMs) continue;
      own.queue.push([ms, value]);
      own.newestMs = ms;
      if (over === undefined) this.#newestRunningMs = Math.max(this.#newestRunningMs, ms);
    }
    if (wasBehind && own.newestMs > nextAtMs) this.#behind--;
    this.#newestMs = Math.max(this.#newestMs, own.newestMs);
    this.settle();
  }

  /**
   * The settled sums, then the ticks up to tick `ticks` no agent has passed
   * yet, with each agent's latest value. Those are not kept: the run's end
   * is known before the agents' last deltas arrive (a second's worth of
   * samples, the last tick among them), and the summary is taken once they have.
   */
  sumsUpTo(ticks: number): number[] {
    const sums = [...this.sums];
    for (let tick = sums.length + 1; tick <= ticks; tick++) {
      const atMs = this.#atMs(tick);
      let sum = 0;
      for (const own of this.#agents.values()) sum += peekAt(own, atMs, this.#metric);
      sums.push(sum);
    }
    return sums;
  }

  /** Ticks up to the newest at which an agent's k6 still ran (so one k6 of the run ran too). */
  get sampledTicks(): number {
    if (this.#newestRunningMs === Number.NEGATIVE_INFINITY) return 0;
    const ms = this.#newestRunningMs + Math.round(this.#setupMs) + TICK_LEAD_MS;
    return Math.max(0, Math.floor(ms / TICK_MS));
  }

  /** Settles ticks while every agent has a sample past them (or an agent is a minute silent). */
  settle(): void {
    for (;;) {
      const tick = this.sums.length + 1;
      const atMs = this.#atMs(tick);
      const waiting = this.#behind > 0 && this.#newestMs <= atMs + LAG_MS;
      if (waiting) return;
      let sum = 0;
      for (const own of this.#agents.values()) sum += valueAt(own, atMs, this.#metric);
      this.sums.push(sum);
      const nextAtMs = this.#atMs(tick + 1);
      this.#behind = 0;
      for (const own of this.#agents.values()) if (own.newestMs <= nextAtMs) this.#behind++;
    }
  }

  #atMs(n: number): number {
    return tickAtMs(n, this.#setupMs);
  }
}

/** valueAt without taking anything from the queue. */
function peekAt(own: AgentSamples, atMs: number, metric: string): number {
  if (atMs < 0 && SETUP_VALUES[metric] !== undefined) return SETUP_VALUES[metric];
  let latest = own.latest;
  for (const [ms, value] of own.queue) {
    if (ms > atMs) break;
    latest = value;
  }
  return latest ?? own.queue[0]?.[1] ?? 0;
}

/** An agent's latest value at `atMs`; before its first sample, the first one. */
function valueAt(own: AgentSamples, atMs: number, metric: string): number {
  if (atMs < 0 && SETUP_VALUES[metric] !== undefined) return SETUP_VALUES[metric];
  while (own.queue.length > 0 && (own.queue[0]?.[0] ?? Infinity) <= atMs) {
    own.latest = own.queue.shift()?.[1];
  }
  return own.latest ?? own.queue[0]?.[1] ?? 0;
}
