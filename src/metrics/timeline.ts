import { Histogram, wirePercentile, type HistogramWire } from './histogram.js';
import type { MetricDelta } from '../protocol/messages.js';

/** One interval of the run: what happened in it, merged or for one agent. */
export interface TimelinePoint {
  /** Seconds from the start instant to the end of the interval. */
  t: number;
  /** http_reqs per second over the interval. */
  rps: number;
  /** Active VUs at the end of the interval (k6's `vus` gauge; summed over agents). */
  vus: number;
  /** p(95) of http_req_duration in the interval (ms); null without requests. */
  p95: number | null;
  /** Share of http_req_failed samples that were failures; null without requests. */
  errorRate: number | null;
  /** Iterations completed in the interval. */
  iterations: number;
}

/** The run over time, merged over agents and per agent (by agent id). */
export interface Timeline {
  intervalS: number;
  merged: TimelinePoint[];
  agents: Record<string, TimelinePoint[]>;
}

/** The load of the last few seconds, for a progress line. */
export interface RecentLoad {
  rps: number;
  p95: number | null;
  errorRate: number | null;
  /** Sum of every agent's latest `vus` value. */
  vus: number;
}

interface Bucket {
  requests: number;
  iterations: number;
  failed: number;
  checked: number;
  /** The interval's http_req_duration samples (merged buckets only). */
  durations?: Histogram;
  /** Agent buckets: p(95) of the agent's own interval, request-weighted after downsampling. */
  p95?: number;
  /** The `vus` gauge's last value in the interval, when a delta carried one. */
  vus?: number;
}

const emptyBucket = (): Bucket => ({ requests: 0, iterations: 0, failed: 0, checked: 0 });

/** What one delta contributes to an interval. */
interface Contribution {
  requests: number;
  iterations: number;
  failed: number;
  checked: number;
  durations?: HistogramWire;
  vus?: number;
}

function contributionOf(delta: MetricDelta): Contribution {
  const c: Contribution = { requests: 0, iterations: 0, failed: 0, checked: 0 };
  for (const series of delta.series) {
    if (series.kind !== 'total') continue;
    const sink = series.sink;
    switch (series.metric) {
      case 'http_reqs':
        if (sink.t === 'counter') c.requests = sink.sum;
        break;
      case 'iterations':
        if (sink.t === 'counter') c.iterations = sink.sum;
        break;
      case 'http_req_failed':
        if (sink.t === 'rate') [c.failed, c.checked] = [sink.trues, sink.total];
        break;
      case 'http_req_duration':
        if (sink.t === 'trend') c.durations = sink.h;
        break;
      case 'vus':
        if (sink.t === 'gauge' && sink.empty !== true) c.vus = sink.value;
        break;
      default:
    }
  }
  return c;
}

/**
 * Per-interval time series of a run (issue: reports over time), fed with the
 * agents' deltas as they arrive: a delta covers the agent's last interval, so
 * it is filed under the interval of its arrival. Intervals start at `bucketMs`
 * and double (neighbours merged) whenever there would be more than
 * `maxPoints`, so a long run keeps a bounded series. Merged intervals keep a
 * histogram of http_req_duration (exact p(95) within the histogram's error);
 * per-agent intervals keep only the agent's own p(95) (read off its delta's
 * buckets, see `wirePercentile`), and a downsampled
 * interval's p(95) is the request-weighted mean of its halves (an estimate,
 * as merging percentiles cannot be exact).
 */
export class TimelineRecorder {
  #bucketMs: number;
  readonly #maxPoints: number;
  #startMs: number | undefined;
  #merged: Bucket[] = [];
  readonly #agents = new Map<string, Bucket[]>();
  /** Each agent's latest `vus` value. */
  readonly #vus = new Map<string, number>();

  constructor(options: { bucketMs?: number; maxPoints?: number } = {}) {
    this.#bucketMs = options.bucketMs ?? 1_000;
    this.#maxPoints = Math.max(2, options.maxPoints ?? 600);
  }

  /** The common start instant (coordinator clock, epoch ms). */
  start(atMs: number): void {
    this.#startMs ??= atMs;
  }

  get started(): boolean {
    return this.#startMs !== undefined;
  }

  /** Files one agent's delta under the interval `atMs` falls in. */
  record(agentId: string, delta: MetricDelta, atMs: number): void {
    if (this.#startMs === undefined) return;
    const c = contributionOf(delta);
    let index = Math.max(0, Math.floor((atMs - this.#startMs) / this.#bucketMs));
    while (index >= this.#maxPoints) {
      this.#downsample();
      index = Math.floor(index / 2);
    }
    const merged = bucketAt(this.#merged, index);
    add(merged, c);
    if (c.durations && c.durations.count > 0) {
      (merged.durations ??= new Histogram()).mergeWire(c.durations);
    }
    let agentBuckets = this.#agents.get(agentId);
    if (!agentBuckets) this.#agents.set(agentId, (agentBuckets = []));
    const own = bucketAt(agentBuckets, index);
    const before = own.requests;
    add(own, c);
    if (c.durations && c.durations.count > 0) {
      const p95 = wirePercentile(c.durations, 0.95);
      own.p95 = weighted(own.p95, before, p95, c.requests || c.durations.count);
    }
    if (c.vus !== undefined) {
      own.vus = c.vus;
      this.#vus.set(agentId, c.vus);
    }
  }

  /**
   * The last `windowMs` of completed intervals before `nowMs`, merged: what a
   * progress line shows. Undefined before the start.
   */
  recent(windowMs: number, nowMs: number): RecentLoad | undefined {
    if (this.#startMs === undefined) return undefined;
    const current = Math.floor((nowMs - this.#startMs) / this.#bucketMs);
    const count = Math.max(1, Math.round(windowMs / this.#bucketMs));
    const from = Math.max(0, current - count);
    const window = emptyBucket();
    const durations = new Histogram();
    for (let i = from; i < current; i++) {
      const b = this.#merged[i];
      if (!b) continue;
      add(window, {
        requests: b.requests,
        iterations: b.iterations,
        failed: b.failed,
        checked: b.checked,
      });
      if (b.durations) durations.merge(b.durations);
    }
    const seconds = (Math.max(1, current - from) * this.#bucketMs) / 1000;
    return {
      rps: window.requests / seconds,
      p95: durations.isEmpty() ? null : durations.percentile(0.95),
      errorRate: window.checked > 0 ? window.failed / window.checked : null,
      vus: [...this.#vus.values()].reduce((a, b) => a + b, 0),
    };
  }

  /** The series so far; an interval without data reads as zero load. */
  snapshot(): Timeline {
    const length = Math.max(
      this.#merged.length,
      ...[...this.#agents.values()].map((b) => b.length),
    );
    const intervalS = this.#bucketMs / 1000;
    const agents: Record<string, TimelinePoint[]> = {};
    const vusCarried: number[][] = [];
    for (const [id, buckets] of this.#agents) {
      let vus = 0;
      const points: TimelinePoint[] = [];
      const carried: number[] = [];
      for (let i = 0; i < length; i++) {
        const b = buckets[i] ?? emptyBucket();
        vus = b.vus ?? vus;
        carried.push(vus);
        points.push(point(b, i, intervalS, vus, b.p95 ?? null));
      }
      vusCarried.push(carried);
      agents[id] = points;
    }
    const merged = Array.from({ length }, (_, i) => {
      const b = this.#merged[i] ?? emptyBucket();
      const vus = vusCarried.reduce((sum, carried) => sum + (carried[i] ?? 0), 0);
      const p95 = b.durations && !b.durations.isEmpty() ? b.durations.percentile(0.95) : null;
      return point(b, i, intervalS, vus, p95);
    });
    return { intervalS, merged, agents };
  }

  #downsample(): void {
    this.#bucketMs *= 2;
    this.#merged = pairUp(this.#merged);
    for (const [id, buckets] of this.#agents) this.#agents.set(id, pairUp(buckets));
  }
}

function bucketAt(buckets: Bucket[], index: number): Bucket {
  while (buckets.length <= index) buckets.push(emptyBucket());
  return buckets[index] as Bucket;
}

function add(b: Bucket, c: Contribution): void {
  b.requests += c.requests;
  b.iterations += c.iterations;
  b.failed += c.failed;
  b.checked += c.checked;
  if (c.vus !== undefined) b.vus = c.vus;
}

function weighted(a: number | undefined, wa: number, b: number, wb: number): number {
  if (a === undefined || wa + wb === 0) return b;
  return (a * wa + b * wb) / (wa + wb);
}

/** Neighbouring intervals merged: [0,1] → 0, [2,3] → 1, … */
function pairUp(buckets: readonly Bucket[]): Bucket[] {
  const out: Bucket[] = [];
  for (let i = 0; i < buckets.length; i += 2) {
    const a = buckets[i] ?? emptyBucket();
    const b = buckets[i + 1];
    if (!b) {
      out.push(a);
      continue;
    }
    const m: Bucket = {
      requests: a.requests + b.requests,
      iterations: a.iterations + b.iterations,
      failed: a.failed + b.failed,
      checked: a.checked + b.checked,
      vus: b.vus ?? a.vus,
    };
    if (a.durations || b.durations) {
      m.durations = new Histogram();
      if (a.durations) m.durations.merge(a.durations);
      if (b.durations) m.durations.merge(b.durations);
    }
    if (a.p95 !== undefined || b.p95 !== undefined) {
      m.p95 =
        a.p95 === undefined
          ? b.p95
          : b.p95 === undefined
            ? a.p95
            : weighted(a.p95, a.requests, b.p95, b.requests);
    }
    out.push(m);
  }
  return out;
}

function point(b: Bucket, i: number, intervalS: number, vus: number, p95: number | null) {
  return {
    t: (i + 1) * intervalS,
    rps: b.requests / intervalS,
    vus,
    p95,
    errorRate: b.checked > 0 ? b.failed / b.checked : null,
    iterations: b.iterations,
  } satisfies TimelinePoint;
}
