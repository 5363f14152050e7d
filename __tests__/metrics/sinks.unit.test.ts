import { describe, expect, it } from '@jest/globals';

import { Histogram } from '../../src/metrics/histogram.js';
import {
  CounterSink,
  createSink,
  GaugeSink,
  type MetricSink,
  parseTrendStat,
  RateSink,
  sinkFromWire,
  TrendSink,
  type WireSink,
  wireSinkSchema,
} from '../../src/metrics/sinks.js';
import type { MetricType } from '../../src/metrics/types.js';

const DEFAULT_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

/** Samples as [value, time ms]. */
type Samples = readonly (readonly [number, number])[];

function sinkWith<S extends MetricSink>(sink: S, samples: Samples): S {
  for (const [value, time] of samples) sink.add(value, time);
  return sink;
}

/** A fresh sink of the type holding the wires, merged in this order. */
function merged(type: MetricType, ...wires: WireSink[]): MetricSink {
  const sink = createSink(type);
  for (const w of wires) sink.mergeWire(wireSinkSchema.parse(JSON.parse(JSON.stringify(w))));
  return sink;
}

const at = (...values: number[]): Samples => values.map((v, i) => [v, 1000 + i] as const);

describe('CounterSink', () => {
  it.each<[string, Samples, number, Record<string, number>]>([
    ['sums samples, rate per second', at(1, 2, 3.5), 2000, { count: 6.5, rate: 3.25 }],
    ['rate over a fractional duration', at(1, 2, 3.5), 1500, { count: 6.5, rate: 6.5 / 1.5 }],
    ['rate 0 when the duration is 0', at(1, 2, 3.5), 0, { count: 6.5, rate: 0 }],
    ['empty: count 0, rate 0', [], 1000, { count: 0, rate: 0 }],
    ['zeros only', at(0, 0), 1000, { count: 0, rate: 0 }],
  ])('%s', (_name, samples, durationMs, values) => {
    const sink = sinkWith(new CounterSink(), samples);
    expect(sink.values(durationMs)).toEqual(values);
    expect(sink.isEmpty()).toBe(samples.length === 0);
    expect(sink.thresholdInput()).toEqual({
      type: 'counter',
      empty: samples.length === 0,
      count: values.count,
    });
  });

  it('merges agents by adding, in any order', () => {
    const a = sinkWith(new CounterSink(), at(1, 2)).toWire();
    const b = sinkWith(new CounterSink(), at(3.5)).toWire();
    expect(merged('counter', a, b).values(1000, [])).toEqual({ count: 6.5, rate: 6.5 });
    expect(merged('counter', b, a).values(1000, [])).toEqual({ count: 6.5, rate: 6.5 });
  });

  it("is not empty after a zero, as k6's First time, and that survives the wire", () => {
    const zero = sinkWith(new CounterSink(), at(0)).toWire();
    const empty = new CounterSink().toWire();
    expect(zero).toEqual({ t: 'counter', sum: 0 });
    expect(empty).toEqual({ t: 'counter', sum: 0, empty: true });
    expect(merged('counter', empty).isEmpty()).toBe(true);
    expect(merged('counter', empty, zero).isEmpty()).toBe(false);
    expect(merged('counter', zero, empty).thresholdInput()).toEqual({
      type: 'counter',
      empty: false,
      count: 0,
    });
  });

  it('ignores non-finite values', () => {
    const sink = sinkWith(new CounterSink(), at(NaN, Infinity, -Infinity));
    expect(sink.isEmpty()).toBe(true);
    expect(sink.toWire()).toEqual({ t: 'counter', sum: 0, empty: true });
  });
});

describe('GaugeSink', () => {
  it.each<[string, Samples, Record<string, number>]>([
    [
      'last by sample time, not by arrival',
      [
        [5, 1000],
        [3, 3000],
        [9, 2000],
      ],
      { value: 3, min: 3, max: 9 },
    ],
    [
      'equal times: the later add wins, as in k6',
      [
        [1, 10],
        [2, 10],
      ],
      { value: 2, min: 1, max: 2 },
    ],
    [
      'negatives',
      [
        [-4, 1],
        [-1, 2],
      ],
      { value: -1, min: -4, max: -1 },
    ],
    ['one sample', [[7.5, 0]], { value: 7.5, min: 7.5, max: 7.5 }],
    ['empty: value, min and max 0', [], { value: 0, min: 0, max: 0 }],
  ])('%s', (_name, samples, values) => {
    const sink = sinkWith(new GaugeSink(), samples);
    expect(sink.values()).toEqual(values);
    expect(sink.isEmpty()).toBe(samples.length === 0);
    expect(sink.thresholdInput()).toEqual({
      type: 'gauge',
      empty: samples.length === 0,
      value: values.value,
    });
  });

  const a = sinkWith(new GaugeSink(), [
    [7, 5000],
    [1, 4000],
  ]).toWire();
  const b = sinkWith(new GaugeSink(), [
    [4, 6000],
    [10, 5500],
  ]).toWire();

  it('merges to the latest sample in either order, with min and max over all', () => {
    expect(a).toEqual({ t: 'gauge', value: 7, time: 5000, min: 1, max: 7 });
    expect(merged('gauge', a, b).values(0, [])).toEqual({ value: 4, min: 1, max: 10 });
    expect(merged('gauge', b, a).values(0, [])).toEqual({ value: 4, min: 1, max: 10 });
    expect(merged('gauge', b, a).toWire()).toEqual({
      t: 'gauge',
      value: 4,
      time: 6000,
      min: 1,
      max: 10,
    });
  });

  it('keeps its value against an older wire, but still widens min and max', () => {
    const sink = merged('gauge', b);
    sink.mergeWire({ t: 'gauge', value: 99, time: 100, min: -5, max: 99 });
    expect(sink.values(0, [])).toEqual({ value: 4, min: -5, max: 99 });
  });

  it('keeps the value already present when a merged wire has the same time', () => {
    const one = { t: 'gauge', value: 1, time: 10, min: 1, max: 1 } as const;
    const two = { t: 'gauge', value: 2, time: 10, min: 2, max: 2 } as const;
    expect(merged('gauge', one, two).values(0, [])).toEqual({ value: 1, min: 1, max: 2 });
    expect(merged('gauge', two, one).values(0, [])).toEqual({ value: 2, min: 1, max: 2 });
  });

  it('treats an empty wire as nothing, and ignores non-finite values and times', () => {
    const empty = new GaugeSink().toWire();
    expect(empty).toEqual({ t: 'gauge', value: 0, time: 0, min: 0, max: 0, empty: true });
    expect(merged('gauge', empty).isEmpty()).toBe(true);
    // An empty wire's 0s must not become the min of negative samples.
    const negative = { t: 'gauge', value: -3, time: -1, min: -3, max: -3 } as const;
    expect(merged('gauge', empty, negative, empty).values(0, [])).toEqual({
      value: -3,
      min: -3,
      max: -3,
    });
    const sink = sinkWith(new GaugeSink(), [
      [NaN, 1],
      [5, NaN],
      [Infinity, 2],
    ]);
    expect(sink.isEmpty()).toBe(true);
  });
});

describe('RateSink', () => {
  it.each<[string, Samples, Record<string, number>, number]>([
    ['non-zero values are trues', at(1, 0, 0, 5, -1), { rate: 0.6, passes: 3, fails: 2 }, 3],
    ['all fails', at(0, 0), { rate: 0, passes: 0, fails: 2 }, 0],
    ['empty: rate 0', [], { rate: 0, passes: 0, fails: 0 }, 0],
  ])('%s', (_name, samples, values, trues) => {
    const sink = sinkWith(new RateSink(), samples);
    expect(sink.values()).toEqual(values);
    expect(sink.isEmpty()).toBe(samples.length === 0);
    expect(sink.thresholdInput()).toEqual({
      type: 'rate',
      empty: samples.length === 0,
      trues,
      total: samples.length,
    });
  });

  it('merges by adding trues and totals', () => {
    const a = sinkWith(new RateSink(), at(1, 0, 1)).toWire();
    const b = sinkWith(new RateSink(), at(0)).toWire();
    expect(a).toEqual({ t: 'rate', trues: 2, total: 3 });
    expect(merged('rate', a, b).values(0, [])).toEqual({ rate: 0.5, passes: 2, fails: 2 });
    expect(merged('rate', b, a, new RateSink().toWire()).toWire()).toEqual({
      t: 'rate',
      trues: 2,
      total: 4,
    });
  });
});

describe('TrendSink', () => {
  // k6 on [10, 20, 30, 40, 50]: i = p·4, interpolated; avg 30.
  const k6Values: Record<string, number> = {
    avg: 30,
    min: 10,
    med: 30,
    max: 50,
    count: 5,
    'p(90)': 46,
    'p(95)': 48,
    'p(12.5)': 15,
    'p(99.9)': 49.96,
    'p(0)': 10,
    'p(100)': 50,
  };
  const exactStats = ['avg', 'min', 'max', 'count', 'p(0)', 'p(100)'];

  it('gives one value per requested stat, within half a bucket of k6', () => {
    const sink = sinkWith(new TrendSink(), at(30, 10, 50, 20, 40));
    const values = sink.values(1000, Object.keys(k6Values));
    expect(Object.keys(values)).toEqual(Object.keys(k6Values));
    for (const [stat, expected] of Object.entries(k6Values)) {
      const got = values[stat] ?? NaN;
      if (exactStats.includes(stat)) expect(got).toBe(expected);
      else expect(Math.abs(got - expected)).toBeLessThanOrEqual(expected / 256);
    }
    expect(sink.values(0, ['p(90)'])).toEqual({ 'p(90)': values['p(90)'] });
  });

  it('merges agents into the same histogram as one sink', () => {
    const all = sinkWith(new TrendSink(), at(30, 10, 50, 20, 40, -3, 0));
    const a = sinkWith(new TrendSink(), at(30, 10, -3)).toWire();
    const b = sinkWith(new TrendSink(), at(50, 20, 40, 0)).toWire();
    for (const m of [merged('trend', a, b), merged('trend', b, a)]) {
      expect(m.toWire()).toEqual(all.toWire());
      expect(m.values(0, Object.keys(k6Values))).toEqual(all.values(0, Object.keys(k6Values)));
    }
  });

  it('is all zeros when empty', () => {
    const sink = new TrendSink();
    expect(sink.isEmpty()).toBe(true);
    expect(sink.values(1000, [...DEFAULT_TREND_STATS, 'count', 'p(99.99)'])).toEqual({
      avg: 0,
      min: 0,
      med: 0,
      max: 0,
      'p(90)': 0,
      'p(95)': 0,
      count: 0,
      'p(99.99)': 0,
    });
    const input = sink.thresholdInput();
    expect(input).toMatchObject({ type: 'trend', empty: true, min: 0, max: 0, avg: 0 });
    if (input.type !== 'trend') throw new Error('not a trend');
    expect(input.percentile(0.95)).toBe(0);
  });

  it('feeds thresholds min, max, avg and percentiles', () => {
    const input = sinkWith(new TrendSink(), at(1, 2, 3, 4, 100)).thresholdInput();
    expect(input).toMatchObject({ type: 'trend', empty: false, min: 1, max: 100, avg: 22 });
    if (input.type !== 'trend') throw new Error('not a trend');
    expect(input.percentile(0)).toBe(1);
    expect(input.percentile(1)).toBe(100);
    expect(input.percentile(0.5)).toBeCloseTo(3, 1);
    expect(() => input.percentile(1.5)).toThrow(RangeError);
  });

  it('rejects an invalid stat with k6 wording', () => {
    const sink = sinkWith(new TrendSink(), at(1));
    expect(() => sink.values(0, ['avg', 'p95'])).toThrow(
      "invalid trend stat 'p95', unknown format",
    );
  });
});

describe('parseTrendStat', () => {
  const h = new Histogram();
  h.add(100);
  h.add(0);

  it.each<[string, number]>([
    ['avg', 50],
    ['min', 0],
    ['med', 50],
    ['max', 100],
    ['count', 2],
    ['p(90)', 90],
    ['p(99.9)', 99.9],
    ['p(0)', 0],
    ['p(100)', 100],
    ['p(-0)', 0],
    ['p(+50)', 50],
    ['p(.5)', 0.5],
    ['p(5.)', 5],
    ['p(1e1)', 10],
    ['p(1E+1)', 10],
    ['p(1_0)', 10],
    ['p(1_2.5_0)', 12.5],
    ['p(0x1p6)', 64],
    ['p(0x1.8p4)', 24],
    ['p(0X_1P0)', 1],
    ['p(100.0000000000000001)', 100],
    ['p(1e-400)', 0],
  ])('%s → %p on [0, 100]', (stat, expected) => {
    // k6 interpolates min (0) and max (100): 100 · (N / 100).
    const exact = stat.startsWith('p(') ? 100 * (expected / 100) : expected;
    expect(parseTrendStat(stat)(h)).toBe(exact);
  });

  it.each(['P(90)', 'p90', 'p(90', 'p 90)', 'avg ', 'Med', 'mean', 'p (90)', '', 'percentile(90)'])(
    'rejects %j: unknown format',
    (stat) => {
      expect(() => parseTrendStat(stat)).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTION',
          message: `invalid trend stat '${stat}', unknown format`,
        }),
      );
    },
  );

  it.each([
    'p()',
    'p(abc)',
    'p(101)',
    'p(100.1)',
    'p(-1)',
    'p(nan)',
    'p(NaN)',
    'p(+nan)',
    'p(inf)',
    'p(-Infinity)',
    'p(1e400)',
    'p( 90)',
    'p(90 )',
    'p(1__0)',
    'p(_1)',
    'p(1_)',
    'p(1._5)',
    'p(0x10)',
    'p(0x)',
    'p(0xp1)',
    'p(0x1p)',
    'p(90%)',
  ])('rejects %j: not a number between 0 and 100', (stat) => {
    expect(() => parseTrendStat(stat)).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTION',
        message: `invalid percentile trend stat value '${stat}', provide a number between 0 and 100`,
      }),
    );
  });
});

describe('createSink and sinkFromWire', () => {
  const filled: Record<MetricType, MetricSink> = {
    counter: sinkWith(new CounterSink(), at(2, 3)),
    gauge: sinkWith(new GaugeSink(), at(2, 3)),
    rate: sinkWith(new RateSink(), at(2, 0)),
    trend: sinkWith(new TrendSink(), at(2, 3, -1, 0)),
  };

  it.each(Object.keys(filled) as MetricType[])(
    '%s: round-trips through JSON and the schema',
    (type) => {
      const empty = createSink(type);
      expect(empty.type).toBe(type);
      expect(empty.isEmpty()).toBe(true);
      const sink = filled[type];
      const back = sinkFromWire(wireSinkSchema.parse(JSON.parse(JSON.stringify(sink.toWire()))));
      expect(back.type).toBe(type);
      expect(back.isEmpty()).toBe(false);
      expect(back.toWire()).toEqual(sink.toWire());
      expect(back.values(1000, DEFAULT_TREND_STATS)).toEqual(
        sink.values(1000, DEFAULT_TREND_STATS),
      );
      expect(sinkFromWire(empty.toWire()).isEmpty()).toBe(true);
    },
  );

  it.each<[MetricType, WireSink]>([
    ['counter', { t: 'rate', trues: 1, total: 1 }],
    ['gauge', { t: 'counter', sum: 1 }],
    ['rate', { t: 'trend', h: new Histogram().toWire() }],
    ['trend', { t: 'gauge', value: 1, time: 1, min: 1, max: 1 }],
  ])('a %s sink refuses a wire of another type', (type, wire) => {
    const sink = createSink(type);
    expect(() => sink.mergeWire(wire)).toThrow(`cannot merge a ${wire.t} sink into a ${type} sink`);
    expect(sink.isEmpty()).toBe(true);
  });
});

describe('wireSinkSchema', () => {
  const trend = sinkWith(new TrendSink(), at(1, 2)).toWire();

  it.each<[string, unknown]>([
    ['a counter', { t: 'counter', sum: 3 }],
    ['a negative counter', { t: 'counter', sum: -1 }],
    ['an empty counter', { t: 'counter', sum: 0, empty: true }],
    ['a gauge', { t: 'gauge', value: 2, time: 1.7e12, min: -1, max: 2 }],
    ['an empty gauge', { t: 'gauge', value: 0, time: 0, min: 0, max: 0, empty: true }],
    ['a rate', { t: 'rate', trues: 2, total: 2 }],
    ['a trend', trend],
  ])('accepts %s', (_name, wire) => {
    expect(wireSinkSchema.safeParse(wire).error).toBeUndefined();
  });

  it.each<[string, unknown, RegExp]>([
    ['an infinite counter', { t: 'counter', sum: Infinity }, /number/],
    ['a NaN counter', { t: 'counter', sum: NaN }, /number/],
    ['a counter without sum', { t: 'counter' }, /"path":\["sum"\]/],
    ['a counter with an extra field', { t: 'counter', sum: 1, n: 1 }, /unrecognized/i],
    ['empty: false', { t: 'counter', sum: 1, empty: false }, /true/],
    [
      'a gauge value outside [min, max]',
      { t: 'gauge', value: 5, time: 1, min: 6, max: 9 },
      /within \[min, max\]/,
    ],
    [
      'a gauge with an infinite time',
      { t: 'gauge', value: 5, time: Infinity, min: 5, max: 5 },
      /"path":\["time"\]/,
    ],
    ['more trues than total', { t: 'rate', trues: 3, total: 2 }, /must not exceed total/],
    ['fractional trues', { t: 'rate', trues: 1.5, total: 2 }, /int/],
    ['negative total', { t: 'rate', trues: 0, total: -1 }, /too small|>=0/i],
    ['an unsafe total', { t: 'rate', trues: 0, total: 2 ** 53 }, /total/],
    [
      'a trend with a bad histogram',
      { t: 'trend', h: { ...trend.h, count: 3 } },
      /differs from the (bucket|exact) total/,
    ],
    ['a trend without h', { t: 'trend' }, /"path":\["h"\]/],
    ['an unknown type', { t: 'histogram', sum: 1 }, /discriminator|invalid/i],
    ['null', null, /object|invalid/i],
  ])('rejects %s', (_name, wire, message) => {
    const result = wireSinkSchema.safeParse(wire);
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toMatch(message);
  });
});
