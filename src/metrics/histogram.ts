import { z } from 'zod';

import { K6_HDR_MAX_INDEX, k6HdrBucket, k6HdrIndex } from './k6-hdr.js';

const SUB_BITS = 7;
/** The high 32 bits of a float64 hold sign, 11 exponent bits and 20 mantissa bits. */
const MANTISSA_SHIFT = 20 - SUB_BITS;
const INDEX_BIAS = 1023 << SUB_BITS;

/** Bucket index of the smallest magnitudes (subnormals; linear there, not logarithmic). */
export const HISTOGRAM_MIN_INDEX = -INDEX_BIAS;
/** Bucket index of the largest finite float64 (Number.MAX_VALUE). */
export const HISTOGRAM_MAX_INDEX = (2047 << SUB_BITS) - 1 - INDEX_BIAS;
/**
 * Most buckets per sign a wire may carry: 128 powers of two (38 decimal orders
 * of magnitude), every sub-bucket used. Real latencies use a few hundred.
 */
export const HISTOGRAM_WIRE_MAX_BUCKETS = 16_384;
/**
 * Up to this many distinct values a histogram keeps the values themselves,
 * so a trend of few distinct values (sizes, counts, a few fixed latencies)
 * gets k6's exact percentiles; past it, the buckets. Chosen so an exact
 * histogram is no bigger in memory or on the wire than a bucketed latency
 * histogram (a few hundred buckets).
 */
export const HISTOGRAM_EXACT_MAX_VALUES = 256;

/**
 * Largest sample magnitude a sink takes (issue 17.2). k6 takes any finite
 * float64, but no load test measures beyond a googol, and below it sums of
 * 2^53 samples, averages, differences and chart axes all stay finite: an
 * agent drops a larger sample with a warning, the coordinator refuses a wire
 * that holds one.
 */
export const SAMPLE_LIMIT = 1e100;

/** A sample a sink takes: finite and within ±SAMPLE_LIMIT. */
export function isPlausibleSample(value: number): boolean {
  return Math.abs(value) <= SAMPLE_LIMIT;
}

const scratch = new DataView(new ArrayBuffer(8));

/** The bucket of a positive finite magnitude: exponent and top 7 mantissa bits. */
function bucketIndex(magnitude: number): number {
  scratch.setFloat64(0, magnitude);
  return (scratch.getUint32(0) >>> MANTISSA_SHIFT) - INDEX_BIAS;
}

/** The smallest magnitude in a bucket; `index + 1` gives the exclusive upper bound. */
function bucketLowerBound(index: number): number {
  scratch.setUint32(0, (index + INDEX_BIAS) << MANTISSA_SHIFT);
  scratch.setUint32(4, 0);
  return scratch.getFloat64(0);
}

type Buckets = Map<number, number>;

/**
 * One histogram of k6's cloud output (k6-hdr.ts): bucket index → count, the
 * two extra counters, and k6's exact count, sum, min and max.
 */
export interface K6HdrInput {
  buckets: Iterable<[number, number]>;
  low: number;
  high: number;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** k6's buckets held as they are, beside its extra counters. */
interface K6Buckets {
  buckets: Buckets;
  low: number;
  high: number;
}

function bump(buckets: Buckets, index: number, count: number): void {
  buckets.set(index, (buckets.get(index) ?? 0) + count);
}

/** Where ranks sit: `ends[s]` is one past the last rank of segment s, `estimates[s]` its value. */
interface Layout {
  readonly ends: number[];
  readonly estimates: number[];
}

/**
 * A mergeable histogram for trend metrics (design.md §5). While its samples
 * hold at most HISTOGRAM_EXACT_MAX_VALUES distinct values it keeps them
 * exactly (value → count) and its percentiles are k6's to the bit. Past
 * that it is log-linear: each
 * power of two is split into 2^7 = 128 equal sub-buckets, the layout of k6's
 * own cloud histogram (internal/ds/histogram) but on the float's exponent, so
 * the relative resolution is the same from 1e-300 to 1e300 and negatives and
 * zero need no offset. Percentile estimates are within 1/256 (0.39 %) of the
 * value k6's TrendSink.P would give on the raw samples, except where k6
 * interpolates between a negative and a positive sample. Count, sum, min and
 * max are kept exactly beside the buckets.
 */
export class Histogram {
  /** Distinct values and their counts, until there are too many (then undefined). */
  #exact: Buckets | undefined = new Map();
  readonly #exactLimit: number;
  readonly #pos: Buckets = new Map();
  readonly #neg: Buckets = new Map();
  /** k6's own buckets (cloud transport), kept as k6 made them; undefined otherwise. */
  #k6: K6Buckets | undefined;
  #zeros = 0;
  #count = 0;
  #sum = 0;
  #min = 0;
  #max = 0;
  #layout: Layout | undefined;

  /** @param options.exactValues the distinct values kept exactly (tests set 0 to see buckets). */
  constructor(options: { exactValues?: number } = {}) {
    this.#exactLimit = options.exactValues ?? HISTOGRAM_EXACT_MAX_VALUES;
  }

  /**
   * Records one sample. NaN, ±Infinity and values beyond ±SAMPLE_LIMIT are
   * ignored (counted nowhere): k6's JSON output never emits the first two,
   * and any of them would poison sum and the wire.
   * -0 is recorded as 0.
   */
  add(value: number): void {
    if (!isPlausibleSample(value)) return;
    if (value === 0) value = 0;
    if (this.#k6) addK6Sample(this.#k6, value);
    else if (this.#exact) {
      bump(this.#exact, value, 1);
      if (this.#exact.size > this.#exactLimit) this.#spill();
    } else this.#bucket(value, 1);
    if (this.#count === 0) this.#min = this.#max = value;
    else if (value < this.#min) this.#min = value;
    else if (value > this.#max) this.#max = value;
    this.#count++;
    this.#sum += value;
    this.#layout = undefined;
  }

  #bucket(value: number, count: number): void {
    if (value > 0) bump(this.#pos, bucketIndex(value), count);
    else if (value < 0) bump(this.#neg, bucketIndex(-value), count);
    else this.#zeros += count;
  }

  /** Too many distinct values: from now on, buckets only. */
  #spill(): void {
    const exact = this.#exact;
    this.#exact = undefined;
    for (const [value, count] of exact ?? []) this.#bucket(value, count);
  }

  /** Adds exact values (value → count) to whichever form this histogram has. */
  #addExact(values: Iterable<[number, number]>): void {
    const exact = this.#exact;
    if (exact) {
      for (const [value, count] of values) bump(exact, value === 0 ? 0 : value, count);
      if (exact.size > this.#exactLimit) this.#spill();
    } else for (const [value, count] of values) this.#bucket(value, count);
  }

  /**
   * Adds one of k6's cloud-output histograms. An empty histogram takes k6's
   * buckets as they are and stays in k6's layout; one that already holds our
   * own buckets or exact values gets k6's bucket estimates instead (only when
   * transports are mixed).
   */
  mergeK6(k: K6HdrInput): void {
    if (k.count === 0) return;
    const own = this.#k6Layout();
    if (own) {
      for (const [index, count] of k.buckets) bump(own.buckets, index, count);
      own.low += k.low;
      own.high += k.high;
    } else {
      this.#spill();
      for (const [value, count] of k6Estimates(k)) this.#bucket(value, count);
    }
    this.#mergeTotals(0, k.count, k.sum, k.min, k.max);
  }

  /** k6's buckets, taken up by an empty histogram; undefined if this one holds our own. */
  #k6Layout(): K6Buckets | undefined {
    if (this.#count === 0 && !this.#k6) {
      this.#exact = undefined;
      this.#k6 = { buckets: new Map(), low: 0, high: 0 };
    }
    return this.#k6;
  }

  /** Our own layout from here on: k6's buckets become their estimates (mixed transports only). */
  #leaveK6(): void {
    const k6 = this.#k6;
    if (!k6) return;
    this.#k6 = undefined;
    this.#exact = undefined;
    const input = { ...k6, count: this.#count, sum: this.#sum, min: this.#min, max: this.#max };
    for (const [value, count] of k6Estimates(input)) this.#bucket(value, count);
  }

  /** Adds another histogram's samples into this one. */
  merge(other: Histogram): void {
    if (other.#count === 0) return;
    if (other.#k6) {
      this.mergeK6({ ...other.#k6, buckets: [...other.#k6.buckets], ...totalsOf(other) });
      return;
    }
    this.#leaveK6();
    if (other.#exact) this.#addExact([...other.#exact]);
    else {
      this.#spill();
      for (const [index, count] of other.#pos) bump(this.#pos, index, count);
      for (const [index, count] of other.#neg) bump(this.#neg, index, count);
    }
    this.#mergeTotals(other.#zeros, other.#count, other.#sum, other.#min, other.#max);
  }

  /**
   * Adds a wire's samples, as `merge(Histogram.fromWire(w))` without the
   * intermediate histogram. `w` must have passed histogramWireSchema (or come
   * from toWire): nothing is re-checked here. Exact values from one agent and
   * buckets from another merge into buckets: the result is exact only if all
   * samples together hold few enough distinct values, whatever the order.
   */
  mergeWire(w: HistogramWire): void {
    if (w.count === 0) return;
    if (w.k6) {
      const own = this.#k6Layout();
      if (own) {
        // Straight from the flat list: the coordinator merges every agent's trends each second.
        bumpFlat(own.buckets, w.k6);
        own.low += w.k6low ?? 0;
        own.high += w.k6high ?? 0;
        this.#mergeTotals(0, w.count, w.sum, w.min, w.max);
      } else {
        const buckets = new Map<number, number>();
        bumpFlat(buckets, w.k6);
        this.mergeK6({ buckets, low: w.k6low ?? 0, high: w.k6high ?? 0, ...totalsOf(w) });
      }
      return;
    }
    this.#leaveK6();
    if (w.exact) this.#addExact(flatPairs(w.exact));
    else {
      this.#spill();
      bumpFlat(this.#pos, w.pos);
      bumpFlat(this.#neg, w.neg);
    }
    this.#mergeTotals(w.zeros ?? 0, w.count, w.sum, w.min, w.max);
  }

  #mergeTotals(zeros: number, count: number, sum: number, min: number, max: number): void {
    if (this.#count === 0 || min < this.#min) this.#min = min;
    if (this.#count === 0 || max > this.#max) this.#max = max;
    this.#zeros += zeros;
    this.#count += count;
    this.#sum += sum;
    this.#layout = undefined;
  }

  get count(): number {
    return this.#count;
  }

  /**
   * Sum of the samples, in the order they were added and merged. Samples near
   * Number.MAX_VALUE can overflow it to ±Infinity (then the wire is refused).
   */
  get sum(): number {
    return this.#sum;
  }

  /** Smallest sample, exact; 0 when empty (k6's zero value). */
  get min(): number {
    return this.#min;
  }

  /** Largest sample, exact; 0 when empty. */
  get max(): number {
    return this.#max;
  }

  isEmpty(): boolean {
    return this.#count === 0;
  }

  /**
   * k6's TrendSink.P: rank i = fraction·(count-1), linear interpolation
   * between the values at ranks floor(i) and ceil(i). With exact values that
   * is k6's result to the bit. With buckets, rank 0 is min and rank count-1
   * is max, exactly; any other rank's value is the middle of its bucket
   * narrowed to [min, max]. 0 samples → 0, 1 sample → it.
   * Throws a RangeError unless 0 ≤ fraction ≤ 1 (k6 would index out of range).
   */
  percentile(fraction: number): number {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new RangeError(`percentile fraction must be in [0, 1], got ${fraction}`);
    }
    if (this.#count === 0) return 0;
    if (this.#count === 1) return this.#min;
    const i = fraction * (this.#count - 1);
    const floor = Math.floor(i);
    const j = this.#valueAt(floor);
    const k = this.#valueAt(Math.ceil(i));
    return j + (k - j) * (i - floor);
  }

  #valueAt(rank: number): number {
    if (rank === 0) return this.#min;
    if (rank === this.#count - 1) return this.#max;
    const { ends, estimates } = (this.#layout ??= this.#buildLayout());
    let lo = 0;
    let hi = ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((ends[mid] ?? 0) > rank) hi = mid;
      else lo = mid + 1;
    }
    return estimates[lo] ?? this.#max;
  }

  /** Buckets in ascending value order, each with its estimate. */
  #buildLayout(): Layout {
    const ends: number[] = [];
    const estimates: number[] = [];
    if (this.#k6) {
      let rank = 0;
      for (const [value, count] of k6Estimates({ ...this.#k6, ...totalsOf(this) })) {
        rank += count;
        ends.push(rank);
        estimates.push(value);
      }
      return { ends, estimates };
    }
    if (this.#exact) {
      let rank = 0;
      for (const [value, count] of sortedEntries(this.#exact)) {
        rank += count;
        ends.push(rank);
        estimates.push(value);
      }
      return { ends, estimates };
    }
    let end = 0;
    const push = (count: number, low: number, high: number) => {
      const a = Math.max(low, this.#min);
      const b = Math.min(high, this.#max);
      end += count;
      ends.push(end);
      estimates.push(a + (b - a) / 2);
    };
    for (const [index, count] of sortedEntries(this.#neg).reverse()) {
      push(count, -bucketLowerBound(index + 1), -bucketLowerBound(index));
    }
    if (this.#zeros > 0) push(this.#zeros, 0, 0);
    for (const [index, count] of sortedEntries(this.#pos)) {
      push(count, bucketLowerBound(index), bucketLowerBound(index + 1));
    }
    return { ends, estimates };
  }

  /** The compact JSON form: buckets sparse and flat (see `flatBuckets`), `zeros` only when non-zero. */
  toWire(): HistogramWire {
    if (this.#k6 && this.#count > 0) {
      const { buckets, low, high } = this.#k6;
      return {
        ...totalsOf(this),
        pos: [],
        neg: [],
        k6: flatBuckets(buckets),
        ...(low > 0 && { k6low: low }),
        ...(high > 0 && { k6high: high }),
      };
    }
    if (this.#exact && this.#count > 0) {
      const exact = sortedEntries(this.#exact).flat();
      return {
        count: this.#count,
        sum: this.#sum,
        min: this.#min,
        max: this.#max,
        pos: [],
        neg: [],
        exact,
      };
    }
    return {
      count: this.#count,
      sum: this.#sum,
      min: this.#min,
      max: this.#max,
      ...(this.#zeros > 0 && { zeros: this.#zeros }),
      pos: flatBuckets(this.#pos),
      neg: flatBuckets(this.#neg),
    };
  }

  /** A histogram holding a wire's samples; the wire must have passed histogramWireSchema. */
  static fromWire(w: HistogramWire): Histogram {
    const h = new Histogram();
    h.mergeWire(w);
    return h;
  }
}

/**
 * `Histogram.fromWire(w).percentile(fraction)` without building the
 * histogram: one walk over the flat buckets, no allocation. For the time
 * series, which read one p(95) off every agent's delta, in our layout or in
 * k6's (cloud transport). Wires with exact values or negative samples in our
 * layout take the plain path. The wire must be valid.
 */
export function wirePercentile(w: HistogramWire, fraction: number): number {
  if (w.exact || w.neg.length > 0 || w.count <= 1)
    return Histogram.fromWire(w).percentile(fraction);
  const k6 = w.k6;
  const valueAt = k6
    ? (rank: number) => k6WireValueAt(w, k6, rank)
    : (rank: number) => wireValueAt(w, rank);
  const i = fraction * (w.count - 1);
  const floor = Math.floor(i);
  const ceil = Math.ceil(i);
  const j = valueAt(floor);
  const k = ceil === floor ? j : valueAt(ceil);
  return j + (k - j) * (i - floor);
}

/** The value at `rank` of a wire in our own layout (no exact values, no negatives). */
function wireValueAt(w: HistogramWire, rank: number): number {
  if (rank === 0) return w.min;
  if (rank === w.count - 1) return w.max;
  let seen = w.zeros ?? 0;
  if (rank < seen) return 0;
  let index = 0;
  for (let b = 0; b < w.pos.length; b += 2) {
    index = b === 0 ? (w.pos[0] ?? 0) : index + (w.pos[b] ?? 0);
    seen += w.pos[b + 1] ?? 0;
    if (rank < seen) {
      const low = Math.max(bucketLowerBound(index), w.min);
      const high = Math.min(bucketLowerBound(index + 1), w.max);
      return low + (high - low) / 2;
    }
  }
  return w.max;
}

/** The value at `rank` of a wire in k6's layout, as k6Estimates and #valueAt would give it. */
function k6WireValueAt(w: HistogramWire, flat: readonly number[], rank: number): number {
  if (rank === 0) return w.min;
  if (rank === w.count - 1) return w.max;
  const narrowed = (low: number, high: number): number => {
    const a = Math.max(low, w.min);
    const b = Math.min(high, w.max);
    return a + (b - a) / 2;
  };
  let seen = w.k6low ?? 0;
  if (rank < seen) return narrowed(w.min, Math.min(0, w.max));
  let index = 0;
  for (let b = 0; b < flat.length; b += 2) {
    index = b === 0 ? (flat[0] ?? 0) : index + (flat[b] ?? 0);
    seen += flat[b + 1] ?? 0;
    if (rank < seen) {
      if (index === 0) return 0;
      const bucket = k6HdrBucket(index);
      return narrowed(bucket.low, bucket.high);
    }
  }
  return w.max;
}

/**
 * Buckets on the wire: one flat list of integers, the lowest bucket's index
 * and count, then per further bucket the gap from the previous index (≥ 1)
 * and its count: `[index₀, count₀, gap₁, count₁, …]`. Flat and
 * gap-encoded because the coordinator parses one delta per agent per second:
 * against `[index, count]` pairs this is ~20 % smaller and JSON.parse is
 * 2.6× faster, with no small array per bucket for the garbage collector
 * (BENCHMARKS.md, coordinator scale).
 */
function sortedEntries(buckets: Buckets): [number, number][] {
  return [...buckets].sort((a, b) => a[0] - b[0]);
}

function flatBuckets(buckets: Buckets): number[] {
  const sorted = sortedEntries(buckets);
  const flat = new Array<number>(sorted.length * 2);
  let previous = 0;
  sorted.forEach(([index, count], i) => {
    flat[2 * i] = i === 0 ? index : index - previous;
    flat[2 * i + 1] = count;
    previous = index;
  });
  return flat;
}

function bumpFlat(buckets: Buckets, flat: readonly number[]): void {
  let index = 0;
  for (let i = 0; i < flat.length; i += 2) {
    index = i === 0 ? (flat[0] ?? 0) : index + (flat[i] ?? 0);
    bump(buckets, index, flat[i + 1] ?? 0);
  }
}

function totalsOf(h: { count: number; sum: number; min: number; max: number }) {
  return { count: h.count, sum: h.sum, min: h.min, max: h.max };
}

/** One sample into k6's layout, as k6 itself would count it. */
function addK6Sample(k6: K6Buckets, value: number): void {
  const index = k6HdrIndex(value);
  if (index === 'low') k6.low++;
  else if (index === 'high') k6.high++;
  else bump(k6.buckets, index, 1);
}

/**
 * k6's buckets in ascending value order as [estimate, count]: each bucket's
 * middle narrowed to [min, max] (so rank 0 and the last rank read min and
 * max exactly). Negative samples, which k6 only counts, are estimated as the
 * middle of [min, 0); samples beyond k6's range as max.
 */
function k6Estimates(k: {
  buckets: Iterable<[number, number]>;
  low: number;
  high: number;
  min: number;
  max: number;
}): [number, number][] {
  const narrowed = (low: number, high: number): number => {
    const a = Math.max(low, k.min);
    const b = Math.min(high, k.max);
    return a + (b - a) / 2;
  };
  const out: [number, number][] = [];
  if (k.low > 0) out.push([narrowed(k.min, Math.min(0, k.max)), k.low]);
  for (const [index, count] of [...k.buckets].sort((a, b) => a[0] - b[0])) {
    const bucket = k6HdrBucket(index);
    out.push([index === 0 ? 0 : narrowed(bucket.low, bucket.high), count]);
  }
  if (k.high > 0) out.push([k.max, k.high]);
  return out;
}

/** `[v₀, c₀, v₁, c₁, …]` as value/count pairs. */
function* flatPairs(flat: readonly number[]): Generator<[number, number]> {
  for (let i = 0; i < flat.length; i += 2) yield [flat[i] ?? 0, flat[i + 1] ?? 0];
}

/**
 * Orders buckets by value: negatives (larger magnitude first), zero, positives.
 * Bucket indexes are below 2^18 in magnitude, so the three ranges never meet.
 */
function bucketOrder(value: number): number {
  if (value > 0) return 1e6 + bucketIndex(value);
  if (value < 0) return -1e6 - bucketIndex(-value);
  return 0;
}

/** A wire as the schema's shape check leaves it: bucket lists are arrays of unknown content. */
interface UncheckedWire {
  count: number;
  sum: number;
  min: number;
  max: number;
  zeros?: number | undefined;
  pos: readonly unknown[];
  neg: readonly unknown[];
  exact?: readonly unknown[] | undefined;
  k6?: readonly unknown[] | undefined;
  k6low?: number | undefined;
  k6high?: number | undefined;
}

interface BucketSpan {
  total: number;
  /** Lowest and highest index; NaN when there are no buckets. */
  first: number;
  last: number;
}

/**
 * The first problem with a flat bucket list (see `flatBuckets`), or its total
 * count and index span. Hand-written: a zod schema per bucket made validating
 * 256 wires of ~750 buckets cost ~60 ms.
 */
function checkBuckets(name: string, flat: readonly unknown[]): string | BucketSpan {
  if (flat.length % 2 !== 0) {
    return `${name} must hold an index and a count per bucket, but has an odd length`;
  }
  if (flat.length > 2 * HISTOGRAM_WIRE_MAX_BUCKETS) {
    return `${name} holds ${flat.length / 2} buckets, more than ${HISTOGRAM_WIRE_MAX_BUCKETS}`;
  }
  let total = 0;
  let index = NaN;
  for (let i = 0; i < flat.length; i += 2) {
    const step = flat[i];
    const count = flat[i + 1];
    if (typeof step !== 'number' || !Number.isSafeInteger(step)) {
      return `${name} must be a list of integers (index, count, gap, count, …)`;
    }
    if (i > 0 && step < 1) return `${name} bucket gaps must be at least 1 (indexes ascending)`;
    index = i === 0 ? step : index + step;
    if (index < HISTOGRAM_MIN_INDEX || index > HISTOGRAM_MAX_INDEX) {
      return `${name} bucket index ${index} is outside [${HISTOGRAM_MIN_INDEX}, ${HISTOGRAM_MAX_INDEX}]`;
    }
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) {
      return `${name} bucket ${index} has count ${String(count)}, not a positive integer`;
    }
    total += count;
  }
  const first = flat.length > 0 ? (flat[0] as number) : NaN;
  return { total, first, last: index };
}

/** Everything wrong inside a wire; toWire never produces any of it. */
function wireProblems(w: UncheckedWire): string[] {
  const problems = shapeProblems(w);
  return problems.length > 0 ? problems : totalsProblems(w);
}

/** What is wrong with the buckets or exact values, and their agreement with count, min, max. */
function shapeProblems(w: UncheckedWire): string[] {
  if (w.k6 !== undefined) return k6Problems(w, w.k6);
  if (w.k6low !== undefined || w.k6high !== undefined) {
    return ['k6low and k6high come only with k6 buckets'];
  }
  if (w.exact !== undefined) return exactProblems(w, w.exact);
  const pos = checkBuckets('pos', w.pos);
  const neg = checkBuckets('neg', w.neg);
  if (typeof pos === 'string' || typeof neg === 'string') {
    return [pos, neg].filter((p): p is string => typeof p === 'string');
  }
  const total = (w.zeros ?? 0) + pos.total + neg.total;
  if (total !== w.count) return [`count ${w.count} differs from the bucket total ${total}`];
  if (w.count === 0) {
    return w.sum === 0 && w.min === 0 && w.max === 0
      ? []
      : ['an empty histogram has sum, min and max 0'];
  }
  const zero = w.zeros ? 0 : undefined;
  const lowest = neg.total > 0 ? -1e6 - neg.last : (zero ?? 1e6 + pos.first);
  const highest = pos.total > 0 ? 1e6 + pos.last : (zero ?? -1e6 - neg.first);
  const problems: string[] = [];
  if (bucketOrder(w.min) !== lowest) problems.push(`min ${w.min} is not in the lowest bucket`);
  if (bucketOrder(w.max) !== highest) problems.push(`max ${w.max} is not in the highest bucket`);
  return problems;
}

/**
 * Problems of a wire in k6's layout: indexes within k6's range, counts adding
 * up to `count` with the extra counters, and min/max where k6 would have
 * counted them (negative min exactly when there are extra-low samples).
 */
function k6Problems(w: UncheckedWire, flat: readonly unknown[]): string[] {
  if (w.pos.length > 0 || w.neg.length > 0 || (w.zeros ?? 0) > 0 || w.exact !== undefined) {
    return ['a histogram in k6 buckets has no other buckets (pos, neg, zeros, exact)'];
  }
  const span = checkBuckets('k6', flat);
  if (typeof span === 'string') return [span];
  if (span.total > 0 && (span.first < 0 || span.last > K6_HDR_MAX_INDEX)) {
    return [`k6 bucket indexes must lie in [0, ${K6_HDR_MAX_INDEX}]`];
  }
  const low = w.k6low ?? 0;
  const high = w.k6high ?? 0;
  const total = span.total + low + high;
  if (total !== w.count) return [`count ${w.count} differs from the bucket total ${total}`];
  if (w.count === 0) return ['an empty histogram has no k6 buckets'];
  const problems: string[] = [];
  const lowest = low > 0 ? 'low' : span.total > 0 ? span.first : 'high';
  const highest = high > 0 ? 'high' : span.total > 0 ? span.last : 'low';
  if (k6HdrIndex(w.min) !== lowest) problems.push(`min ${w.min} is not in the lowest bucket`);
  if (k6HdrIndex(w.max) !== highest) problems.push(`max ${w.max} is not in the highest bucket`);
  return problems;
}

/**
 * Sum, min and max that no samples could have (issue 17.5): beyond
 * ±SAMPLE_LIMIT, min above max, or a sum outside [count·min, count·max]
 * (with the rounding a float sum of `count` samples can gather).
 */
function totalsProblems(w: UncheckedWire): string[] {
  if (!isPlausibleSample(w.min) || !isPlausibleSample(w.max)) {
    return [`min and max must lie within ±${String(SAMPLE_LIMIT)}`];
  }
  if (w.count === 0) return [];
  if (w.min > w.max) return [`min ${w.min} is above max ${w.max}`];
  const slack = w.count * Math.max(Math.abs(w.min), Math.abs(w.max)) * w.count * 2 ** -50;
  if (!(w.sum >= w.count * w.min - slack && w.sum <= w.count * w.max + slack)) {
    return [`sum ${w.sum} is outside count×min … count×max for ${w.count} samples`];
  }
  return [];
}

/**
 * The first problem with an exact wire: ascending distinct finite values with
 * positive counts adding up to `count`, min and max the first and last value,
 * no buckets beside them.
 */
function exactProblems(w: UncheckedWire, flat: readonly unknown[]): string[] {
  if (w.pos.length > 0 || w.neg.length > 0 || (w.zeros ?? 0) > 0) {
    return ['an exact histogram has no buckets (pos, neg, zeros)'];
  }
  if (flat.length % 2 !== 0)
    return ['exact must hold a value and a count per value, but has an odd length'];
  if (flat.length === 0 || flat.length > 2 * HISTOGRAM_EXACT_MAX_VALUES) {
    return [`exact must hold 1 to ${HISTOGRAM_EXACT_MAX_VALUES} values, not ${flat.length / 2}`];
  }
  let total = 0;
  for (let i = 0; i < flat.length; i += 2) {
    const value = flat[i];
    const count = flat[i + 1];
    if (typeof value !== 'number' || !Number.isFinite(value))
      return ['exact values must be finite numbers'];
    if (i > 0 && !(value > (flat[i - 2] as number)))
      return ['exact values must be strictly ascending'];
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) {
      return [`exact value ${value} has count ${String(count)}, not a positive integer`];
    }
    total += count;
  }
  const problems: string[] = [];
  if (total !== w.count) problems.push(`count ${w.count} differs from the exact total ${total}`);
  if (w.min !== flat[0]) problems.push(`min ${w.min} is not the lowest exact value`);
  if (w.max !== flat[flat.length - 2]) problems.push(`max ${w.max} is not the highest exact value`);
  return problems;
}

const bucketList = z.custom<number[]>((v) => Array.isArray(v), {
  message: 'expected a flat array of integers: index, count, then gap, count per bucket',
});

/**
 * Validates a histogram from an untrusted agent: finite numbers, integer
 * indexes in [HISTOGRAM_MIN_INDEX, HISTOGRAM_MAX_INDEX], strictly ascending
 * (gaps ≥ 1),
 * positive safe-integer counts adding up to `count`, at most
 * HISTOGRAM_WIRE_MAX_BUCKETS buckets per sign, and min/max lying in the
 * lowest/highest non-empty bucket.
 */
export const histogramWireSchema = z
  .strictObject({
    count: z.int().nonnegative(),
    sum: z.number(),
    min: z.number(),
    max: z.number(),
    zeros: z.int().nonnegative().optional(),
    pos: bucketList,
    neg: bucketList,
    /** Exact values instead of buckets: `[v₀, c₀, v₁, c₁, …]`, values ascending. */
    exact: z
      .custom<number[]>((v) => Array.isArray(v), {
        message: 'expected a flat array: value, count per distinct value',
      })
      .optional(),
    /** k6's own buckets instead (cloud transport, k6-hdr.ts): flat like `pos`. */
    k6: bucketList.optional(),
    /** k6's counts of negative samples and of samples beyond its range. */
    k6low: z.int().positive().optional(),
    k6high: z.int().positive().optional(),
  })
  .superRefine((w, ctx) => {
    for (const message of wireProblems(w)) ctx.addIssue({ code: 'custom', message });
  });

/**
 * A histogram on the wire: `pos`/`neg` are flat bucket lists (`[index₀,
 * count₀, gap₁, count₁, …]`) for positive samples and for the magnitudes of
 * negative ones; or, while there are few distinct values, `exact` lists them
 * (`[value₀, count₀, …]`) and the bucket lists are empty.
 */
export type HistogramWire = z.infer<typeof histogramWireSchema>;
