import type { MetricType, Sink, ValueType } from '../metrics/types.js';

/** One merged series: its metric's type and how its values render. */
export interface SeriesView {
  readonly type: MetricType;
  readonly contains: ValueType;
  readonly sink: Sink;
}

/**
 * Everything the end-of-test summary and handleSummary() read, filled by the
 * coordinator from merged data: the model k6 builds in internal/output/summary
 * and lib.LegacySummary, without raw samples.
 */
export interface SummarySource {
  /** Test run duration: from setup() through teardown(), as k6 counts it. */
  readonly durationMs: number;
  /** Every observed metric (all samples), first-seen order. */
  readonly metrics: ReadonlyMap<string, SeriesView>;
  /** Threshold submetrics by key as written, e.g. `http_req_duration{status:200}`. */
  readonly submetrics: ReadonlyMap<string, SeriesView & { readonly parent: string }>;
  /** Threshold results by metric or submetric key, in definition order. */
  readonly thresholds: ReadonlyMap<
    string,
    ReadonlyArray<{ readonly source: string; readonly ok: boolean }>
  >;
  /** Checks by name, group tag (`''` or `::g1::g2`) and scenario, first-seen order. */
  readonly checks: ReadonlyArray<{
    readonly name: string;
    readonly group: string;
    readonly scenario: string;
    readonly passes: number;
    readonly fails: number;
  }>;
  /** Group paths seen, first-seen order. */
  readonly groups: readonly string[];
  /** Samples split by scenario and group tag values (the `full` summary). */
  readonly parts: ReadonlyArray<{
    readonly scenario: string;
    readonly group: string;
    readonly metrics: ReadonlyMap<string, SeriesView>;
  }>;
  readonly options: {
    readonly summaryTrendStats: readonly string[];
    /** '' when unset. */
    readonly summaryTimeUnit: string;
    readonly noColor: boolean;
  };
  readonly state: { readonly isStdOutTTY: boolean; readonly isStdErrTTY: boolean };
  readonly setupData?: unknown;
}
