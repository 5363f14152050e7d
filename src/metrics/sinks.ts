import { z } from 'zod';
import { K6DistributedError } from '../errors.js';
import {
  Histogram,
  histogramWireSchema,
  isPlausibleSample,
  type K6HdrInput,
  SAMPLE_LIMIT,
} from './histogram.js';

export { isPlausibleSample, SAMPLE_LIMIT };
import type { MetricType, Sink, ThresholdInput } from './types.js';

/**
 * k6's four sinks (metrics/sink.go), made mergeable: an agent adds samples and
 * sends `toWire()` deltas, the coordinator `mergeWire`s every agent's deltas
 * into one sink per series and reads it like k6 reads its own. Every sink
 * ignores non-finite values (k6's JSON output never emits them) and values
 * beyond ±SAMPLE_LIMIT.
 */

/** Largest counter sum in one wire: 2^53 samples of SAMPLE_LIMIT. */
const SUM_LIMIT = 1e116;

const sample = z.number().min(-SAMPLE_LIMIT).max(SAMPLE_LIMIT);

/** `empty: true` marks a sink with no sample: a counter of zeros is not empty (k6's First time). */
const emptyFlag = z.literal(true).optional();

/** One sink on the wire, validated with this schema wherever it comes from an agent. */
export const wireSinkSchema = z.discriminatedUnion('t', [
  z.strictObject({
    t: z.literal('counter'),
    sum: z.number().min(-SUM_LIMIT).max(SUM_LIMIT),
    empty: emptyFlag,
  }),
  z
    .strictObject({
      t: z.literal('gauge'),
      value: sample,
      /** Sample time (ms) of `value`: the latest sample wins a merge. */
      time: z.number(),
      min: sample,
      max: sample,
      empty: emptyFlag,
    })
    .refine((g) => g.empty === true || (g.min <= g.value && g.value <= g.max), {
      message: 'gauge value must lie within [min, max]',
    }),
  z
    .strictObject({
      t: z.literal('rate'),
      trues: z.int().nonnegative(),
      total: z.int().nonnegative(),
    })
    .refine((r) => r.trues <= r.total, { message: 'rate trues must not exceed total' }),
  z.strictObject({ t: z.literal('trend'), h: histogramWireSchema }),
]);
export type WireSink = z.infer<typeof wireSinkSchema>;
type WireOf<T extends MetricType> = Extract<WireSink, { t: T }>;

/** A Sink that takes samples and merges with other agents' sinks through the wire. */
export interface MetricSink extends Sink {
  /** One sample; `timeMs` (epoch ms) matters to gauges only. */
  add(value: number, timeMs: number): void;
  /** Adds another sink's data. Throws if the wire is of another metric type. */
  mergeWire(w: WireSink): void;
  toWire(): WireSink;
  /** Adds one of k6's own cloud-output histograms (trends only). */
  mergeK6?(k: K6HdrInput): void;
}

function checkType<T extends MetricType>(type: T, w: WireSink): WireOf<T> {
  if (w.t !== type) throw new Error(`cannot merge a ${w.t} sink into a ${type} sink`);
  return w as WireOf<T>;
}

/**
 * A duration in seconds as k6 computes a rate's divisor (time.Duration's
 * Seconds() of integer nanoseconds), so rates match k6's to the last bit.
 */
export function k6Seconds(durationMs: number): number {
  return Math.round(durationMs * 1e6) / 1e9;
}

/** k6's CounterSink: the sum of every sample. */
export class CounterSink implements MetricSink {
  readonly type = 'counter';
  #sum = 0;
  #empty = true;

  add(value: number): void {
    if (!isPlausibleSample(value)) return;
    this.#sum += value;
    this.#empty = false;
  }

  mergeWire(w: WireSink): void {
    const c = checkType(this.type, w);
    if (c.empty) return;
    this.#sum += c.sum;
    this.#empty = false;
  }

  toWire(): WireOf<'counter'> {
    return { t: 'counter', sum: this.#sum, ...(this.#empty && { empty: true as const }) };
  }

  isEmpty(): boolean {
    return this.#empty;
  }

  /** `{count, rate}`, rate per second of `durationMs`, 0 when the duration is 0. */
  values(durationMs: number): Record<string, number> {
    const seconds = k6Seconds(durationMs);
    return { count: this.#sum, rate: seconds === 0 ? 0 : this.#sum / seconds };
  }

  thresholdInput(): ThresholdInput {
    return { type: 'counter', empty: this.#empty, count: this.#sum };
  }
}

/**
 * k6's GaugeSink, with the last value chosen by sample time so agents merge:
 * `add` keeps the newer-or-equal sample (stream order breaks ties, as in k6),
 * `mergeWire` takes the wire's value only if strictly newer.
 */
export class GaugeSink implements MetricSink {
  readonly type = 'gauge';
  #value = 0;
  #time = 0;
  #min = 0;
  #max = 0;
  #empty = true;

  add(value: number, timeMs: number): void {
    if (!isPlausibleSample(value) || !Number.isFinite(timeMs)) return;
    this.#take(value, timeMs, value, value, false);
  }

  mergeWire(w: WireSink): void {
    const g = checkType(this.type, w);
    if (!g.empty) this.#take(g.value, g.time, g.min, g.max, true);
  }

  #take(value: number, time: number, min: number, max: number, strictlyNewer: boolean): void {
    if (this.#empty || time > this.#time || (!strictlyNewer && time === this.#time)) {
      this.#value = value;
      this.#time = time;
    }
    if (this.#empty || min < this.#min) this.#min = min;
    if (this.#empty || max > this.#max) this.#max = max;
    this.#empty = false;
  }

  toWire(): WireOf<'gauge'> {
    const w = {
      t: 'gauge' as const,
      value: this.#value,
      time: this.#time,
      min: this.#min,
      max: this.#max,
    };
    return this.#empty ? { ...w, empty: true } : w;
  }

  isEmpty(): boolean {
    return this.#empty;
  }

  values(): Record<string, number> {
    return { value: this.#value, min: this.#min, max: this.#max };
  }

  thresholdInput(): ThresholdInput {
    return { type: 'gauge', empty: this.#empty, value: this.#value };
  }
}

/** k6's RateSink: a sample is a true when it is not 0. */
export class RateSink implements MetricSink {
  readonly type = 'rate';
  #trues = 0;
  #total = 0;

  add(value: number): void {
    if (!isPlausibleSample(value)) return;
    this.#total++;
    if (value !== 0) this.#trues++;
  }

  mergeWire(w: WireSink): void {
    const r = checkType(this.type, w);
    this.#trues += r.trues;
    this.#total += r.total;
  }

  toWire(): WireOf<'rate'> {
    return { t: 'rate', trues: this.#trues, total: this.#total };
  }

  isEmpty(): boolean {
    return this.#total === 0;
  }

  /** `{rate, passes, fails}`; rate 0 when there is no sample. */
  values(): Record<string, number> {
    const rate = this.#total > 0 ? this.#trues / this.#total : 0;
    return { rate, passes: this.#trues, fails: this.#total - this.#trues };
  }

  thresholdInput(): ThresholdInput {
    return { type: 'rate', empty: this.#total === 0, trues: this.#trues, total: this.#total };
  }
}

/**
 * k6's TrendSink on a Histogram: count, sum, min and max exact; percentiles
 * exact up to 256 distinct values, within 0.39 % beyond.
 */
export class TrendSink implements MetricSink {
  readonly type = 'trend';
  readonly histogram = new Histogram();

  add(value: number): void {
    this.histogram.add(value);
  }

  mergeWire(w: WireSink): void {
    this.histogram.mergeWire(checkType(this.type, w).h);
  }

  mergeK6(k: K6HdrInput): void {
    this.histogram.mergeK6(k);
  }

  toWire(): WireOf<'trend'> {
    return { t: 'trend', h: this.histogram.toWire() };
  }

  isEmpty(): boolean {
    return this.histogram.isEmpty();
  }

  /** One key per requested stat (k6's summaryTrendStats); throws on an invalid stat. */
  values(_durationMs: number, trendStats: readonly string[]): Record<string, number> {
    const result: Record<string, number> = {};
    for (const stat of trendStats) result[stat] = parseTrendStat(stat)(this.histogram);
    return result;
  }

  thresholdInput(): ThresholdInput {
    const h = this.histogram;
    return {
      type: 'trend',
      empty: h.isEmpty(),
      min: h.min,
      max: h.max,
      avg: average(h),
      percentile: (fraction) => h.percentile(fraction),
    };
  }
}

function average(h: Histogram): number {
  return h.count > 0 ? h.sum / h.count : 0;
}

const STATIC_TREND_STATS: Readonly<Record<string, (h: Histogram) => number>> = {
  avg: average,
  min: (h) => h.min,
  med: (h) => h.percentile(0.5),
  max: (h) => h.max,
  count: (h) => h.count,
};

/**
 * The reader of one summaryTrendStats entry (k6's GetResolversForTrendColumns):
 * avg, min, med, max, count or p(N) with 0 ≤ N ≤ 100. Throws an INVALID_OPTION
 * error worded as k6's. Unlike k6, p(NaN) is refused: k6 accepts it and then
 * panics on an out-of-range index.
 */
export function parseTrendStat(stat: string): (h: Histogram) => number {
  if (Object.hasOwn(STATIC_TREND_STATS, stat)) {
    const resolve = STATIC_TREND_STATS[stat];
    if (resolve) return resolve;
  }
  if (!stat.startsWith('p(') || !stat.endsWith(')')) {
    throw new K6DistributedError('INVALID_OPTION', `invalid trend stat '${stat}', unknown format`);
  }
  const percentile = parseGoFloat(stat.slice(2, -1));
  if (percentile === undefined || !(percentile >= 0 && percentile <= 100)) {
    throw new K6DistributedError(
      'INVALID_OPTION',
      `invalid percentile trend stat value '${stat}', provide a number between 0 and 100`,
    );
  }
  return (h) => h.percentile(percentile / 100);
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEXADECIMAL = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/;
const SPECIAL = /^(?:[+-]?inf(?:inity)?|nan)$/i;

/**
 * Go's strconv.ParseFloat syntax (k6 parses p(N) with it): decimal or
 * hexadecimal with a p exponent, `_` only between digits, Inf/Infinity/NaN in
 * any case. Undefined for a syntax or range error.
 */
function parseGoFloat(text: string): number | undefined {
  if (SPECIAL.test(text)) {
    const lower = text.toLowerCase();
    return lower === 'nan' ? NaN : lower.startsWith('-') ? -Infinity : Infinity;
  }
  if (!underscoresBetweenDigits(text)) return undefined;
  const s = text.replaceAll('_', '');
  let value: number;
  if (DECIMAL.test(s)) value = Number(s);
  else {
    const hex = HEXADECIMAL.exec(s);
    const [, sign = '', whole = '', fraction = '', exponent = '0'] = hex ?? [];
    if (!hex || whole + fraction === '') return undefined;
    const mantissa = Number.parseInt(whole + fraction, 16);
    value = (sign === '-' ? -1 : 1) * mantissa * 2 ** (Number(exponent) - 4 * fraction.length);
  }
  return Number.isFinite(value) ? value : undefined;
}

/** Go's underscoreOK: `_` between two digits, or between a 0x prefix and a digit. */
function underscoresBetweenDigits(text: string): boolean {
  const body = text.replace(/^[+-]/, '');
  const hex = /^0[xX]/.test(body);
  const digit = hex ? /[0-9a-fA-F]/ : /[0-9]/;
  let previous: 'start' | 'digit' | '_' | 'other' = hex ? 'digit' : 'start';
  for (const c of hex ? body.slice(2) : body) {
    if (c === '_') {
      if (previous !== 'digit') return false;
      previous = '_';
    } else if (digit.test(c)) previous = 'digit';
    else if (previous === '_') return false;
    else previous = 'other';
  }
  return previous !== '_';
}

/** An empty sink of a metric type. */
export function createSink(type: MetricType): MetricSink {
  switch (type) {
    case 'counter':
      return new CounterSink();
    case 'gauge':
      return new GaugeSink();
    case 'rate':
      return new RateSink();
    case 'trend':
      return new TrendSink();
  }
}

/** A sink holding a validated wire's data. */
export function sinkFromWire(w: WireSink): MetricSink {
  const sink = createSink(w.t);
  sink.mergeWire(w);
  return sink;
}

/** The sink under `key`, created empty on first use. */
export function sinkIn(map: Map<string, MetricSink>, key: string, type: MetricType): MetricSink {
  let sink = map.get(key);
  if (!sink) {
    sink = createSink(type);
    map.set(key, sink);
  }
  return sink;
}
