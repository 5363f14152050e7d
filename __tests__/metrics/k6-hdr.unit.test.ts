/**
 * Issue 18: k6's cloud-output histogram layout (k6-hdr.ts) and our Histogram
 * holding k6's buckets as they are.
 */
import { describe, expect, it } from '@jest/globals';

import {
  Histogram,
  histogramWireSchema,
  type HistogramWire,
  type K6HdrInput,
  wirePercentile,
} from '../../src/metrics/histogram.js';
import { K6_HDR_MAX_INDEX, k6HdrBucket, k6HdrIndex } from '../../src/metrics/k6-hdr.js';
import { prng } from '../helpers/random.js';

/**
 * The index as k6's source describes it, computed on integers: u the sample
 * in µs rounded up; below 256 u itself, else (n - 7) << 7 plus u's top 8
 * bits, n the index of u's highest bit.
 */
function referenceIndex(value: number): number | 'low' | 'high' {
  const scaled = value / 0.001;
  if (scaled < 0) return 'low';
  if (scaled > 2 ** 63) return 'high';
  const u = BigInt(Math.ceil(scaled));
  if (u < 256n) return Number(u);
  const n = BigInt(u.toString(2).length - 1);
  return Number(((n - 7n) << 7n) + (u >> (n - 7n)));
}

/** What one k6 aggregation bucket would push for these samples. */
function k6Push(samples: readonly number[]): K6HdrInput {
  const buckets = new Map<number, number>();
  let low = 0;
  let high = 0;
  for (const v of samples) {
    const i = k6HdrIndex(v);
    if (i === 'low') low++;
    else if (i === 'high') high++;
    else buckets.set(i, (buckets.get(i) ?? 0) + 1);
  }
  return {
    buckets: [...buckets],
    low,
    high,
    count: samples.length,
    sum: samples.reduce((a, b) => a + b, 0),
    min: Math.min(...samples),
    max: Math.max(...samples),
  };
}

function k6Percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 1) return sorted[0] ?? NaN;
  const i = fraction * (sorted.length - 1);
  const j = sorted[Math.floor(i)] ?? NaN;
  const k = sorted[Math.ceil(i)] ?? NaN;
  return j + (k - j) * (i - Math.floor(i));
}

/** The README's bound: 1/256 of the value above 0.256 units, 0.5 µs below. */
function bound(exact: number): number {
  return Math.abs(exact) / 256 + 0.0005 + 1e-12;
}

const FRACTIONS = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

describe('issue 18: k6HdrIndex is where k6 counts a sample', () => {
  it('issue 18: agrees with k6 integer formula at every power-of-two edge and on random values', () => {
    const values: number[] = [0, 0.0001, 0.001, 0.0011, 0.255, 0.256, 0.2561, 1, 1000, 9.2e15];
    for (let bit = 8; bit < 63; bit++) {
      const u = 2 ** bit;
      values.push((u - 1) * 0.001, u * 0.001, (u + 1) * 0.001);
    }
    const rnd = prng(18);
    for (let i = 0; i < 20_000; i++) values.push(Math.exp(rnd() * 40 - 10));
    for (const v of values) expect([v, k6HdrIndex(v)]).toEqual([v, referenceIndex(v)]);
    expect(k6HdrIndex(-0.5)).toBe('low');
    expect(k6HdrIndex(1e17)).toBe('high');
    expect(k6HdrIndex(2 ** 63 * 0.001)).toBe(K6_HDR_MAX_INDEX);
  });

  it('issue 18: every bucket holds its samples, its middle within the stated bound', () => {
    const rnd = prng(7);
    for (let i = 0; i < 20_000; i++) {
      const v = Math.exp(rnd() * 30 - 12);
      const index = k6HdrIndex(v) as number;
      const b = k6HdrBucket(index);
      expect(v > b.low && v <= b.high).toBe(true);
      expect(Math.abs(b.middle - v)).toBeLessThanOrEqual(bound(v));
    }
    expect(k6HdrBucket(0)).toEqual({ low: 0, high: 0, middle: 0 });
  });
});

describe('issue 18: Histogram holding k6 buckets', () => {
  const rnd = prng(42);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const cases: Record<string, number[]> = {
    'lognormal latencies': Array.from({ length: 20_000 }, () => Math.exp(3 + normal())),
    'bimodal 50 ms / 800 ms': Array.from({ length: 20_000 }, () =>
      rnd() < 0.7 ? 50 + 5 * Math.abs(normal()) : 800 + 40 * Math.abs(normal()),
    ),
    'sub-millisecond': Array.from({ length: 5_000 }, () => rnd() * 0.3),
    'with zeros': Array.from({ length: 5_000 }, (_, i) => (i % 3 === 0 ? 0 : rnd() * 100)),
  };

  it.each(Object.entries(cases))(
    'issue 18: %s: merged pushes give k6 percentiles within the bound; count, min, max exact',
    (_, samples) => {
      const h = new Histogram();
      for (let at = 0; at < samples.length; at += 3_000) {
        h.mergeK6(k6Push(samples.slice(at, at + 3_000)));
      }
      const sorted = [...samples].sort((a, b) => a - b);
      expect(h.count).toBe(samples.length);
      expect(h.min).toBe(sorted[0]);
      expect(h.max).toBe(sorted.at(-1));
      for (const f of FRACTIONS) {
        const exact = k6Percentile(sorted, f);
        expect([f, Math.abs(h.percentile(f) - exact) <= bound(exact)]).toEqual([f, true]);
      }
      // Through the wire and merged again at the coordinator: the same buckets.
      const wire = histogramWireSchema.parse(h.toWire());
      expect(wire.k6?.length).toBeGreaterThan(0);
      const merged = new Histogram();
      merged.mergeWire(wire);
      for (const f of FRACTIONS) expect(merged.percentile(f)).toBe(h.percentile(f));
    },
  );

  it.each(Object.entries(cases))(
    'issue 18: %s: the time series reads p(95) off a k6 wire as the merged histogram gives it',
    (_, samples) => {
      const h = new Histogram();
      h.mergeK6(k6Push(samples));
      const wire = histogramWireSchema.parse(h.toWire());
      for (const f of FRACTIONS) expect([f, wirePercentile(wire, f)]).toEqual([f, h.percentile(f)]);
    },
  );

  it('issue 18: a k6 wire read directly: zeros, extra low and high counters, one bucket', () => {
    for (const samples of [
      [0, 0, 0, 5],
      [-5, -1, 0, 2, 3, 4],
      [1, 1e17, 2e17],
      [7, 7, 7],
    ]) {
      const h = new Histogram();
      h.mergeK6(k6Push(samples));
      const wire = histogramWireSchema.parse(h.toWire());
      for (const f of FRACTIONS) {
        expect([samples, f, wirePercentile(wire, f)]).toEqual([samples, f, h.percentile(f)]);
      }
    }
  });

  it('issue 18: merging k6 wires one after another gives what merging their pushes gives', () => {
    const samples = cases['lognormal latencies'] ?? [];
    const byPush = new Histogram();
    const byWire = new Histogram();
    for (let at = 0; at < samples.length; at += 2_500) {
      const push = k6Push(samples.slice(at, at + 2_500));
      byPush.mergeK6(push);
      const one = new Histogram();
      one.mergeK6(push);
      byWire.mergeWire(histogramWireSchema.parse(one.toWire()));
    }
    expect(byWire.toWire()).toEqual(byPush.toWire());
  });

  it('issue 18: negative samples (one extra-low counter in k6) stay within [min, max]', () => {
    const h = new Histogram();
    h.mergeK6(k6Push([-5, -1, 2, 3, 4]));
    expect(h.toWire()).toMatchObject({ k6low: 2, min: -5, max: 4, count: 5 });
    expect(h.percentile(0)).toBe(-5);
    expect(h.percentile(1)).toBe(4);
    const p25 = h.percentile(0.25);
    expect(p25).toBeGreaterThanOrEqual(-5);
    expect(p25).toBeLessThan(0);
  });

  it('issue 18: a histogram of our own layout takes k6 buckets as their estimates (mixed transports)', () => {
    const samples = Array.from({ length: 2_000 }, (_, i) => 1 + i * 0.37);
    const h = new Histogram();
    for (const v of samples.slice(0, 1_000)) h.add(v);
    h.mergeK6(k6Push(samples.slice(1_000)));
    expect(h.count).toBe(2_000);
    expect(h.toWire().k6).toBeUndefined();
    const sorted = [...samples].sort((a, b) => a - b);
    for (const f of FRACTIONS) {
      const exact = k6Percentile(sorted, f);
      // Rounded twice: k6's bucket, then ours.
      expect(Math.abs(h.percentile(f) - exact)).toBeLessThanOrEqual(2 * bound(exact));
    }
  });

  const valid = (): HistogramWire => {
    const h = new Histogram();
    h.mergeK6(k6Push([1, 2, 3, 250]));
    return h.toWire();
  };

  it.each<[string, (w: HistogramWire) => HistogramWire, RegExp]>([
    [
      'an index beyond k6 range',
      (w) => ({ ...w, k6: [K6_HDR_MAX_INDEX + 1, 4] }),
      /k6 bucket indexes/,
    ],
    ['a count that does not add up', (w) => ({ ...w, count: 5 }), /differs from the bucket total/],
    ['min outside the lowest bucket', (w) => ({ ...w, min: 0.5 }), /min 0.5 is not in the lowest/],
    [
      'max outside the highest bucket',
      (w) => ({ ...w, max: 900 }),
      /max 900 is not in the highest/,
    ],
    [
      'extra-low samples with a positive min',
      (w) => ({ ...w, k6low: 1, count: 5 }),
      /min 1 is not/,
    ],
    ['k6 buckets beside our own', (w) => ({ ...w, pos: [10, 1] }), /no other buckets/],
    [
      'k6low without k6 buckets',
      (w) => ({ ...w, k6: undefined, k6low: 1 }),
      /only with k6 buckets/,
    ],
  ])('issue 18: the coordinator refuses a k6 wire with %s', (_, change, message) => {
    expect(histogramWireSchema.safeParse(valid()).success).toBe(true);
    const result = histogramWireSchema.safeParse(change(valid()));
    expect(result.success).toBe(false);
    expect(result.error?.message).toMatch(message);
  });
});
