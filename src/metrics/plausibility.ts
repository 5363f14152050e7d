import { K6DistributedError } from '../errors.js';
import type { MetricDelta, SeriesDelta } from './delta.js';
import { builtinMetric, HTTP_REQ_TRENDS } from './builtin.js';
import type { WireSink } from './sinks.js';

/**
 * Why a delta was refused: a stable name for each rule, for the log line
 * and the agent's mark in the reports.
 */
export type PlausibilityRule =
  | 'negative-count'
  | 'negative-duration'
  | 'subset'
  | 'checks'
  | 'http-samples'
  | 'iteration-samples'
  | 'sample-rate';

/**
 * More samples of one series per second than one k6 instance can emit: k6
 * pushes every sample through one Go channel per VU and tops out around a
 * million samples a second on the largest machines.
 */
const MAX_SAMPLES_PER_SECOND = 10_000_000;
/** Seconds of samples allowed beyond the run's age (clock differences, a late flush). */
const GRACE_SECONDS = 60;
/**
 * How far apart two built-in metrics that k6 emits in the same sample
 * container may be at a delta's cut: the agent reads k6's JSON stream line by
 * line, so a cut splits at most one container (one request, one iteration).
 */
const CONTAINER_SLACK = 10;

export interface DeltaContext {
  /** The metric a threshold submetric key selects from. */
  submetricParent(key: string): string | undefined;
  /** Milliseconds since the run's metrics began (the coordinator's clock). */
  ageMs: number;
}

/** One agent's samples so far: count per series, and the counters' sums. */
interface AgentCounts {
  /** Trend counts and rate totals of `total` series. */
  samples: Map<string, number>;
  /** Sums of built-in counters. */
  counters: Map<string, number>;
  checks: number;
}

/**
 * What no honest k6 can report (issue 17.5), checked per agent before a
 * delta is applied: the store then merges only deltas that could be true.
 * An agent is trusted for its own share of samples, within what its k6
 * could physically produce; it can still lie consistently, which the
 * reports show as an outlier share (coordinator/outliers.ts).
 */
export class PlausibilityGuard {
  readonly #agents = new Map<string, AgentCounts>();
  readonly #written: ReadonlySet<string>;

  /**
   * @param options.writtenBuiltins built-in metrics the script itself adds
   *   to (`new Counter('http_reqs')` is k6's own http_reqs): no rule on
   *   what k6 emits holds for them.
   */
  constructor(options: { writtenBuiltins?: ReadonlySet<string> } = {}) {
    this.#written = options.writtenBuiltins ?? new Set();
  }

  /**
   * Throws BAD_REQUEST (with `data.rule`) if the delta cannot be true for
   * this agent; otherwise returns what records it, to call once it is applied.
   */
  check(agentId: string, delta: MetricDelta, ctx: DeltaContext): () => void {
    const totals = new Map<string, WireSink>();
    for (const s of delta.series) if (s.kind === 'total') totals.set(s.metric, s.sink);
    for (const s of delta.series) this.#checkSeries(s, ctx);
    this.#checkSubsets(delta.series, totals, ctx);
    this.#checkChecks(delta.series, totals.get('checks'));
    const before = this.#agents.get(agentId) ?? emptyCounts();
    const after = addUp(before, delta.series, totals);
    this.#checkCumulative(after, ctx.ageMs);
    return () => this.#agents.set(agentId, after);
  }

  #builtin(metric: string): boolean {
    return builtinMetric(metric) !== undefined && !this.#written.has(metric);
  }

  #checkSeries(s: SeriesDelta, ctx: DeltaContext): void {
    if (s.kind === 'check' || s.kind === 'ticks') return;
    const metric = s.kind === 'sub' ? ctx.submetricParent(s.key) : s.metric;
    if (metric === undefined || !this.#builtin(metric)) return;
    const sink = s.sink;
    if (sink.t === 'counter' && sink.sum < 0) {
      throw refused('negative-count', `k6's ${metric} counts events: it cannot go down`);
    }
    if (sink.t === 'trend' && sink.h.count > 0 && sink.h.min < 0) {
      throw refused('negative-duration', `k6's ${metric} is a duration: it cannot be negative`);
    }
  }

  /**
   * A submetric's and a scenario/group part's samples are some of the
   * metric's own: the agent files each sample under all of them in the same
   * delta, so none can hold more than the metric's total.
   */
  #checkSubsets(series: readonly SeriesDelta[], totals: Map<string, WireSink>, ctx: DeltaContext) {
    const parts = new Map<string, WireSink[]>();
    for (const s of series) {
      if (s.kind === 'sub') {
        const parent = ctx.submetricParent(s.key);
        if (parent !== undefined) within(s.sink, [s.sink], totals.get(parent), s.key);
      } else if (s.kind === 'part') {
        const list = parts.get(s.metric) ?? [];
        list.push(s.sink);
        parts.set(s.metric, list);
      }
    }
    for (const [metric, list] of parts) {
      within(list[0], list, totals.get(metric), `${metric} (its scenario and group parts)`);
    }
  }

  /** Every check result is also a sample of k6's `checks` rate, in the same delta. */
  #checkChecks(series: readonly SeriesDelta[], checks: WireSink | undefined): void {
    let passes = 0;
    let fails = 0;
    for (const s of series) {
      if (s.kind !== 'check') continue;
      passes += s.passes;
      fails += s.fails;
    }
    if (passes + fails === 0) return;
    const trues = checks?.t === 'rate' ? checks.trues : 0;
    const falses = checks?.t === 'rate' ? checks.total - checks.trues : 0;
    if (passes > trues || fails > falses) {
      throw refused(
        'checks',
        `its checks passed ${String(passes)} and failed ${String(fails)} times, but its ` +
          `checks metric holds ${String(trues)} passes and ${String(falses)} failures`,
      );
    }
  }

  #checkCumulative(after: AgentCounts, ageMs: number): void {
    if (this.#builtin('http_reqs')) {
      const requests = after.counters.get('http_reqs') ?? 0;
      for (const trend of HTTP_REQ_TRENDS) {
        if (!this.#builtin(trend)) continue;
        const count = after.samples.get(trend) ?? 0;
        if (Math.abs(count - requests) > CONTAINER_SLACK) {
          throw refused(
            'http-samples',
            `k6 emits one ${trend} sample per request, but this agent reported ` +
              `${String(count)} of them for ${String(requests)} requests (http_reqs)`,
          );
        }
      }
      const failed = after.samples.get('http_req_failed') ?? 0;
      if (this.#builtin('http_req_failed') && failed > requests + CONTAINER_SLACK) {
        throw refused(
          'http-samples',
          `k6 emits at most one http_req_failed sample per request, but this agent reported ` +
            `${String(failed)} of them for ${String(requests)} requests (http_reqs)`,
        );
      }
    }
    if (this.#builtin('iterations') && this.#builtin('iteration_duration')) {
      const iterations = after.counters.get('iterations') ?? 0;
      const durations = after.samples.get('iteration_duration') ?? 0;
      if (Math.abs(durations - iterations) > CONTAINER_SLACK) {
        throw refused(
          'iteration-samples',
          `k6 emits one iteration_duration sample per complete iteration, but this agent ` +
            `reported ${String(durations)} of them for ${String(iterations)} iterations`,
        );
      }
    }
    const limit = MAX_SAMPLES_PER_SECOND * (Math.max(0, ageMs) / 1000 + GRACE_SECONDS);
    const counts: [string, number][] = [...after.samples, ['checks', after.checks]];
    for (const [metric, count] of [...counts, ...eventCounts(after, (m) => this.#builtin(m))]) {
      if (count > limit) {
        throw refused(
          'sample-rate',
          `${String(count)} ${metric} samples within ${(ageMs / 1000).toFixed(0)} s of the ` +
            `run: more than one k6 can emit (${String(MAX_SAMPLES_PER_SECOND)} a second)`,
        );
      }
    }
  }
}

/** Built-in counters that count events (one per sample), not bytes. */
function eventCounts(counts: AgentCounts, builtin: (m: string) => boolean): [string, number][] {
  return [...counts.counters].filter(([m]) => builtin(m) && !m.startsWith('data_'));
}

function emptyCounts(): AgentCounts {
  return { samples: new Map(), counters: new Map(), checks: 0 };
}

function addUp(
  before: AgentCounts,
  series: readonly SeriesDelta[],
  totals: Map<string, WireSink>,
): AgentCounts {
  const after: AgentCounts = {
    samples: new Map(before.samples),
    counters: new Map(before.counters),
    checks: before.checks,
  };
  for (const [metric, sink] of totals) {
    const n = sampleCount(sink);
    if (n !== undefined) after.samples.set(metric, (after.samples.get(metric) ?? 0) + n);
    if (sink.t === 'counter' && !sink.empty && builtinMetric(metric)) {
      after.counters.set(metric, (after.counters.get(metric) ?? 0) + sink.sum);
    }
  }
  for (const s of series) if (s.kind === 'check') after.checks += s.passes + s.fails;
  return after;
}

function sampleCount(sink: WireSink): number | undefined {
  if (sink.t === 'trend') return sink.h.count;
  if (sink.t === 'rate') return sink.total;
  return undefined;
}

/**
 * Refuses `parts` (one sink, or a metric's parts together) holding more
 * samples than `total`, the metric's own sink in the same delta.
 */
function within(
  first: WireSink | undefined,
  parts: readonly WireSink[],
  total: WireSink | undefined,
  what: string,
): void {
  if (first === undefined) return;
  const fail = (detail: string) =>
    refused('subset', `${what} holds ${detail} than the metric itself in the same delta`);
  if (first.t === 'rate') {
    const trues = parts.reduce((n, p) => n + (p.t === 'rate' ? p.trues : 0), 0);
    const falses = parts.reduce((n, p) => n + (p.t === 'rate' ? p.total - p.trues : 0), 0);
    const t = total?.t === 'rate' ? total : { trues: 0, total: 0 };
    if (trues > t.trues || falses > t.total - t.trues) throw fail('more samples');
  } else if (first.t === 'trend') {
    const count = parts.reduce((n, p) => n + (p.t === 'trend' ? p.h.count : 0), 0);
    const h = total?.t === 'trend' ? total.h : undefined;
    if (count > (h?.count ?? 0)) throw fail('more samples');
    for (const p of parts) {
      if (p.t !== 'trend' || p.h.count === 0 || !h) continue;
      if (p.h.min < h.min || p.h.max > h.max) throw fail('smaller or larger samples');
    }
  }
}

function refused(rule: PlausibilityRule, reason: string): K6DistributedError {
  return new K6DistributedError('BAD_REQUEST', `invalid metric delta (${rule}): ${reason}`, {
    data: { rule },
  });
}
