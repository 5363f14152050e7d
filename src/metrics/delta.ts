/**
 * The metric side of the protocol (design.md §5): what a delta holds and how
 * an agent aggregates, validated on arrival like every body. Here, not in
 * protocol/, so that metrics/ never imports protocol/ (protocol/messages.ts
 * wraps these in its messages and re-exports them).
 */
import { z } from 'zod';

import { histogramWireSchema } from './histogram.js';
import { wireSinkSchema } from './sinks.js';

/** Bounds on what one agent may report, so a merged store stays small (design.md §5). */
export const METRIC_LIMITS = {
  /** Distinct (scenario, group) parts and distinct checks, each, per agent. */
  maxParts: 1_000,
  maxChecks: 1_000,
  maxSeriesPerDelta: 50_000,
  maxSubmetrics: 256,
  /** k6 samples vus/vus_max once a second: an hour of them fits in one delta. */
  maxTicksPerDelta: 3_600,
  /** Distinct metric definitions in one delta, and in the whole run. */
  maxMetrics: 10_000,
  /** Intervals of the time series one delta adds to (older ones fold into the next). */
  maxIntervalsPerDelta: 300,
} as const;

const metricName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/);
const tagValue = z.string().max(1024);

/** A submetric a threshold names: samples whose tags contain all of `tags`. */
export const SubmetricSpec = z.strictObject({
  key: z.string().max(2048),
  metric: metricName,
  tags: z.record(z.string().max(128), tagValue),
});
export type SubmetricSpec = z.infer<typeof SubmetricSpec>;

export const MetricInfo = z.strictObject({
  name: metricName,
  type: z.enum(['counter', 'gauge', 'rate', 'trend']),
  contains: z.enum(['default', 'time', 'data']),
});

/**
 * How an agent's k6 hands it its samples: `json`, every sample as a line of
 * `--out json=-`; `cloud`, k6's own cloud output aggregating in-process into
 * an ingest the agent serves on loopback (issue 18, agent/cloud-ingest.ts).
 */
export const METRIC_TRANSPORTS = ['json', 'cloud'] as const;

/** Check and group names in the order the script's source spells them (k6/source-order.ts). */
export const SourceOrder = z.strictObject({
  checks: z.array(z.string().max(1024)).max(METRIC_LIMITS.maxChecks),
  groups: z.array(z.string().max(1024)).max(METRIC_LIMITS.maxParts),
});
export type SourceOrder = z.infer<typeof SourceOrder>;
export type MetricTransport = (typeof METRIC_TRANSPORTS)[number];

/** How an agent aggregates k6's metric stream. */
export const MetricsPlan = z.strictObject({
  /** How often pre-aggregated deltas are sent. */
  intervalMs: z.number().int().positive(),
  submetrics: z.array(SubmetricSpec).max(METRIC_LIMITS.maxSubmetrics),
  /**
   * Split samples by scenario and group: `true`, every sample (the `full`
   * summary needs it); `'groups'`, only samples taken inside a group of the
   * metrics the HTML report's groups table shows (aggregator.ts GROUP_TABLE),
   * whatever the summary mode; `false`, none.
   */
  parts: z.union([z.boolean(), z.literal('groups')]),
  /** Default `json`. */
  transport: z.enum(METRIC_TRANSPORTS).optional(),
  /**
   * Custom metrics as k6 defines them, known to the coordinator: the cloud
   * transport does not say which values are times or data.
   */
  metrics: z.array(MetricInfo).max(METRIC_LIMITS.maxMetrics).optional(),
  /**
   * The script's literal check and group names in source order (cloud
   * transport): how an agent orders checks and groups it first saw in the
   * same aggregation second, as k6 lists them (issue 18.2).
   */
  order: SourceOrder.optional(),
});
export type MetricsPlan = z.infer<typeof MetricsPlan>;

/**
 * One pre-aggregated series: a metric's samples of one interval, either all of
 * them (`total`), those a threshold's submetric selects (`sub`), those of one
 * scenario and group (`part`), or one check's results (`check`, a rate).
 * `ticks` are the raw samples of a gauge each k6 reports for itself once a
 * second (vus, vus_max) since the start instant, as [ms since the start
 * instant on the agent's clock, value], with a third element 0 when that k6's
 * run had ended by then: the coordinator sums the agents' values of the same
 * instant, as one k6 would report them, at the instants some k6 still ran.
 */
export const SeriesDelta = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('total'), metric: metricName, sink: wireSinkSchema }),
  z.strictObject({
    kind: z.literal('ticks'),
    metric: metricName,
    points: z
      // A VU count is a whole number (issue 17.2: no 1e308 VUs on a chart axis).
      .array(
        z.union([
          z.tuple([z.number().nonnegative(), z.int().nonnegative()]),
          z.tuple([z.number().nonnegative(), z.int().nonnegative(), z.literal(0)]),
        ]),
      )
      .max(METRIC_LIMITS.maxTicksPerDelta),
  }),
  z.strictObject({ kind: z.literal('sub'), key: z.string().max(2048), sink: wireSinkSchema }),
  z.strictObject({
    kind: z.literal('part'),
    metric: metricName,
    scenario: tagValue,
    group: tagValue,
    sink: wireSinkSchema,
  }),
  z.strictObject({
    kind: z.literal('check'),
    name: tagValue,
    group: tagValue,
    scenario: tagValue,
    passes: z.number().int().nonnegative(),
    fails: z.number().int().nonnegative(),
  }),
]);
export type SeriesDelta = z.infer<typeof SeriesDelta>;

/** The samples of trend `metric` in a delta's totals, if it has them. */
export function totalTrend(series: readonly SeriesDelta[], metric: string) {
  const total = series.find((s) => s.kind === 'total' && s.metric === metric);
  return total?.kind === 'total' && total.sink.t === 'trend' ? total.sink.h : undefined;
}
/** One `ticks` sample: [ms after the start instant, value], `0` third when k6's run was over. */
export type TickPoint = [number, number] | [number, number, 0];

/**
 * The time series' interval (metrics/timeline.ts): k6's cloud output
 * aggregates per whole second, so finer intervals could not be exact.
 */
export const TIMELINE_INTERVAL_MS = 1_000;

/**
 * What one delta adds to one interval of the time series (issue 18): the
 * charted samples k6 stamped in interval `i` (plan.intervalMs long, counted
 * from the start instant on the agent's clock) whichever delta they come in.
 */
export const IntervalContribution = z.strictObject({
  i: z.int().nonnegative().max(100_000_000),
  /** http_reqs and iterations: their counters' sums. */
  requests: z.number().nonnegative(),
  iterations: z.number().nonnegative(),
  /** http_req_failed: failures among `checked` samples. */
  failed: z.int().nonnegative(),
  checked: z.int().nonnegative(),
  /**
   * http_req_duration's samples; `total` when they are all of the delta's
   * (its one interval, as a cloud agent's delta mostly is): not sent twice.
   */
  durations: z.union([histogramWireSchema, z.literal('total')]).optional(),
  /** k6's `vus` gauge, its last value in the interval. */
  vus: z.int().nonnegative().optional(),
  /**
   * iteration_duration's samples (issue 20.9: its bands over time); `total`
   * as for `durations` (sent twice, they made a delta half again as large).
   */
  iterationDurations: z.union([histogramWireSchema, z.literal('total')]).optional(),
  /** data_received and data_sent: their counters' sums, bytes (issue 20.9). */
  received: z.number().nonnegative().optional(),
  sent: z.number().nonnegative().optional(),
});
export type IntervalContribution = z.infer<typeof IntervalContribution>;

/** Everything an agent's k6 measured since the previous delta. Deltas add up. */
export const MetricDelta = z.strictObject({
  /** Definitions of the metrics in `series` (k6's JSON "Metric" lines). */
  metrics: z.array(MetricInfo).max(METRIC_LIMITS.maxMetrics),
  /** Group paths (k6's `group` tag values) first seen in this delta, in order. */
  groups: z.array(tagValue).max(METRIC_LIMITS.maxParts),
  series: z.array(SeriesDelta).max(METRIC_LIMITS.maxSeriesPerDelta),
  /** The charted metrics' samples of this delta by interval, oldest first (issue 18). */
  timeline: z.array(IntervalContribution).max(METRIC_LIMITS.maxIntervalsPerDelta).optional(),
});
export type MetricDelta = z.infer<typeof MetricDelta>;
