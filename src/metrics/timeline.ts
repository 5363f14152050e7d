import type { RunProgress } from './key-figures.js';
import { Histogram, wirePercentile, type HistogramWire } from './histogram.js';
import {
  TIMELINE_INTERVAL_MS,
  totalTrend,
  type IntervalContribution,
  type MetricDelta,
} from './delta.js';

/** One interval of the run: what happened in it, merged or for one agent. */
export interface TimelinePoint {
  /** Seconds from the start instant to the end of the interval (of the run, for the last). */
  t: number;
  /** http_reqs per second over the interval: the requests k6 stamped in it. */
  rps: number;
  /** Active VUs at the end of the interval (k6's `vus` gauge; summed over agents). */
  vus: number;
  /** p(95) of http_req_duration in the interval (ms); null without requests. */
  p95: number | null;
  /** Share of http_req_failed samples that were failures; null without requests. */
  errorRate: number | null;
  /** Iterations completed in the interval. */
  iterations: number;
  /**
   * Merged only (issue 20.9): http_req_duration's and iteration_duration's
   * avg, p(90), p(95) and p(99) in the interval (ms), absent without samples;
   * data received and sent per second (bytes), absent when none.
   */
  latency?: Bands;
  iterationDuration?: Bands;
  received?: number;
  sent?: number;
}

/** A trend's usual figures over one interval, as k6's summary shows them (ms). */
export interface Bands {
  avg: number;
  p90: number;
  p95: number;
  p99: number;
}

/** The run over time, merged over agents and per agent (by agent id). */
export interface Timeline {
  intervalS: number;
  merged: TimelinePoint[];
  agents: Record<string, TimelinePoint[]>;
}

interface Bucket {
  requests: number;
  iterations: number;
  failed: number;
  checked: number;
  /** The interval's http_req_duration samples (merged buckets only). */
  durations?: Histogram;
  /** The interval's iteration_duration samples (merged buckets only). */
  iterationDurations?: Histogram;
  received?: number;
  sent?: number;
  /** Agent buckets: p(95) of the agent's own interval, request-weighted after downsampling. */
  p95?: number;
  /** The `vus` gauge's last value in the interval, when a delta carried one. */
  vus?: number;
}

const emptyBucket = (): Bucket => ({ requests: 0, iterations: 0, failed: 0, checked: 0 });

/**
 * Per-interval time series of a run (issue 8), filed by the time k6 gave
 * each sample (issue 18): every agent's delta says what its k6 stamped in
 * which interval since the start instant (IntervalContribution), so an
 * interval holds exactly its samples, whenever they arrive. Intervals start
 * at `bucketMs` and double (neighbours merged) whenever there would be more
 * than `maxPoints`, so a long run keeps a bounded series. Merged intervals
 * keep a histogram of http_req_duration (exact p(95) within the histogram's
 * error); per-agent intervals keep only the agent's own p(95) (read off its
 * interval's buckets, see `wirePercentile`), and a downsampled interval's
 * p(95) is the request-weighted mean of its halves (an estimate, as merging
 * percentiles cannot be exact).
 */
export class TimelineRecorder {
  /** The agents' interval: contributions' `i` count these. */
  readonly #baseMs: number;
  #bucketMs: number;
  readonly #maxPoints: number;
  /** How far behind the clock intervals are complete (the transport's delay). */
  readonly #lagMs: number;
  #startMs: number | undefined;
  #merged: Bucket[] = [];
  readonly #agents = new Map<string, Bucket[]>();
  /** Each agent's latest `vus` value, and the interval it is of. */
  readonly #vus = new Map<string, { i: number; vus: number }>();

  constructor(options: { bucketMs?: number; maxPoints?: number; lagMs?: number } = {}) {
    this.#baseMs = options.bucketMs ?? TIMELINE_INTERVAL_MS;
    this.#bucketMs = this.#baseMs;
    this.#maxPoints = Math.max(2, options.maxPoints ?? 600);
    this.#lagMs = options.lagMs ?? 0;
  }

  /** The common start instant (coordinator clock, epoch ms). */
  start(atMs: number): void {
    this.#startMs ??= atMs;
  }

  get started(): boolean {
    return this.#startMs !== undefined;
  }

  /** The latest interval a contribution may name at `nowMs`, with `skewMs` of clock leeway. */
  latestIndex(nowMs: number, skewMs: number): number {
    if (this.#startMs === undefined) return 0;
    return Math.max(0, Math.floor((nowMs - this.#startMs + skewMs) / this.#baseMs));
  }

  /** Files one agent's intervals (validated first: see `timelineProblem`). */
  record(agentId: string, delta: MetricDelta): void {
    for (const c of resolvedIntervals(delta)) {
      let index = Math.floor((c.i * this.#baseMs) / this.#bucketMs);
      while (index >= this.#maxPoints) {
        this.#downsample();
        index = Math.floor(index / 2);
      }
      const merged = bucketAt(this.#merged, index);
      add(merged, c);
      if (c.durations && c.durations.count > 0) {
        (merged.durations ??= new Histogram()).mergeWire(c.durations);
      }
      if (c.iterationDurations && c.iterationDurations.count > 0) {
        (merged.iterationDurations ??= new Histogram()).mergeWire(c.iterationDurations);
      }
      if (c.received) merged.received = (merged.received ?? 0) + c.received;
      if (c.sent) merged.sent = (merged.sent ?? 0) + c.sent;
      let agentBuckets = this.#agents.get(agentId);
      if (!agentBuckets) this.#agents.set(agentId, (agentBuckets = []));
      const own = bucketAt(agentBuckets, index);
      const before = own.requests;
      add(own, c);
      if (c.durations && c.durations.count > 0) {
        const p95 = wirePercentile(c.durations, 0.95);
        own.p95 = weighted(own.p95, before, p95, c.requests || c.durations.count);
      }
      const latest = this.#vus.get(agentId);
      if (c.vus !== undefined && (latest === undefined || c.i >= latest.i)) {
        this.#vus.set(agentId, { i: c.i, vus: c.vus });
      }
    }
  }

  /**
   * The last `windowMs` of complete intervals before `nowMs` (less the
   * transport's delay), merged: what a progress line shows. Undefined before
   * the start.
   */
  recent(
    windowMs: number,
    nowMs: number,
  ): Omit<RunProgress, 'iterations' | 'scenarioIterations'> | undefined {
    if (this.#startMs === undefined) return undefined;
    const current = Math.floor((nowMs - this.#lagMs - this.#startMs) / this.#bucketMs);
    const count = Math.max(1, Math.round(windowMs / this.#bucketMs));
    const from = Math.max(0, current - count);
    const window = emptyBucket();
    const durations = new Histogram();
    for (let i = from; i < current; i++) {
      const b = this.#merged[i];
      if (!b) continue;
      add(window, b);
      if (b.durations) durations.merge(b.durations);
    }
    const seconds = (Math.max(1, current - from) * this.#bucketMs) / 1000;
    return {
      requestRate: window.requests / seconds,
      p95Ms: durations.isEmpty() ? null : durations.percentile(0.95),
      errorRate: window.checked > 0 ? window.failed / window.checked : null,
      vus: [...this.#vus.values()].reduce((a, b) => a + b.vus, 0),
    };
  }

  /**
   * The series so far; an interval without data reads as zero load. With
   * `runMs` (the start instant to the run's end), the last interval ends
   * there; shorter than half an interval, it joins the one before (a
   * sliver's rate is noise).
   */
  snapshot(runMs?: number): Timeline {
    const length = Math.max(
      this.#merged.length,
      ...[...this.#agents.values()].map((b) => b.length),
    );
    const intervalS = this.#bucketMs / 1000;
    const runS = runMs === undefined ? undefined : runMs / 1000;
    const endS = runS !== undefined && runS > (length - 1) * intervalS ? runS : length * intervalS;
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
      const latency = bands(b.durations);
      const iterationDuration = bands(b.iterationDurations);
      const seconds = elapsed(i);
      return {
        ...point(b, i, intervalS, seconds, vus, p95),
        ...(latency && { latency }),
        ...(iterationDuration && { iterationDuration }),
        ...(b.received && { received: b.received / seconds }),
        ...(b.sent && { sent: b.sent / seconds }),
      };
    });
    return { intervalS, merged, agents };
  }

  #downsample(): void {
    this.#bucketMs *= 2;
    this.#merged = pairUp(this.#merged);
    for (const [id, buckets] of this.#agents) this.#agents.set(id, pairUp(buckets));
  }
}

/** What a delta's totals hold of the charted metrics, to bound its intervals by. */
interface ChartedTotals {
  requests: number;
  iterations: number;
  failed: number;
  checked: number;
  durations?: { count: number; min: number; max: number };
  iterationDurations?: { count: number; min: number; max: number };
  received: number;
  sent: number;
  vusMax?: number;
}

/** An interval with its trends' samples as histograms (`total` read off the delta). */
type ResolvedInterval = Omit<IntervalContribution, 'durations' | 'iterationDurations'> & {
  durations?: HistogramWire;
  iterationDurations?: HistogramWire;
};

function resolvedIntervals(delta: MetricDelta): ResolvedInterval[] {
  const intervals = delta.timeline ?? [];
  const isTotal = (c: IntervalContribution) =>
    c.durations === 'total' || c.iterationDurations === 'total';
  if (!intervals.some(isTotal)) return intervals as ResolvedInterval[];
  const durations = totalTrend(delta.series, 'http_req_duration');
  const iterationDurations = totalTrend(delta.series, 'iteration_duration');
  return intervals.map((c) => ({
    ...c,
    durations: c.durations === 'total' ? durations : c.durations,
    iterationDurations:
      c.iterationDurations === 'total' ? iterationDurations : c.iterationDurations,
  }));
}

function chartedTotals(delta: MetricDelta): ChartedTotals {
  const t: ChartedTotals = {
    requests: 0,
    iterations: 0,
    failed: 0,
    checked: 0,
    received: 0,
    sent: 0,
  };
  for (const series of delta.series) {
    if (series.kind !== 'total') continue;
    const sink = series.sink;
    if (series.metric === 'http_reqs' && sink.t === 'counter') t.requests = sink.sum;
    else if (series.metric === 'iterations' && sink.t === 'counter') t.iterations = sink.sum;
    else if (series.metric === 'http_req_failed' && sink.t === 'rate') {
      [t.failed, t.checked] = [sink.trues, sink.total];
    } else if (series.metric === 'http_req_duration' && sink.t === 'trend') {
      t.durations = { count: sink.h.count, min: sink.h.min, max: sink.h.max };
    } else if (series.metric === 'vus' && sink.t === 'gauge' && sink.empty !== true) {
      t.vusMax = sink.max;
    } else if (series.metric === 'iteration_duration' && sink.t === 'trend') {
      t.iterationDurations = { count: sink.h.count, min: sink.h.min, max: sink.h.max };
    } else if (series.metric === 'data_received' && sink.t === 'counter') t.received = sink.sum;
    else if (series.metric === 'data_sent' && sink.t === 'counter') t.sent = sink.sum;
  }
  return t;
}

/** Sums of the same samples, added in another order, may differ in the last bits. */
const within = (part: number, total: number) => part <= total + Math.abs(total) * 1e-9 + 1e-9;

/**
 * Why a delta's intervals cannot be true (issue 18's trust model), or
 * undefined: intervals in ascending order, none later than `latestIndex`,
 * and together no more than the delta's own totals (an agent's intervals
 * hold its own samples, nothing it did not also count). So an agent can
 * place only its own share, and only within the run.
 */
export function timelineProblem(delta: MetricDelta, latestIndex: number): string | undefined {
  const intervals = resolvedIntervals(delta);
  if (intervals.length === 0) return undefined;
  const totals = chartedTotals(delta);
  const sum = {
    requests: 0,
    iterations: 0,
    failed: 0,
    checked: 0,
    durations: 0,
    iterationDurations: 0,
    received: 0,
    sent: 0,
  };
  let previous = -1;
  for (const c of intervals) {
    if (c.i <= previous) return `interval ${String(c.i)} is out of order or repeated`;
    previous = c.i;
    if (c.i > latestIndex) {
      return `interval ${String(c.i)} is later than the run has lasted (interval ${String(latestIndex)})`;
    }
    if (c.failed > c.checked) return `interval ${String(c.i)} has more failures than requests`;
    sum.requests += c.requests;
    sum.iterations += c.iterations;
    sum.failed += c.failed;
    sum.checked += c.checked;
    const samples =
      trendProblem(c.i, 'http_req_duration', c.durations, totals.durations) ??
      trendProblem(c.i, 'iteration_duration', c.iterationDurations, totals.iterationDurations);
    if (samples !== undefined) return samples;
    sum.durations += c.durations?.count ?? 0;
    sum.iterationDurations += c.iterationDurations?.count ?? 0;
    sum.received += c.received ?? 0;
    sum.sent += c.sent ?? 0;
    if (c.vus !== undefined && (totals.vusMax === undefined || c.vus > totals.vusMax)) {
      return `interval ${String(c.i)} has more VUs than the delta's vus samples`;
    }
  }
  const over = (
    [
      ['http_reqs', sum.requests, totals.requests],
      ['iterations', sum.iterations, totals.iterations],
      ['http_req_failed failures', sum.failed, totals.failed],
      ['http_req_failed samples', sum.checked, totals.checked],
      ['http_req_duration samples', sum.durations, totals.durations?.count ?? 0],
      ['iteration_duration samples', sum.iterationDurations, totals.iterationDurations?.count ?? 0],
      ['data_received bytes', sum.received, totals.received],
      ['data_sent bytes', sum.sent, totals.sent],
    ] as const
  ).find(([, part, total]) => !within(part, total));
  return over && `its intervals hold ${String(over[1])} ${over[0]}, its totals ${String(over[2])}`;
}

/** An interval's samples of a trend must lie within the delta's own samples of it. */
function trendProblem(
  i: number,
  metric: string,
  part: HistogramWire | undefined,
  all: { min: number; max: number } | undefined,
): string | undefined {
  if (!part || part.count === 0) return undefined;
  if (all && part.min >= all.min && part.max <= all.max) return undefined;
  return `interval ${String(i)} has ${metric} samples outside the delta's`;
}

function bucketAt(buckets: Bucket[], index: number): Bucket {
  while (buckets.length <= index) buckets.push(emptyBucket());
  return buckets[index] as Bucket;
}

function add(
  b: Bucket,
  c: Pick<Bucket, 'requests' | 'iterations' | 'failed' | 'checked' | 'vus'>,
): void {
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

/** avg, p(90), p(95) and p(99) of an interval's samples; undefined without any. */
function bands(h: Histogram | undefined): Bands | undefined {
  if (h === undefined || h.isEmpty()) return undefined;
  return {
    avg: h.sum / h.count,
    p90: h.percentile(0.9),
    p95: h.percentile(0.95),
    p99: h.percentile(0.99),
  };
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
  if (a.iterationDurations || b.iterationDurations) {
    m.iterationDurations = new Histogram();
    if (a.iterationDurations) m.iterationDurations.merge(a.iterationDurations);
    if (b.iterationDurations) m.iterationDurations.merge(b.iterationDurations);
  }
  if (a.received !== undefined || b.received !== undefined) {
    m.received = (a.received ?? 0) + (b.received ?? 0);
  }
  if (a.sent !== undefined || b.sent !== undefined) m.sent = (a.sent ?? 0) + (b.sent ?? 0);
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
    rps: b.requests / elapsedS,
    vus,
    p95,
    errorRate: b.checked > 0 ? b.failed / b.checked : null,
    iterations: b.iterations,
  } satisfies TimelinePoint;
}
