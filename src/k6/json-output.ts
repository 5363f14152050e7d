import type { MetricAggregator, SampleTime } from '../metrics/aggregator.js';
import type { MetricType, ValueType } from '../metrics/types.js';
import { K6TimeReader } from './json-time.js';

/** One line of k6's JSON output (internal/output/json/wrapper.go). */
type JsonLine =
  | { type: 'Metric'; data: { name: string; type: MetricType; contains: ValueType } }
  | {
      type: 'Point';
      metric: string;
      data: { time: string; value: number; tags: Record<string, string> | null };
    };

/** A point's `time`, read only when the aggregator asks (one reused object, no allocation). */
class PointTime implements SampleTime {
  time = '';
  readonly #reader = new K6TimeReader();

  epochMs(): number {
    return Date.parse(this.time);
  }

  preciseMs(): number {
    return this.#reader.ms(this.time);
  }
}

/**
 * Reads k6's `--out json` stream line by line into an aggregator: "Metric"
 * lines define a metric, "Point" lines are its samples. Anything else is
 * counted as malformed, never fatal.
 */
export class K6JsonOutput {
  readonly #into: MetricAggregator;
  readonly #time = new PointTime();
  #malformed = 0;

  constructor(into: MetricAggregator) {
    this.#into = into;
  }

  /** Lines that were not k6 JSON output (counted, never fatal). */
  get malformed(): number {
    return this.#malformed;
  }

  /** Ingests one line of k6's `--out json` stream. */
  ingestLine(line: string): void {
    if (line === '') return;
    let parsed: JsonLine;
    try {
      parsed = JSON.parse(line) as JsonLine;
    } catch {
      this.#malformed++;
      return;
    }
    // Anything else on k6's stdout is not ours to read.
    const type = (parsed as { type?: unknown }).type;
    if (type === 'Point' && parsed.type === 'Point') this.#point(parsed.metric, parsed.data);
    else if (type === 'Metric' && parsed.type === 'Metric') this.#into.define(parsed.data);
    else this.#malformed++;
  }

  #point(
    metric: string,
    data: { time: string; value: number; tags: Record<string, string> | null },
  ): void {
    if (!this.#into.knows(metric) || typeof data.value !== 'number') {
      this.#malformed++;
      return;
    }
    this.#time.time = data.time;
    this.#into.addSample(metric, data.value, data.tags ?? {}, this.#time);
  }
}
