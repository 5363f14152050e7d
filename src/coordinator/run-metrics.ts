import { METRIC_TRANSPORT } from '../defaults.js';
import { K6DistributedError } from '../errors.js';
import type { K6Options } from '../k6/archive.js';
import type { RunFlags } from '../k6/run-flags.js';
import type { LimitBreach } from '../metrics/agent-budget.js';
import { createSink } from '../metrics/sinks.js';
import type { RunProgress } from '../metrics/key-figures.js';
import { PlausibilityGuard } from '../metrics/plausibility.js';
import { MetricStore } from '../metrics/store.js';
import { TimelineRecorder, timelineProblem } from '../metrics/timeline.js';
import type { MetricInfo, Sink, ThresholdInput } from '../metrics/types.js';
import type {
  MetricsPlan,
  DeltaMessage,
  MetricTransport,
  SourceOrder,
  SubmetricSpec,
} from '../protocol/messages.js';
import type { SeriesView, SummarySource } from '../summary/source.js';
import { parseThresholdsOption, type ThresholdSet } from '../thresholds/config.js';
import { type Evaluation, ThresholdEvaluator } from '../thresholds/evaluate.js';

/** k6 always tracks this submetric for the summary when expected_response is a system tag. */
const EXPECTED_RESPONSE = {
  key: 'http_req_duration{expected_response:true}',
  metric: 'http_req_duration',
  tags: { expected_response: 'true' },
} as const satisfies SubmetricSpec;

/**
 * How far past the run's age an agent may date samples: its clock offset is
 * measured and taken off at the start, so only a clock step since counts.
 */
const TIMELINE_SKEW_MS = 10_000;
/**
 * How long after an interval ends its last samples arrive: the agent's send
 * interval, and on the cloud transport k6's own aggregation (a bucket is
 * pushed 1–2 s after it began).
 */
const CLOUD_DELAY_MS = 2_000;

/** k6 evaluates thresholds every 2 s (internal/metrics/engine/engine.go thresholdsRate). */
const K6_TICK_MS = 2_000;

const DEFAULT_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

export interface RunMetricsOptions {
  options: K6Options;
  flags: RunFlags;
  /** How often agents send deltas (design: ≤ 2 s). */
  intervalMs?: number;
  /** The thresholds' custom metrics, as k6 defines them (k6/threshold-metrics.ts). */
  thresholdMetrics?: readonly MetricInfo[];
  /** Custom metrics the script declares with a literal name (k6/script-scan.ts ScriptScan.metricTypes). */
  scriptMetrics?: readonly MetricInfo[];
  /** How agents get their k6's samples (default cloud). */
  transport?: MetricTransport;
  /** Custom metrics the script declares as times (cloud transport: k6 does not say). */
  declaredMetrics?: readonly MetricInfo[];
  /** The script's check and group names in source order (cloud transport, k6/source-order.ts). */
  sourceOrder?: SourceOrder;
  /** Built-in metrics the script adds samples to itself (k6/script-scan.ts ScriptScan.builtinWrites). */
  writtenBuiltins?: ReadonlySet<string>;
  /** The coordinator's clock (epoch ms). */
  now?: () => number;
}

/** What the coordinator needs from the metric side of a run. */
export interface RunMetrics {
  /** What agents aggregate and how often they send it. */
  readonly plan: MetricsPlan;
  /**
   * Adds an agent's delta, received at `atMs` (coordinator clock); throws
   * BAD_REQUEST (changing nothing) when it does not fit. Returns the agent's
   * limits this delta passed first (what is left out from then on).
   */
  apply(agentId: string, message: DeltaMessage, atMs: number): readonly LimitBreach[];
  /**
   * The common start instant: time series count from here. `agentIds`: the
   * agents starting; `setupMs`: the setup() time the run counts before it.
   */
  started?(atMs: number, run: { agentIds: readonly string[]; setupMs: number }): void;
  /** The load of the last `windowMs`, for the progress line. */
  progress?(windowMs: number, nowMs: number): RunProgress | undefined;
  /**
   * Evaluates the thresholds on the merged data as k6 does: during the run
   * (`final` false) metrics without samples are skipped.
   */
  evaluate(durationMs: number, final: boolean, onArrival?: boolean): Evaluation;
  /** Some threshold has abortOnFail (and thresholds are on): worth evaluating as data arrives. */
  readonly abortsOnFail?: boolean;
}

/**
 * The metric side of one run: the merged store, the thresholds from the
 * archived options (evaluated on merged data unless --no-thresholds), and
 * the plan telling agents what to aggregate.
 */
export class CoordinatorMetrics implements RunMetrics {
  readonly plan: MetricsPlan;
  readonly store: MetricStore;
  /** Per-interval series of the run, merged and per agent. */
  readonly timeline: TimelineRecorder;
  readonly #sets: readonly ThresholdSet[];
  /** Some threshold has abortOnFail: the coordinator then evaluates as deltas arrive. */
  readonly abortsOnFail: boolean;
  readonly #evaluator: ThresholdEvaluator | undefined;
  readonly #o: RunMetricsOptions;
  readonly #guard: PlausibilityGuard;
  /** How long setup() took: the test run duration at the start instant. */
  #setupMs = 0;
  /** When this run's metrics began: agents cannot have sampled for longer. */
  readonly #sinceMs: number;

  constructor(options: RunMetricsOptions) {
    this.#o = options;
    this.#guard = new PlausibilityGuard({ writtenBuiltins: options.writtenBuiltins });
    this.#sinceMs = (options.now ?? Date.now)();
    const intervalMs = options.intervalMs ?? 1_000;
    this.timeline = new TimelineRecorder({
      lagMs: intervalMs + (options.transport === 'cloud' ? CLOUD_DELAY_MS : 0),
    });
    this.#sets = parseThresholdsOption(options.options.thresholds ?? {});
    const submetrics = new Map<string, SubmetricSpec>([[EXPECTED_RESPONSE.key, EXPECTED_RESPONSE]]);
    for (const set of this.#sets) {
      if (Object.keys(set.tags).length > 0) {
        submetrics.set(set.key, { key: set.key, metric: set.metric, tags: set.tags });
      }
    }
    this.plan = {
      intervalMs: options.intervalMs ?? 1_000,
      submetrics: [...submetrics.values()],
      // Full: every sample by scenario and group; otherwise groups only, for
      // the HTML report's groups (k6's compact summary shows none).
      parts: options.flags.summaryMode === 'full' || 'groups',
      transport: options.transport ?? METRIC_TRANSPORT,
      ...planMetrics(options),
      ...(options.sourceOrder && { order: options.sourceOrder }),
    };
    this.store = new MetricStore({
      submetrics: this.plan.submetrics,
      metrics: options.thresholdMetrics,
      declared: options.scriptMetrics,
    });
    this.#evaluator = options.flags.noThresholds ? undefined : new ThresholdEvaluator(this.#sets);
    this.abortsOnFail =
      this.#evaluator !== undefined &&
      this.#sets.some((set) => set.thresholds.some((t) => t.abortOnFail));
  }

  apply(agentId: string, message: DeltaMessage, atMs: number): LimitBreach[] {
    const latest = this.timeline.latestIndex(atMs, TIMELINE_SKEW_MS);
    const problem = timelineProblem(message.delta, latest);
    if (problem !== undefined) {
      throw new K6DistributedError('BAD_REQUEST', `invalid metric delta (timeline): ${problem}`, {
        data: { rule: 'timeline' },
      });
    }
    const record = this.#guard.check(agentId, message.delta, {
      submetricParent: (key) => this.store.submetricSpecs.get(key)?.metric,
      ageMs: atMs - this.#sinceMs,
    });
    const breaches = this.store.apply(agentId, message.delta);
    record();
    this.timeline.record(agentId, message.delta);
    return breaches;
  }

  started(atMs: number, run: { agentIds: readonly string[]; setupMs: number }): void {
    this.#setupMs = run.setupMs;
    this.timeline.start(atMs);
    this.store.startRun(run);
  }

  progress(windowMs: number, nowMs: number): RunProgress | undefined {
    const recent = this.timeline.recent(windowMs, nowMs);
    if (!recent) return undefined;
    const iterations = this.store.sink('iterations')?.thresholdInput();
    const scenarioIterations = this.#scenarioIterations(iterations);
    return {
      ...recent,
      iterations: iterations?.type === 'counter' ? iterations.count : 0,
      scenarioIterations,
    };
  }

  /**
   * Iterations by scenario: from the parts (--summary-mode=full); otherwise
   * only a test of one scenario knows its own (the run's), and the others
   * are unknown rather than 0.
   */
  #scenarioIterations(total: ThresholdInput | undefined): Map<string, number> | undefined {
    if (this.plan.parts !== true) {
      const names = Object.keys(this.#o.options.scenarios ?? {});
      if (names.length !== 1 || total?.type !== 'counter') return undefined;
      return new Map([[names[0] ?? '', total.count]]);
    }
    const scenarioIterations = new Map<string, number>();
    for (const part of this.store.parts) {
      const input = part.sinks.get('iterations')?.thresholdInput();
      if (input?.type !== 'counter' || part.scenario === '') continue;
      scenarioIterations.set(
        part.scenario,
        (scenarioIterations.get(part.scenario) ?? 0) + input.count,
      );
    }
    return scenarioIterations;
  }

  /**
   * @param onArrival evaluated as deltas arrived, between k6's 2 s ticks: an
   *   abort waits for the first tick at which k6 could have aborted.
   */
  evaluate(durationMs: number, final: boolean, onArrival = false): Evaluation {
    if (!this.#evaluator) return { breached: [], abort: false };
    this.store.settle(durationMs, final);
    const mayAbort = onArrival
      ? (delay: number | undefined) =>
          (delay === undefined || delay < durationMs) && durationMs >= this.#firstTickPast(delay)
      : undefined;
    return this.#evaluator.evaluate(
      (key: string) => this.#thresholdSink(key)?.thresholdInput(),
      durationMs,
      final,
      mayAbort,
    );
  }

  /**
   * The test run duration at the first of k6's threshold ticks (every 2 s
   * from the start instant, after setup()) past `delayMs`.
   */
  #firstTickPast(delayMs: number | undefined): number {
    const ticks =
      delayMs === undefined
        ? 1
        : Math.max(1, Math.floor((delayMs - this.#setupMs) / K6_TICK_MS) + 1);
    return this.#setupMs + ticks * K6_TICK_MS;
  }

  /** A threshold's sink: merged data, or an empty one of the metric's type. */
  #thresholdSink(key: string): Sink | undefined {
    const sink = this.store.sink(key);
    if (sink) return sink;
    // k6 evaluates a threshold's metric without samples too (as zero) at the end.
    const metric = this.#sets.find((s) => s.key === key)?.metric;
    const info = metric === undefined ? undefined : this.store.info(metric);
    return info && createSink(info.type);
  }

  /** Everything the end-of-test summary and handleSummary read, from merged data. */
  summarySource(params: {
    durationMs: number;
    setupData: unknown;
    isStdOutTTY: boolean;
  }): SummarySource {
    this.store.settle(params.durationMs, true);
    const options = this.#o.options;
    return {
      durationMs: params.durationMs,
      metrics: this.#summaryMetrics(),
      submetrics: this.#summarySubmetrics(),
      thresholds: this.#thresholdResults(),
      checks: [...this.store.checks],
      groups: this.store.groups,
      parts: [...this.store.parts].map((part) => ({
        scenario: part.scenario,
        group: part.group,
        metrics: this.#views(part.sinks),
      })),
      // Group parts alone do not add up to a scenario's samples.
      scenarioTotals:
        this.plan.parts === true
          ? [...this.store.scenarioTotals()].map(([scenario, sinks]) => ({
              scenario,
              metrics: this.#views(sinks),
            }))
          : [],
      options: {
        summaryTrendStats: options.summaryTrendStats ?? DEFAULT_TREND_STATS,
        summaryTimeUnit: options.summaryTimeUnit ?? '',
        noColor: this.#o.flags.noColor,
      },
      state: { isStdOutTTY: params.isStdOutTTY, isStdErrTTY: false },
      setupData: params.setupData,
    };
  }

  #view(metric: string, sink: Sink): SeriesView | undefined {
    const info = this.store.info(metric);
    return info && { type: info.type, contains: info.contains, sink };
  }

  #views(sinks: Iterable<[string, Sink]>): Map<string, SeriesView> {
    return new Map(
      [...sinks].flatMap(([name, sink]) => {
        const v = this.#view(name, sink);
        return v ? [[name, v] as const] : [];
      }),
    );
  }

  #summaryMetrics(): Map<string, SeriesView> {
    const metrics = this.#views(this.store.metrics);
    // As in k6, a metric with thresholds is in the summary even without samples,
    // unless --no-thresholds (k6 then never marks it observed).
    for (const set of this.#evaluator ? this.#sets : []) {
      const info = this.store.info(set.metric);
      if (info && !metrics.has(set.metric)) {
        metrics.set(set.metric, {
          type: info.type,
          contains: info.contains,
          sink: createSink(info.type),
        });
      }
    }
    return metrics;
  }

  #summarySubmetrics(): Map<string, SeriesView & { parent: string }> {
    const submetrics = new Map<string, SeriesView & { parent: string }>();
    for (const [key, sink] of this.store.submetrics) {
      const parent = this.store.submetricSpecs.get(key)?.metric;
      const v = parent === undefined ? undefined : this.#view(parent, sink);
      if (v && parent !== undefined) submetrics.set(key, { ...v, parent });
    }
    return submetrics;
  }

  #thresholdResults(): Map<string, { source: string; ok: boolean }[]> {
    const thresholds = new Map<string, { source: string; ok: boolean }[]>();
    for (const result of this.#evaluator?.results ?? []) {
      const list = thresholds.get(result.key) ?? [];
      list.push({ source: result.source, ok: result.ok });
      thresholds.set(result.key, list);
    }
    return thresholds;
  }
}

/** What agents are told of custom metrics: k6's own word (thresholds) over the script scan. */
function planMetrics(options: RunMetricsOptions): { metrics?: MetricInfo[] } {
  const byName = new Map<string, MetricInfo>();
  for (const m of options.declaredMetrics ?? []) byName.set(m.name, m);
  for (const m of options.thresholdMetrics ?? []) byName.set(m.name, m);
  return byName.size > 0 ? { metrics: [...byName.values()] } : {};
}
