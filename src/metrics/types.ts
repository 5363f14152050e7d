/**
 * The shapes shared by the agent's ingestion, the coordinator's metric store,
 * thresholds and the end-of-test summary. k6's own vocabulary throughout
 * (metrics/metric_type.go, metrics/value_type.go).
 */
export type MetricType = 'counter' | 'gauge' | 'rate' | 'trend';

/** k6's `contains`: how a metric's values are rendered. */
export type ValueType = 'default' | 'time' | 'data';

export interface MetricInfo {
  readonly name: string;
  readonly type: MetricType;
  readonly contains: ValueType;
}

/**
 * What thresholds read from a sink: k6's `Thresholds.Run` switch
 * (metrics/thresholds.go), without k6's raw sample slice.
 */
export type ThresholdInput =
  | { readonly type: 'counter'; readonly empty: boolean; readonly count: number }
  | { readonly type: 'gauge'; readonly empty: boolean; readonly value: number }
  | {
      readonly type: 'rate';
      readonly empty: boolean;
      readonly trues: number;
      readonly total: number;
    }
  | {
      readonly type: 'trend';
      readonly empty: boolean;
      readonly min: number;
      readonly max: number;
      readonly avg: number;
      /** k6's TrendSink.P: `fraction` in [0, 1]. */
      percentile(fraction: number): number;
    };

/**
 * A metric sink (k6's metrics/sink.go), mergeable across agents. Implemented
 * in sinks.ts; the summary and thresholds read sinks only through this.
 */
export interface Sink {
  readonly type: MetricType;
  isEmpty(): boolean;
  /**
   * k6's values for the summary and handleSummary (internal/js/summary.go
   * metricValueGetter): counter {count, rate}, gauge {value, min, max},
   * rate {rate, passes, fails}, trend one key per requested stat
   * (avg, min, med, max, count, p(N)).
   */
  values(durationMs: number, trendStats: readonly string[]): Record<string, number>;
  thresholdInput(): ThresholdInput;
}
