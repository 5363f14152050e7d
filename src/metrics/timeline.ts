import { Histogram, wirePercentile, type HistogramWire } from './histogram.js';
import type { MetricDelta } from '../protocol/messages.js';

/** One interval of the run: what happened in it, merged or for one agent. */
export interface TimelinePoint {
  /** Seconds from the start instant to the end of the interval (of the run, for the last). */
  t: number;
  /**
   * http_reqs per second over the interval: each delta's requests spread
   * evenly over the time it covers (since the agent's previous delta), so an
   * interval that got two deltas, or none, still reads the agent's rate.
   */
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
  /** Requests made in the interval, estimated from the deltas' time spans. */
  spread: number;
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

const emptyBucket = (): Bucket => ({
  requests: 0,
  spread: 0,
  iterations: 0,
  failed: 0,
  checked: 0,
});

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
  /** When each agent's latest delta arrived: where its next delta's time span starts. */
  readonly #lastAt = new Map<string, number>();
  /** The latest arrival: the end of the series. */
  #endMs = -Infinity;

  /** The longest span one delta's requests are spread over. */
  readonly #maxSpanMs: number;

  constructor(options: { bucketMs?: number; maxPoints?: number; maxSpanMs?: number } = {}) {
    this.#bucketMs = options.bucketMs ?? 1_000;
    this.#maxSpanMs = options.maxSpanMs ?? 2_000;
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
    this.#spread(agentId, agentBuckets, c.requests, atMs);
    if (c.durations && c.durations.count > 0) {
      const p95 = wirePercentile(c.durations, 0.95);
      own.p95 = weighted(own.p95, before, p95, c.requests || c.durations.count);
    }
    // add() kept the interval's vus; this is the agent's latest for progress lines.
    if (c.vus !== undefined) this.#vus.set(agentId, c.vus);
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

  /**
   * The series so far; an interval without data reads as zero load. The last
   * interval ends at the latest arrival; shorter than half an interval, it
   * joins the one before (a sliver's rate is noise).
   */
  snapshot(): Timeline {
    const length = Math.max(
      this.#merged.length,
      ...[...this.#agents.values()].map((b) => b.length),
    );
    const intervalS = this.#bucketMs / 1000;
    const endS = (this.#endMs - (this.#startMs ?? 0)) / 1000;
    const sliver = endS - (length - 1) * intervalS;
    const fold = length >= 2 && sliver >= 0 && sliver < intervalS / 2;
    const view = (buckets: readonly Bucket[]): Bucket[] => {
      const out = Array.from({ length }, (_, i) => buckets[i] ?? emptyBucket());
      if (fold) {
        const last = out.pop() as Bucket;
        out.push(mergeBuckets(out.pop() as Bucket, last));
      }
      return out;
    };
    const n = fold ? length - 1 : length;
    const elapsed = (i: number) =>
      i === n - 1 && endS > i * intervalS && endS < (i + 1.5) * intervalS
        ? endS - i * intervalS
        : intervalS;
    const agents: Record<string, TimelinePoint[]> = {};
    const vusByAgent: number[][] = [];
    for (const [id, all] of this.#agents) {
      const buckets = view(all);
      const vus = vusAtEnds(buckets);
      vusByAgent.push(vus);
      agents[id] = buckets.map((b, i) =>
        point(b, i, intervalS, elapsed(i), vus[i] ?? 0, b.p95 ?? null),
      );
    }
    const merged = view(this.#merged).map((b, i) => {
      const vus = vusByAgent.reduce((sum, own) => sum + (own[i] ?? 0), 0);
      const p95 = b.durations && !b.durations.isEmpty() ? b.durations.percentile(0.95) : null;
      return point(b, i, intervalS, elapsed(i), vus, p95);
    });
    return { intervalS, merged, agents };
  }

  /**
   * Spreads a delta's requests evenly over the span it covers: from the
   * agent's previous delta (or the start) to its arrival, at most the last
   * `maxSpanMs` (agents send nothing while idle: a delta after a quiet spell
   * holds only its last interval's requests).
   */
  #spread(agentId: string, agentBuckets: Bucket[], requests: number, atMs: number): void {
    const start = this.#startMs ?? atMs;
    const previous = Math.max(start, this.#lastAt.get(agentId) ?? start);
    const to = Math.max(previous, atMs);
    const from = Math.max(previous, to - this.#maxSpanMs);
    this.#lastAt.set(agentId, to);
    this.#endMs = Math.max(this.#endMs, to);
    if (requests === 0) return;
    const first = Math.floor((from - start) / this.#bucketMs);
    const last = Math.max(first, Math.ceil((to - start) / this.#bucketMs) - 1);
    for (let i = first; i <= last; i++) {
      const lo = Math.max(from, start + i * this.#bucketMs);
      const hi = Math.min(to, start + (i + 1) * this.#bucketMs);
      const share = to > from ? (requests * (hi - lo)) / (to - from) : requests;
      bucketAt(agentBuckets, i).spread += share;
      bucketAt(this.#merged, i).spread += share;
    }
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
    out.push(mergeBuckets(a, b));
  }
  return out;
}

/** Two neighbouring intervals as one. */
function mergeBuckets(a: Bucket, b: Bucket): Bucket {
  const m: Bucket = {
    requests: a.requests + b.requests,
    spread: a.spread + b.spread,
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
  return m;
}

/**
 * Each interval's VUs at its end, carried over intervals without a sample.
 * k6 samples `vus` once a second and the sample reaches the coordinator in
 * the next delta, so an interval's end reads the next interval's sample;
 * before the first sample, the first one.
 */
function vusAtEnds(buckets: readonly Bucket[]): number[] {
  let vus = buckets.find((b) => b.vus !== undefined)?.vus ?? 0;
  const carried = buckets.map((b) => (vus = b.vus ?? vus));
  return carried.map((v, i) => carried[i + 1] ?? v);
}

function point(
  b: Bucket,
  i: number,
  intervalS: number,
  elapsedS: number,
  vus: number,
  p95: number | null,
) {
  return {
    t: i * intervalS + elapsedS,
    rps: b.spread / elapsedS,
    vus,
    p95,
    errorRate: b.checked > 0 ? b.failed / b.checked : null,
    iterations: b.iterations,
  } satisfies TimelinePoint;
}
