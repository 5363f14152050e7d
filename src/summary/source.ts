import type { MetricType, Sink, ValueType } from '../metrics/types.js';

/** One merged series: its metric's type and how its values render. */
export interface SeriesView {
  readonly type: MetricType;
  readonly contains: ValueType;
  readonly sink: Sink;
}

/** Sinks by metric name (a part of the samples). */
export type SeriesMap = ReadonlyMap<string, SeriesView>;

/**
 * Everything the end-of-test summary and handleSummary() read, filled by the
 * coordinator from merged data: the model k6 builds in internal/output/summary
 * and lib.LegacySummary, without raw samples.
 */
export interface SummarySource {
  /** Test run duration: from setup() through teardown(), as k6 counts it. */
  readonly durationMs: number;
  /** Every observed metric (all samples), first-seen order. */
  readonly metrics: SeriesMap;
  /**
   * Threshold submetrics by key as written, e.g. `http_req_duration{status:200}`.
   * A threshold key found neither here nor in `metrics` is shown empty, as k6
   * shows a threshold's metric that got no sample.
   */
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
  /**
   * Group paths (`::g1::g2`), first-seen order, of the `checks` and
   * `group_duration` samples: k6 builds handleSummary()'s root_group from
   * those two metrics only (lib.GroupSummary), so a path seen only on other
   * metrics (setup()'s data_sent is tagged `::setup`) must not be here.
   */
  readonly groups: readonly string[];
  /** Samples split by scenario and group tag values (the `full` summary), first-seen order. */
  readonly parts: ReadonlyArray<{
    readonly scenario: string;
    readonly group: string;
    readonly metrics: SeriesMap;
  }>;
  /**
   * Every sample of each scenario whatever its group (the `full` summary's
   * SCENARIO blocks). Without it a scenario block shows the scenario's
   * samples outside any group only (its `''` part): exact for a scenario
   * without groups.
   */
  readonly scenarioTotals?: ReadonlyArray<{
    readonly scenario: string;
    readonly metrics: SeriesMap;
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
