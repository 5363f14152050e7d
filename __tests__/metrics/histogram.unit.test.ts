import { describe, expect, it } from '@jest/globals';

import {
  HISTOGRAM_EXACT_MAX_VALUES,
  HISTOGRAM_MAX_INDEX,
  HISTOGRAM_MIN_INDEX,
  HISTOGRAM_WIRE_MAX_BUCKETS,
  Histogram,
  type HistogramWire,
  histogramWireSchema,
  SAMPLE_LIMIT,
  wirePercentile,
} from '../../src/metrics/histogram.js';
import { prng } from '../helpers/random.js';

function normal(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}

const N = 20_000;
function times<T>(n: number, f: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

const DISTRIBUTIONS: Record<string, (rnd: () => number) => number[]> = {
  'uniform [0, 1000)': (rnd) => times(N, () => rnd() * 1000),
  'lognormal (mu 4, sigma 1)': (rnd) => times(N, () => Math.exp(4 + normal(rnd))),
  'bimodal 50 ms / 800 ms': (rnd) =>
    times(N, () => (rnd() < 0.7 ? 50 + 5 * normal(rnd) : 800 + 40 * normal(rnd))),
  'exponential (mean 100)': (rnd) => times(N, () => -100 * Math.log(1 - rnd())),
  'pareto (heavy tail)': (rnd) => times(N, () => (1 - rnd()) ** -1.5),
  'all zeros': () => times(1000, () => 0),
  'negatives only': (rnd) => times(N, () => -Math.exp(3 + normal(rnd))),
  'mixed sign normal(0, 100)': (rnd) => times(N, () => 100 * normal(rnd)),
  'mixed sign with zeros, integers -5..5': (rnd) => times(N, () => Math.floor(rnd() * 11) - 5),
  'one sample': () => [42.5],
  'two samples': () => [3, -7],
  'three samples': () => [0.1, 1e6, 77],
  'tiny values (~1e-9)': (rnd) => times(N, () => 1e-9 * Math.exp(normal(rnd))),
  'huge values (~1e9)': (rnd) => times(N, () => 1e9 * Math.exp(normal(rnd))),
  'integers with many duplicates 0..19': (rnd) => times(N, () => Math.floor(rnd() * 20)),
  'one value repeated': () => times(500, () => 123.456),
};

const FRACTIONS = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

/** k6's TrendSink.P (metrics/sink.go) on the raw samples. */
function k6Percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  if (sorted.length === 1) return sorted[0] ?? NaN;
  const i = fraction * (sorted.length - 1);
  const j = sorted[Math.floor(i)] ?? NaN;
  const k = sorted[Math.ceil(i)] ?? NaN;
  return j + (k - j) * (i - Math.floor(i));
}

/**
 * The error the design promises: half a bucket, 1/256 of the value, for each
 * of the two ranks k6 interpolates between. Between a negative and a positive
 * rank the interpolated value can be near 0, so there the bound is relative to
 * the larger of the two.
 */
function allowedError(sorted: readonly number[], fraction: number): number {
  const i = fraction * (sorted.length - 1);
  const j = sorted[Math.floor(i)] ?? NaN;
  const k = sorted[Math.ceil(i)] ?? NaN;
  const scale = j < 0 && k > 0 ? Math.max(-j, k) : Math.abs(k6Percentile(sorted, fraction));
  return (scale / 256) * (1 + 1e-12);
}

function histogramOf(values: readonly number[]): Histogram {
  const h = new Histogram();
  for (const v of values) h.add(v);
  return h;
}

/** A histogram that buckets from the first sample (no exact values), to see the buckets. */
function bucketsOf(values: readonly number[]): Histogram {
  const h = new Histogram({ exactValues: 0 });
  for (const v of values) h.add(v);
  return h;
}

function expectCloseToK6(h: Histogram, sorted: readonly number[], fraction: number): void {
  const exact = k6Percentile(sorted, fraction);
  const estimate = h.percentile(fraction);
  const error = Math.abs(estimate - exact);
  if (error > allowedError(sorted, fraction)) {
    throw new Error(`p(${fraction * 100}): estimate ${estimate}, k6 ${exact}, error ${error}`);
  }
  expect(error <= allowedError(sorted, fraction)).toBe(true);
}

describe('Histogram against k6 on the raw samples', () => {
  it.each(Object.entries(DISTRIBUTIONS))('%s', (_name, generate) => {
    const values = generate(prng(7));
    const h = histogramOf(values);
    const sorted = [...values].sort((a, b) => a - b);

    expect(h.count).toBe(values.length);
    expect(h.min).toBe(sorted[0]);
    expect(h.max).toBe(sorted.at(-1));
    expect(h.sum).toBe(values.reduce((s, v) => s + v, 0));
    expect(h.percentile(0)).toBe(sorted[0]);
    expect(h.percentile(1)).toBe(sorted.at(-1));
    for (const fraction of FRACTIONS) {
      expectCloseToK6(h, sorted, fraction);
      expect(h.percentile(fraction)).toBeGreaterThanOrEqual(h.min);
      expect(h.percentile(fraction)).toBeLessThanOrEqual(h.max);
    }
  });

  it('narrows buckets to [min, max]: a repeated value is exact at every percentile', () => {
    for (const v of [123.456, 1000, -0.1, 7e-9]) {
      const h = histogramOf(times(101, () => v));
      for (const f of FRACTIONS) expect(h.percentile(f)).toBe(v);
    }
  });

  it('stays within half a bucket on every rank and between ranks of small random sets', () => {
    const rnd = prng(11);
    const kinds = [
      () => rnd() * 100,
      () => (rnd() - 0.5) * 1e4,
      () => Math.floor(rnd() * 4) - 1,
      () => Math.exp(30 * (rnd() - 0.5)),
    ];
    for (let round = 0; round < 400; round++) {
      const draw = kinds[round % kinds.length] ?? (() => 0);
      const values = times(2 + Math.floor(rnd() * 40), draw);
      const h = histogramOf(values);
      const sorted = [...values].sort((a, b) => a - b);
      const n = sorted.length;
      for (let r = 0; r < n; r++) expectCloseToK6(h, sorted, r / (n - 1));
      for (let t = 0; t < 10; t++) expectCloseToK6(h, sorted, rnd());
      expect(h.percentile(0)).toBe(sorted[0]);
      expect(h.percentile(1)).toBe(sorted[n - 1]);
    }
  });

  it('is exact for 0 samples (0), 1 sample (that value) and 2 samples (k6 interpolation of min and max)', () => {
    const empty = new Histogram();
    expect(empty.isEmpty()).toBe(true);
    for (const f of FRACTIONS) expect(empty.percentile(f)).toBe(0);
    expect([empty.count, empty.sum, empty.min, empty.max]).toEqual([0, 0, 0, 0]);

    const one = histogramOf([-3.25]);
    expect(one.isEmpty()).toBe(false);
    for (const f of FRACTIONS) expect(one.percentile(f)).toBe(-3.25);

    const two = histogramOf([10.3, 2.9]);
    for (const f of FRACTIONS) expect(two.percentile(f)).toBe(k6Percentile([2.9, 10.3], f));
  });

  it('returns exactly 0 where k6 lands on zeros', () => {
    const h = histogramOf([-5, 0, 0, 0, 0, 7]);
    for (const f of [0.2, 0.3, 0.5, 0.6]) expect(h.percentile(f)).toBe(0);
  });

  it('ignores NaN and ±Infinity, and records -0 as 0', () => {
    const h = histogramOf([1, NaN, Infinity, -Infinity, 2]);
    expect(h.count).toBe(2);
    expect(h.sum).toBe(3);
    expect([h.min, h.max]).toEqual([1, 2]);

    const z = histogramOf([-0]);
    expect(Object.is(z.min, 0)).toBe(true);
    expect(Object.is(z.max, 0)).toBe(true);
    expect(z.toWire()).toEqual({
      count: 1,
      sum: 0,
      min: 0,
      max: 0,
      pos: [],
      neg: [],
      exact: [0, 1],
    });
    expect(Object.is(z.toWire().exact?.[0], 0)).toBe(true);
    expect(bucketsOf([-0]).toWire()).toEqual({
      count: 1,
      sum: 0,
      min: 0,
      max: 0,
      zeros: 1,
      pos: [],
      neg: [],
    });
  });

  it('handles the extremes it takes: subnormals and ±SAMPLE_LIMIT (issue 17.2)', () => {
    const values = [Number.MIN_VALUE, -Number.MIN_VALUE, SAMPLE_LIMIT, -SAMPLE_LIMIT, 1e-310];
    const h = histogramOf([...values, Number.MAX_VALUE, -Number.MAX_VALUE]);
    const sorted = [...values].sort((a, b) => a - b);
    // Beyond ±SAMPLE_LIMIT: counted nowhere, as NaN is.
    expect([h.min, h.max, h.count]).toEqual([-SAMPLE_LIMIT, SAMPLE_LIMIT, 5]);
    for (const f of FRACTIONS) {
      const p = h.percentile(f);
      expect(p >= h.min && p <= h.max).toBe(true);
    }
    // Ranks 0 and 4 are exact; ranks 1 (-MIN_VALUE) and 3 (1e-310) sit in subnormal
    // buckets, whose absolute width is 2^-1029.
    expect(Math.abs(h.percentile(0.25) - (sorted[1] ?? NaN))).toBeLessThan(2 ** -1029);
    expect(Math.abs(h.percentile(0.75) - (sorted[3] ?? NaN))).toBeLessThan(2 ** -1029);
    expect(histogramWireSchema.safeParse(h.toWire()).success).toBe(true);
  });

  it('rejects a fraction outside [0, 1]', () => {
    const h = histogramOf([1, 2, 3]);
    for (const f of [-0.01, 1.01, NaN, Infinity]) expect(() => h.percentile(f)).toThrow(RangeError);
  });
});

describe('Histogram buckets', () => {
  it('splits each power of two into 128 buckets indexed from 1.0 = 0', () => {
    const index = (v: number) => bucketsOf([v]).toWire().pos[0];
    expect(index(1)).toBe(0);
    expect(index(1 + 1 / 256)).toBe(0);
    expect(index(1 + 1 / 128)).toBe(1);
    expect(index(2 - 1e-12)).toBe(127);
    expect(index(2)).toBe(128);
    expect(index(1000)).toBe(9 * 128 + 122); // 1000 = 2^9 · (1 + 122.0/128)
    expect(index(0.5)).toBe(-128);
    expect(index(SAMPLE_LIMIT)).toBe(332 * 128 + 18); // 1e100 = 2^332 · (1 + 18.3/128)
    expect(bucketsOf([Number.MAX_VALUE]).count).toBe(0);
    expect(index(Number.MIN_VALUE)).toBe(HISTOGRAM_MIN_INDEX);
    expect(bucketsOf([-1000]).toWire().neg).toEqual([index(1000), 1]);
  });

  it('writes a compact, sorted, sparse wire: first index and count, then gap and count', () => {
    const h = bucketsOf([3, 1, 3, -2, 0, 0, 1000, -2.5]);
    expect(h.toWire()).toEqual({
      count: 8,
      sum: 1002.5,
      min: -2.5,
      max: 1000,
      zeros: 2,
      // buckets 0 (×1), 192 (×2), 1274 (×1)
      pos: [0, 1, 192, 2, 1082, 1],
      // buckets 128 (×1), 160 (×1)
      neg: [128, 1, 32, 1],
    });
    expect(new Histogram().toWire()).toEqual({
      count: 0,
      sum: 0,
      min: 0,
      max: 0,
      pos: [],
      neg: [],
    });
  });
});

/** Everything but the floating sum (zeroed), which depends on the merge order. */
function canonical(h: Histogram): HistogramWire {
  return { ...h.toWire(), sum: 0 };
}

function split(values: readonly number[], parts: number, rnd: () => number): Histogram[] {
  const histograms = times(parts, () => new Histogram());
  for (const v of values) histograms[Math.floor(rnd() * (parts - 1))]?.add(v);
  return histograms; // the last part stays empty on purpose
}

function foldMerge(parts: readonly Histogram[]): Histogram {
  const acc = new Histogram();
  for (const p of parts) acc.merge(p);
  return acc;
}

function treeMerge(parts: readonly Histogram[]): Histogram {
  if (parts.length === 1) return foldMerge(parts);
  const half = Math.ceil(parts.length / 2);
  const acc = treeMerge(parts.slice(0, half));
  acc.merge(treeMerge(parts.slice(half)));
  return acc;
}

function shuffled<T>(items: readonly T[], rnd: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('Histogram merge', () => {
  const rnd = prng(2024);
  const values = [
    ...times(3000, () => Math.exp(4 + normal(rnd))),
    ...times(1000, () => -Math.exp(2 + normal(rnd))),
    ...times(200, () => 0),
    ...times(800, () => Math.floor(rnd() * 50)),
  ];
  const whole = histogramOf(values);

  it.each([3, 7, 16])('gives the same histogram in any order and grouping (%i parts)', (k) => {
    const parts = split(values, k, rnd);
    const viaWire = (ps: readonly Histogram[]) => {
      const acc = new Histogram();
      for (const p of ps)
        acc.mergeWire(histogramWireSchema.parse(JSON.parse(JSON.stringify(p.toWire()))));
      return acc;
    };
    const merged = [
      foldMerge(parts),
      foldMerge([...parts].reverse()),
      foldMerge(shuffled(parts, rnd)),
      treeMerge(shuffled(parts, rnd)),
      foldMerge(parts.map((p) => Histogram.fromWire(p.toWire()))),
      viaWire(shuffled(parts, rnd)),
    ];
    for (const m of merged) {
      expect(canonical(m)).toEqual(canonical(whole));
      expect(Math.abs(m.sum - whole.sum)).toBeLessThanOrEqual(1e-9 * Math.abs(whole.sum));
      for (let f = 0; f <= 1; f += 1 / 97) expect(m.percentile(f)).toBe(whole.percentile(f));
      for (const f of FRACTIONS) expect(m.percentile(f)).toBe(whole.percentile(f));
    }
  });

  it('is associative and leaves its argument unchanged', () => {
    const [a, b, c] = split(values, 4, rnd);
    if (!a || !b || !c) throw new Error('unreachable');
    const before = b.toWire();
    const left = foldMerge([a, b]);
    left.merge(c);
    const bc = foldMerge([b, c]);
    const right = foldMerge([a]);
    right.merge(bc);
    expect(canonical(left)).toEqual(canonical(right));
    expect(b.toWire()).toEqual(before);
  });

  it('merges empty histograms as no-ops, and into an empty one as a copy', () => {
    const h = histogramOf([5, -1, 0]);
    const before = h.toWire();
    h.merge(new Histogram());
    h.mergeWire(new Histogram().toWire());
    expect(h.toWire()).toEqual(before);

    const copy = new Histogram();
    copy.merge(h);
    expect(copy.toWire()).toEqual(before);
    // min and max come from the wire, not from a previous (empty) 0.
    const positive = new Histogram();
    positive.mergeWire(histogramOf([5, 9]).toWire());
    expect([positive.min, positive.max]).toEqual([5, 9]);
    const negative = new Histogram();
    negative.mergeWire(histogramOf([-5, -9]).toWire());
    expect([negative.min, negative.max]).toEqual([-9, -5]);
  });

  it('doubles every count when merged with itself', () => {
    const h = bucketsOf([1, 2, 2, -3, 0]);
    h.merge(h);
    expect(h.toWire()).toEqual({
      count: 10,
      sum: 4,
      min: -3,
      max: 2,
      zeros: 2,
      pos: [0, 2, 128, 4],
      neg: [192, 2],
    });
  });

  it('round-trips through the wire and JSON exactly, sum included', () => {
    const wire = JSON.parse(JSON.stringify(whole.toWire())) as unknown;
    const back = Histogram.fromWire(histogramWireSchema.parse(wire));
    expect(back.toWire()).toEqual(whole.toWire());
    for (const f of FRACTIONS) expect(back.percentile(f)).toBe(whole.percentile(f));
  });

  it('invalidates cached percentiles when samples arrive', () => {
    const h = histogramOf([1, 2, 3, 4]);
    expect(h.percentile(0.5)).toBeCloseTo(2.5, 1);
    h.add(100);
    h.add(100);
    h.add(100);
    expect(h.percentile(0.75)).toBeCloseTo(100, 0);
    h.mergeWire(histogramOf([200, 200, 200, 200]).toWire());
    expect(h.percentile(0.5)).toBeCloseTo(100, 0);
  });
});

describe('wirePercentile', () => {
  it('reads the same percentile off the wire as percentile() does', () => {
    const rnd = prng(5);
    const latencies = times(5_000, () => 20 * Math.exp(normal(rnd)));
    const h = histogramOf([...latencies, 0, 0]);
    const wire = h.toWire();
    for (const f of [0, 0.0001, 0.001, 0.5, 0.9, 0.95, 0.99, 0.9999, 1]) {
      expect(wirePercentile(wire, f)).toBe(h.percentile(f));
    }
    for (const few of [[], [7], [0, 0, 3]]) {
      expect(wirePercentile(histogramOf(few).toWire(), 0.95)).toBe(
        histogramOf(few).percentile(0.95),
      );
    }
  });

  it('takes the exact path for negative samples', () => {
    const h = histogramOf([-5, -1, 2, 3]);
    expect(wirePercentile(h.toWire(), 0.25)).toBe(h.percentile(0.25));
  });
});

describe('histogramWireSchema', () => {
  const valid: HistogramWire = bucketsOf([-2.5, -2, 0, 0, 1, 3, 3, 1000]).toWire();
  /** Buckets 0 … n−1, one sample each. */
  const wideBuckets = (n: number) => times(n, (i) => [i === 0 ? 0 : 1, 1]).flat();
  /** `valid.pos` with its first bucket (index 0, count 1) replaced by `bucket`. */
  const firstPos = (...bucket: unknown[]) => [...bucket, ...valid.pos.slice(2)];
  const topOf = (index: number) => 2 ** Math.floor(index / 128) * (1 + (index % 128) / 128);

  it.each([
    ['a toWire() result', valid],
    ['an empty histogram', new Histogram().toWire()],
    ['zeros only', histogramOf([0, 0]).toWire()],
    ['negatives only', histogramOf([-1, -8]).toWire()],
    ['zeros: 0 written out', { ...histogramOf([4]).toWire(), zeros: 0 }],
    [
      `exactly ${HISTOGRAM_WIRE_MAX_BUCKETS} buckets per sign`,
      {
        count: 2 * HISTOGRAM_WIRE_MAX_BUCKETS,
        sum: 0,
        min: -topOf(HISTOGRAM_WIRE_MAX_BUCKETS - 1),
        max: topOf(HISTOGRAM_WIRE_MAX_BUCKETS - 1),
        pos: wideBuckets(HISTOGRAM_WIRE_MAX_BUCKETS),
        neg: wideBuckets(HISTOGRAM_WIRE_MAX_BUCKETS),
      },
    ],
  ])('accepts %s', (_name, wire) => {
    expect(histogramWireSchema.safeParse(wire).error).toBeUndefined();
  });

  it.each<[string, unknown, RegExp]>([
    ['infinite sum', { ...valid, sum: Infinity }, /number/i],
    ['NaN min', { ...valid, min: NaN }, /number/i],
    ['infinite max', { ...valid, max: Infinity }, /number/i],
    ['negative count', { ...valid, count: -8 }, /too small|>=0/i],
    ['fractional count', { ...valid, count: 7.5 }, /int/i],
    ['count as a string', { ...valid, count: '8' }, /number/i],
    ['count above the bucket total', { ...valid, count: 9 }, /differs from the bucket total 8/],
    ['count below the bucket total', { ...valid, count: 7 }, /differs from the bucket total 8/],
    ['negative zeros', { ...valid, zeros: -2 }, /too small|>=0/i],
    ['fractional zeros', { ...valid, zeros: 1.5 }, /int/i],
    ['non-integer index', { ...valid, pos: firstPos(0.5, 1) }, /list of integers/],
    ['index as a string', { ...valid, pos: firstPos('0', 1) }, /list of integers/],
    ['gap as a string', { ...valid, pos: [0, 1, '192', 2, 1082, 1] }, /list of integers/],
    [
      'index above the largest',
      { ...valid, pos: [...valid.pos.slice(0, -2), HISTOGRAM_MAX_INDEX, 1] },
      /outside/,
    ],
    [
      'index below the smallest',
      { ...valid, neg: [HISTOGRAM_MIN_INDEX - 1, 1, 128 - HISTOGRAM_MIN_INDEX + 1, 1, 32, 1] },
      /outside/,
    ],
    ['zero bucket count', { ...valid, pos: firstPos(0, 0) }, /not a positive integer/],
    ['negative bucket count', { ...valid, pos: firstPos(0, -1) }, /not a positive integer/],
    ['fractional bucket count', { ...valid, pos: firstPos(0, 0.5) }, /not a positive integer/],
    ['unsafe bucket count', { ...valid, pos: firstPos(0, 2 ** 53) }, /not a positive integer/],
    ['a count missing (odd length)', { ...valid, pos: valid.pos.slice(0, -1) }, /odd length/],
    [
      'a bucket as a pair',
      { ...valid, pos: [[0, 1], 1, ...valid.pos.slice(2)] },
      /list of integers/,
    ],
    ['a bucket as an object', { ...valid, pos: firstPos({ index: 0 }, 1) }, /list of integers/],
    ['buckets not an array', { ...valid, neg: { 128: 1 } }, /flat array of integers/],
    ['duplicate index (gap 0)', { ...valid, pos: [0, 1, 0, 1, 192, 1, 1082, 1] }, /at least 1/],
    ['descending indexes', { ...valid, neg: [160, 1, -32, 1] }, /at least 1/],
    [
      'too many buckets',
      {
        ...valid,
        count: HISTOGRAM_WIRE_MAX_BUCKETS + 1,
        pos: wideBuckets(HISTOGRAM_WIRE_MAX_BUCKETS + 1),
      },
      /more than 16384/,
    ],
    ['min below its bucket', { ...valid, min: -3 }, /min -3 is not in the lowest bucket/],
    ['min not the lowest sample', { ...valid, min: 0 }, /min 0 is not in the lowest bucket/],
    ['max not the highest sample', { ...valid, max: 3 }, /max 3 is not in the highest bucket/],
    ['min above max', { ...valid, min: 1000, max: -2.5 }, /not in the lowest bucket/],
    [
      'an empty histogram with a sum',
      { count: 0, sum: 1, min: 0, max: 0, pos: [], neg: [] },
      /empty/,
    ],
    [
      'an empty histogram with a max',
      { count: 0, sum: 0, min: 0, max: 4, pos: [], neg: [] },
      /empty/,
    ],
    ['an unknown field', { ...valid, p99: 3 }, /unrecognized key/i],
    ['a missing bucket list', { count: 0, sum: 0, min: 0, max: 0, pos: [] }, /neg/],
    ['not an object', [1, 2, 3], /object/i],
  ])('rejects %s', (_name, wire, message) => {
    const result = histogramWireSchema.safeParse(wire);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(message);
  });
});

describe('issue 16.6: a trend of few distinct values gets k6 exact percentiles', () => {
  /** Sorts the samples and checks every rank, between ranks and random fractions: exact, to the bit. */
  function expectExactlyK6(h: Histogram, values: readonly number[], rnd: () => number): void {
    const sorted = [...values].sort((a, b) => a - b);
    const n = sorted.length;
    const fractions = [...FRACTIONS, ...times(20, () => rnd())];
    if (n > 1) for (let r = 0; r < n; r += Math.ceil(n / 50)) fractions.push(r / (n - 1));
    for (const f of fractions) {
      const got = h.percentile(f);
      const want = k6Percentile(sorted, f);
      if (got !== want) throw new Error(`p(${f * 100}) of ${n} samples: ${got}, k6 ${want}`);
    }
    expect([h.count, h.min, h.max]).toEqual([n, sorted[0] ?? 0, sorted[n - 1] ?? 0]);
  }

  /** `distinct` random values of one kind, then `n` samples drawn from them. */
  function discrete(rnd: () => number, distinct: number, n: number): number[] {
    const kinds = [
      () => Math.floor(rnd() * 1000),
      () => 2 ** Math.floor(rnd() * 20),
      () => (rnd() - 0.5) * 1e3,
      () => Math.round((rnd() - 0.3) * 10) / 4,
      () => 1e-6 * Math.floor(rnd() * 1e6),
    ];
    const kind = kinds[Math.floor(rnd() * kinds.length)] ?? (() => 0);
    const pool = [...new Set(times(distinct, kind))];
    return times(n, () => pool[Math.floor(rnd() * pool.length)] ?? 0);
  }

  it('gives med=256 for the samples 128, 256 and 512 (the histogram gave 257)', () => {
    const h = histogramOf([128, 256, 512]);
    expect(h.percentile(0.5)).toBe(256);
    expect(h.percentile(0.9)).toBe(k6Percentile([128, 256, 512], 0.9));
    expect(wirePercentile(h.toWire(), 0.5)).toBe(256);
  });

  it(`equals k6 TrendSink.P to the bit up to ${HISTOGRAM_EXACT_MAX_VALUES} distinct values (random sets)`, () => {
    const rnd = prng(166);
    for (let round = 0; round < 300; round++) {
      const distinct = 1 + Math.floor(rnd() * HISTOGRAM_EXACT_MAX_VALUES);
      const values = discrete(rnd, distinct, 1 + Math.floor(rnd() * 3000));
      const h = histogramOf(values);
      expect(h.toWire().exact).toBeDefined();
      expectExactlyK6(h, values, rnd);
    }
  });

  it('stays exact through any split into agents, wire and JSON, in any merge order', () => {
    const rnd = prng(616);
    for (let round = 0; round < 60; round++) {
      const values = discrete(rnd, 1 + Math.floor(rnd() * 200), 500 + Math.floor(rnd() * 500));
      const parts = split(values, 2 + Math.floor(rnd() * 6), rnd);
      const merged = new Histogram();
      for (const p of shuffled(parts, rnd)) {
        merged.mergeWire(histogramWireSchema.parse(JSON.parse(JSON.stringify(p.toWire()))));
      }
      expectExactlyK6(merged, values, rnd);
      expect(canonical(treeMerge(shuffled(parts, rnd)))).toEqual(canonical(merged));
      expect(canonical(merged)).toEqual(canonical(histogramOf(values)));
    }
  });

  it('merges agents that sent exact values with agents that sent buckets, in any order', () => {
    const rnd = prng(6166);
    for (let round = 0; round < 40; round++) {
      // Agents with few distinct values (exact) beside agents past the bound (buckets).
      const exactAgents = times(1 + Math.floor(rnd() * 3), () =>
        discrete(rnd, 1 + Math.floor(rnd() * 100), 1 + Math.floor(rnd() * 500)),
      );
      const bucketAgents = times(1 + Math.floor(rnd() * 3), () =>
        times(3000, () => Math.exp(4 + normal(rnd))),
      );
      const agents = [...exactAgents, ...bucketAgents].map(histogramOf);
      const wires = agents.map((a) => a.toWire());
      expect(wires.map((w) => w.exact !== undefined)).toEqual([
        ...exactAgents.map(() => true),
        ...bucketAgents.map(() => false),
      ]);
      const values = [...exactAgents, ...bucketAgents].flat();
      const sorted = [...values].sort((a, b) => a - b);
      const whole = histogramOf(values);
      for (let order = 0; order < 4; order++) {
        const merged = new Histogram();
        for (const w of shuffled(wires, rnd)) merged.mergeWire(w);
        expect(merged.toWire().exact).toBeUndefined();
        expect(canonical(merged)).toEqual(canonical(whole));
        expect(canonical(treeMerge(shuffled(agents, rnd)))).toEqual(canonical(whole));
        for (const f of FRACTIONS) expectCloseToK6(merged, sorted, f);
      }
    }
  });

  it(`keeps exactly ${HISTOGRAM_EXACT_MAX_VALUES} distinct values exact; one more gives buckets`, () => {
    const atBound = times(HISTOGRAM_EXACT_MAX_VALUES, (i) => 1000 + i * 0.37);
    const h = histogramOf([...atBound, ...atBound]);
    expect(h.toWire().exact).toHaveLength(2 * HISTOGRAM_EXACT_MAX_VALUES);
    expectExactlyK6(h, [...atBound, ...atBound], prng(1));

    // Two exact halves whose union passes the bound merge into buckets, as one histogram of all.
    const low = histogramOf(atBound.slice(0, 200));
    const high = histogramOf([...atBound.slice(100), 5000]);
    low.merge(high);
    const all = [...atBound.slice(0, 200), ...atBound.slice(100), 5000];
    expect(low.toWire().exact).toBeUndefined();
    expect(canonical(low)).toEqual(canonical(histogramOf(all)));
    const sorted = [...all].sort((a, b) => a - b);
    for (const f of FRACTIONS) expectCloseToK6(low, sorted, f);
  });

  it('reads exact percentiles off an exact wire (the time series path)', () => {
    const values = [0, 0, 3, 3, 3, 9.5, -1];
    const wire = histogramOf(values).toWire();
    const sorted = [...values].sort((a, b) => a - b);
    for (const f of FRACTIONS) expect(wirePercentile(wire, f)).toBe(k6Percentile(sorted, f));
  });

  const exactWire = histogramOf([1, 2, 2, 8.5]).toWire();
  it.each<[string, unknown, RegExp]>([
    ['buckets beside exact values', { ...exactWire, pos: [0, 1] }, /no buckets/],
    ['zeros beside exact values', { ...exactWire, zeros: 1 }, /no buckets/],
    ['descending values', { ...exactWire, exact: [2, 2, 1, 1, 8.5, 1] }, /strictly ascending/],
    ['a repeated value', { ...exactWire, exact: [1, 1, 2, 1, 2, 1, 8.5, 1] }, /strictly ascending/],
    ['a non-finite value', { ...exactWire, exact: [1, 1, 2, 2, null, 1] }, /finite/],
    ['a value as a string', { ...exactWire, exact: ['1', 1, 2, 2, 8.5, 1] }, /finite/],
    ['a zero count', { ...exactWire, exact: [1, 0, 2, 2, 8.5, 2] }, /positive integer/],
    ['a fractional count', { ...exactWire, exact: [1, 0.5, 2, 2, 8.5, 1.5] }, /positive integer/],
    ['an odd length', { ...exactWire, exact: [1, 1, 2, 2, 8.5] }, /odd length/],
    ['count off the exact total', { ...exactWire, count: 5 }, /differs from the exact total 4/],
    ['min not the lowest value', { ...exactWire, min: 0 }, /min 0 is not the lowest/],
    ['max not the highest value', { ...exactWire, max: 9 }, /max 9 is not the highest/],
    ['no values', { count: 0, sum: 0, min: 0, max: 0, pos: [], neg: [], exact: [] }, /1 to/],
    [
      'more values than the bound',
      {
        count: HISTOGRAM_EXACT_MAX_VALUES + 1,
        sum: 0,
        min: 0,
        max: HISTOGRAM_EXACT_MAX_VALUES,
        pos: [],
        neg: [],
        exact: times(HISTOGRAM_EXACT_MAX_VALUES + 1, (i) => [i, 1]).flat(),
      },
      /1 to 256/,
    ],
    ['exact not an array', { ...exactWire, exact: { 1: 1 } }, /flat array/],
  ])('the wire schema rejects %s', (_name, wire, message) => {
    expect(histogramWireSchema.safeParse(exactWire).error).toBeUndefined();
    const result = histogramWireSchema.safeParse(wire);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(message);
  });
});
