import type { K6HdrInput } from './histogram.js';
import type { MetricType } from './types.js';

/*
 * What the aggregator takes from k6's cloud output (decoded in
 * k6/cloud-wire.ts): series of values k6 already aggregated per bucket.
 */

/** One aggregated value of a series, of one aggregation bucket (`timeMs`: the bucket's start). */
export type CloudValue =
  | { type: 'counter'; timeMs: number; value: number }
  | { type: 'gauge'; timeMs: number; last: number; count: number; min: number; max: number }
  | { type: 'rate'; timeMs: number; nonzero: number; total: number }
  | ({ type: 'trend'; timeMs: number } & K6HdrInput);

export interface CloudSeries {
  metric: string;
  type: MetricType;
  tags: Record<string, string>;
  values: CloudValue[];
}

/**
 * The aggregation period the agent's ingest asks k6 for (cloud-ingest.ts):
 * each value covers this long from its `timeMs`, on k6's whole seconds.
 */
export const CLOUD_AGGREGATION_PERIOD_MS = 1_000;
