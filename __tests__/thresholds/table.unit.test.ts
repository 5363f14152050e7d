/**
 * Every aggregation × operator × metric type, evaluated on real merged sinks
 * and checked against expectations computed here from the raw samples with
 * k6's own formulas (metrics/sink.go), independent of src/.
 */
import { describe, expect, it } from '@jest/globals';

import { createSink } from '../../src/metrics/sinks.js';
import type { MetricType } from '../../src/metrics/types.js';
import { parseThresholdsOption } from '../../src/thresholds/config.js';
import { ThresholdEvaluator } from '../../src/thresholds/evaluate.js';
import { parseThresholdExpression, validateForType } from '../../src/thresholds/parse.js';

const OPERATORS = ['<', '<=', '>', '>=', '==', '===', '!='] as const;
type Op = (typeof OPERATORS)[number];
const DURATION_MS = 2_000;

/** k6's TrendSink.P: linear interpolation between the sorted samples. */
function k6Percentile(samples: readonly number[], pct: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 1) return sorted[0] ?? 0;
  const i = pct * (sorted.length - 1);
  const j = sorted[Math.floor(i)] ?? 0;
  const k = sorted[Math.ceil(i)] ?? 0;
  return j + (k - j) * (i - Math.floor(i));
}

interface Cell {
  type: MetricType;
  agg: string;
  samples: number[];
  /** The aggregate, by k6's formula. */
  expected: number;
  /** The sink reads it exactly (not through the histogram). */
  exact: boolean;
}

const TREND = Array.from({ length: 100 }, (_, i) => (i + 1) * 10); // 10 … 1000
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

const CELLS: Cell[] = [
  { type: 'counter', agg: 'count', samples: [2, 3, 5], expected: 10, exact: true },
  {
    type: 'counter',
    agg: 'rate',
    samples: [2, 3, 5],
    expected: 10 / (DURATION_MS / 1000),
    exact: true,
  },
  { type: 'gauge', agg: 'value', samples: [7, 3, 9, 4], expected: 4, exact: true },
  { type: 'rate', agg: 'rate', samples: [1, 0, 1, 1], expected: 0.75, exact: true },
  { type: 'trend', agg: 'avg', samples: TREND, expected: sum(TREND) / TREND.length, exact: true },
  { type: 'trend', agg: 'min', samples: TREND, expected: 10, exact: true },
  { type: 'trend', agg: 'max', samples: TREND, expected: 1000, exact: true },
  { type: 'trend', agg: 'med', samples: TREND, expected: k6Percentile(TREND, 0.5), exact: false },
  ...[0, 50, 90, 95, 99.9, 100].map((p) => ({
    type: 'trend' as const,
    agg: `p(${String(p)})`,
    samples: TREND,
    expected: k6Percentile(TREND, p / 100),
    // p(0) and p(100) are the exact min and max.
    exact: p === 0 || p === 100,
  })),
];

function compare(lhs: number, op: Op, rhs: number): boolean {
  switch (op) {
    case '<':
      return lhs < rhs;
    case '<=':
      return lhs <= rhs;
    case '>':
      return lhs > rhs;
    case '>=':
      return lhs >= rhs;
    case '==':
    case '===':
      return lhs === rhs;
    case '!=':
      return lhs !== rhs;
  }
}

/** The verdict of one threshold on a sink holding `samples`, at the end of the run. */
function verdict(cell: Cell, expression: string): boolean {
  const sink = createSink(cell.type);
  cell.samples.forEach((v, i) => sink.add(v, i));
  const sets = parseThresholdsOption({ m: [expression] });
  const evaluator = new ThresholdEvaluator(sets);
  const result = evaluator.evaluate(() => sink.thresholdInput(), DURATION_MS, true);
  return result.breached.length === 0;
}

/** Right-hand sides: 10 % around the value (far beyond the histogram's 0.4 %), and the value itself when exact. */
function sides(cell: Cell): number[] {
  const delta = Math.max(1, Math.abs(cell.expected)) * 0.1;
  const around = [cell.expected - delta, cell.expected + delta];
  return cell.exact ? [...around, cell.expected] : around;
}

const TABLE = CELLS.flatMap((cell) =>
  OPERATORS.flatMap((op) => sides(cell).map((rhs) => ({ cell, op, rhs }))),
);

describe('threshold table: every aggregation × operator × metric type', () => {
  it('covers every type, aggregation and operator with passing and failing cases', () => {
    const seen = new Set(
      TABLE.map((t) => `${t.cell.type}/${t.cell.agg.replace(/\(.*/, '')}/${t.op}`),
    );
    // counter: count, rate; gauge: value; rate: rate; trend: avg, min, max, med, p
    expect(seen.size).toBe(9 * OPERATORS.length);
    for (const op of OPERATORS) {
      const outcomes = TABLE.filter((t) => t.op === op).map((t) =>
        compare(t.cell.expected, op, t.rhs),
      );
      expect(outcomes).toContain(true);
      expect(outcomes).toContain(false);
    }
  });

  it.each(TABLE.map((t) => [t.cell.type, `${t.cell.agg}${t.op}${String(t.rhs)}`, t] as const))(
    '%s %s',
    (_type, expression, { cell, op, rhs }) => {
      expect(verdict(cell, expression)).toBe(compare(cell.expected, op, rhs));
    },
  );
});

describe('aggregations a metric type does not have', () => {
  it.each<[MetricType, string, string]>([
    ['counter', 'value<1', 'count, rate'],
    ['counter', 'p(95)<1', 'count, rate'],
    ['gauge', 'count<1', 'value'],
    ['gauge', 'avg<1', 'value'],
    ['rate', 'count<1', 'rate'],
    ['rate', 'value<1', 'rate'],
    ['trend', 'value<1', 'avg, min, max, med, p'],
    ['trend', 'rate<1', 'avg, min, max, med, p'],
    ['trend', 'count<1', 'avg, min, max, med, p'],
  ])('%s refuses %s with k6 message', (type, source, supported) => {
    const agg = source.replace(/[(<].*/, '');
    expect(() =>
      validateForType(parseThresholdExpression(source), source, 'my_metric', type),
    ).toThrow(
      `invalid threshold "${source}" applied on metric my_metric; reason: unsupported aggregation ` +
        `method ${agg} on metric of type ${type}. supported aggregation methods for this metric are: ${supported}`,
    );
  });
});

describe('evaluation timing', () => {
  const sets = () => parseThresholdsOption({ c: ['count>5'], r: ['rate>0.5'], t: ['p(95)<100'] });
  const empty = (type: MetricType) => createSink(type).thresholdInput();

  it('skips metrics without samples during the run', () => {
    const evaluator = new ThresholdEvaluator(sets());
    const types: Record<string, MetricType> = { c: 'counter', r: 'rate', t: 'trend' };
    const result = evaluator.evaluate((key) => empty(types[key] ?? 'counter'), 1_000, false);
    expect(result.breached).toEqual([]);
  });

  it('at the end reads an empty counter as 0 and an empty trend as 0; an empty rate passes', () => {
    const evaluator = new ThresholdEvaluator(sets());
    const types: Record<string, MetricType> = { c: 'counter', r: 'rate', t: 'trend' };
    const result = evaluator.evaluate((key) => empty(types[key] ?? 'counter'), 1_000, true);
    expect(result.breached).toEqual(['c']);
    expect(evaluator.results).toEqual([
      { key: 'c', source: 'count>5', ok: false },
      { key: 'r', source: 'rate>0.5', ok: true },
      { key: 't', source: 'p(95)<100', ok: true },
    ]);
  });

  it('abortOnFail waits for delayAbortEval, then stays raised', () => {
    const evaluator = new ThresholdEvaluator(
      parseThresholdsOption({
        c: [{ threshold: 'count<1', abortOnFail: true, delayAbortEval: '10s' }],
      }),
    );
    const crossed = createSink('counter');
    crossed.add(5, 0);
    const at = (ms: number) => evaluator.evaluate(() => crossed.thresholdInput(), ms, false);
    expect(at(5_000)).toEqual({ breached: ['c'], abort: false });
    expect(at(10_001)).toEqual({ breached: ['c'], abort: true });
    const healed = createSink('counter');
    expect(evaluator.evaluate(() => healed.thresholdInput(), 12_000, true).abort).toBe(true);
  });
});
