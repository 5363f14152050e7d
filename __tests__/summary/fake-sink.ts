import type { MetricType, Sink, ThresholdInput } from '../../src/metrics/types.js';

/**
 * A Sink for summary tests, independent of src/metrics/sinks.ts: it returns
 * given values (k6's own, from a captured run), and computes what they lack
 * from the run's raw samples with k6's sink formulas (metrics/sink.go).
 */
export class FakeSink implements Sink {
  readonly #values: Readonly<Record<string, number>> | undefined;
  readonly #samples: readonly number[];

  /** `values`: k6's values to return as they are; undefined: compute all from `samples`. */
  constructor(
    readonly type: MetricType,
    values: Readonly<Record<string, number>> | undefined,
    samples: readonly number[] = [],
  ) {
    this.#values = values;
    this.#samples = samples;
  }

  static of(type: MetricType, values: Readonly<Record<string, number>>): FakeSink {
    return new FakeSink(type, values);
  }

  static fromSamples(type: MetricType, samples: readonly number[]): FakeSink {
    return new FakeSink(type, undefined, samples);
  }

  isEmpty(): boolean {
    return this.#values === undefined && this.#samples.length === 0;
  }

  values(durationMs: number, trendStats: readonly string[]): Record<string, number> {
    const given = this.#values;
    if (this.type !== 'trend') return given ? { ...given } : this.#computed(durationMs);
    const result: Record<string, number> = {};
    for (const stat of trendStats) {
      const value =
        given?.[stat] ?? (this.#samples.length > 0 ? trendStat(this.#samples, stat) : undefined);
      if (value === undefined) throw new Error(`FakeSink: no value for trend stat ${stat}`);
      result[stat] = value;
    }
    return result;
  }

  #computed(durationMs: number): Record<string, number> {
    const s = this.#samples;
    switch (this.type) {
      case 'counter': {
        const count = s.reduce((a, b) => a + b, 0);
        // k6 divides by the duration in seconds from integer nanoseconds.
        const seconds = Math.round(durationMs * 1e6) / 1e9;
        return { count, rate: seconds === 0 ? 0 : count / seconds };
      }
      case 'gauge':
        return s.length === 0
          ? { value: 0, min: 0, max: 0 }
          : { value: s[s.length - 1] ?? 0, min: Math.min(...s), max: Math.max(...s) };
      case 'rate': {
        const passes = s.filter((v) => v !== 0).length;
        return { rate: s.length === 0 ? 0 : passes / s.length, passes, fails: s.length - passes };
      }
      case 'trend':
        throw new Error('unreachable');
    }
  }

  thresholdInput(): ThresholdInput {
    throw new Error('FakeSink: the summary does not evaluate thresholds');
  }
}

/** One summaryTrendStats entry of a sample list, as k6's TrendSink computes it. */
export function trendStat(samples: readonly number[], stat: string): number {
  const count = samples.length;
  let sum = 0;
  for (const v of samples) sum += v;
  switch (stat) {
    case 'avg':
      return count > 0 ? sum / count : 0;
    case 'min':
      return count > 0 ? Math.min(...samples) : 0;
    case 'max':
      return count > 0 ? Math.max(...samples) : 0;
    case 'count':
      return count;
    case 'med':
      return percentile(samples, 0.5);
  }
  const match = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
  if (!match) throw new Error(`FakeSink: unknown trend stat ${stat}`);
  return percentile(samples, Number(match[1]) / 100);
}

/** k6's TrendSink.P: linear interpolation between the sorted samples around the rank. */
function percentile(samples: readonly number[], fraction: number): number {
  const count = samples.length;
  if (count === 0) return 0;
  if (count === 1) return samples[0] ?? 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const i = fraction * (count - 1);
  const j = sorted[Math.floor(i)] ?? 0;
  const k = sorted[Math.ceil(i)] ?? 0;
  return j + (k - j) * (i - Math.floor(i));
}
