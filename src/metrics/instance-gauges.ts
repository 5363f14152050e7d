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
  /** metric → agent → its samples not yet settled. */
  readonly #agents = new Map<string, Map<string, AgentSamples>>();
  /** metric → the sum at tick 1, 2, ... (index 0 is tick 1). */
  readonly #sums = new Map<string, number[]>();
  /** metric → the newest sample's time over all agents. */
  readonly #newest = new Map<string, number>();

  start(run: InstanceGaugeRun): void {
    this.#run ??= run;
  }

  /** Adds an agent's samples, in time order, then settles every tick all agents have passed. */
  add(agentId: string, metric: string, points: readonly (readonly [number, number])[]): void {
    if (this.#run && !this.#run.agentIds.includes(agentId)) return;
    let agents = this.#agents.get(metric);
    if (!agents) {
      agents = new Map();
      this.#agents.set(metric, agents);
    }
    let own = agents.get(agentId);
    if (!own) {
      own = { latest: undefined, queue: [], newestMs: Number.NEGATIVE_INFINITY };
      agents.set(agentId, own);
    }
    for (const [ms, value] of points) {
      // A sample older than one already held (never from one k6's stream) is ignored.
      if (ms < own.newestMs) continue;
      own.queue.push([ms, value]);
      own.newestMs = ms;
    }
    this.#newest.set(metric, Math.max(this.#newest.get(metric) ?? -Infinity, own.newestMs));
    this.#settle(metric, Number.NEGATIVE_INFINITY);
  }

  /**
   * The merged gauge over the run's first `durationMs`: every tick in it, or
   * none. `final`: the run is over, so ticks no agent has passed are settled
   * with each agent's last value.
   */
  sink(metric: string, durationMs: number, final: boolean): Sink | undefined {
    if (final) this.#settle(metric, durationMs);
    const sums = this.#sums.get(metric) ?? [];
    const ticks = Math.min(sums.length, Math.floor(durationMs / TICK_MS));
    if (ticks === 0) return undefined;
    const sink = createSink('gauge');
    for (let i = 0; i < ticks; i++) sink.add(sums[i] ?? 0, i + 1);
    return sink;
  }

  /** Metrics with samples from at least one agent. */
  get metrics(): Iterable<string> {
    return this.#agents.keys();
  }

  /** Settles ticks while every agent has a sample past them, or up to `forceMs` into the run. */
  #settle(metric: string, forceMs: number): void {
    const run = this.#run;
    const agents = this.#agents.get(metric);
    if (!run || !agents) return;
    let sums = this.#sums.get(metric);
    if (!sums) {
      sums = [];
      this.#sums.set(metric, sums);
    }
    const newest = this.#newest.get(metric) ?? Number.NEGATIVE_INFINITY;
    for (;;) {
      const tickMs = (sums.length + 1) * TICK_MS;
      const atMs = tickMs - run.setupMs;
      const passed = run.agentIds.every((id) => (agents.get(id)?.newestMs ?? -Infinity) > atMs);
      if (tickMs > forceMs && !passed && newest <= atMs + LAG_MS) return;
      let sum = 0;
      for (const id of run.agentIds) sum += valueAt(agents.get(id), atMs, metric);
      sums.push(sum);
    }
  }
}

/** An agent's latest value at `atMs`; before its first sample, the first one. */
function valueAt(own: AgentSamples | undefined, atMs: number, metric: string): number {
  if (atMs < 0 && SETUP_VALUES[metric] !== undefined) return SETUP_VALUES[metric];
  if (!own) return 0;
  while (own.queue.length > 0 && (own.queue[0]?.[0] ?? Infinity) <= atMs) {
    own.latest = own.queue.shift()?.[1];
  }
  return own.latest ?? own.queue[0]?.[1] ?? 0;
}
