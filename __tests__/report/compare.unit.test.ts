import { describe, expect, it } from '@jest/globals';

import { keyFigures } from '../../src/coordinator/result-file.js';
import { compareFigures, formatChange, parseRegressionLimits } from '../../src/report/compare.js';
import { loadCapture, sourceOf } from '../summary/captures.js';

const base = { p95Ms: 200, errorRate: 0.01, requestRate: 500 };

describe('fail-on-regression limits', () => {
  it('reads key=N% pairs separated by commas, spaces or newlines', () => {
    expect(parseRegressionLimits('p95=10%, error-rate=0.5%\nrequest-rate=15%')).toEqual({
      p95: 0.1,
      errorRate: 0.005,
      requestRate: 0.15,
    });
    expect(parseRegressionLimits('  ')).toEqual({});
  });

  it.each([
    ['p95=10', '"p95=10" is not a regression limit'],
    ['p99=10%', '"p99=10%" is not a regression limit'],
    ['p95=-5%', '"p95=-5%" is not a regression limit'],
    ['p95=10%,p95=20%', '"p95" is given twice'],
  ])('refuses %s, naming the part and the form', (text, message) => {
    expect(() => parseRegressionLimits(text)).toThrow(message);
    if (message.includes('not a regression limit')) {
      expect(() => parseRegressionLimits(text)).toThrow('use e.g. "p95=10%, error-rate=1%');
    }
  });
});

describe('comparing with a baseline', () => {
  it('highlights what got worse past the defaults; limits are not failures unless given', () => {
    const { rows, failures } = compareFigures(
      { p95Ms: 250, errorRate: 0.015, requestRate: 400 },
      base,
    );
    expect(rows.map((r) => [r.label, r.change, r.regressed, r.enforced])).toEqual([
      ['p95', 0.25, true, false],
      ['error-rate', expect.closeTo(0.005, 12), false, false],
      ['request-rate', -0.2, true, false],
    ]);
    expect(failures).toEqual([]);
    expect(rows.map(formatChange)).toEqual(['+25.0 %', '+0.50 pp', '−20.0 %']);
  });

  it('fails only on figures with a limit, and a change of exactly the limit passes', () => {
    const { failures } = compareFigures({ p95Ms: 220, errorRate: 0.03, requestRate: 100 }, base, {
      p95: 0.1,
      errorRate: 0.01,
    });
    // p95 +10 % is the limit itself; error rate +2 pp is past 1 pp; request rate has no limit.
    expect(failures.map((r) => r.label)).toEqual(['error-rate']);
  });

  it('treats better figures as no regression and missing ones as not comparable', () => {
    const { rows } = compareFigures(
      { p95Ms: 100, errorRate: null, requestRate: 900 },
      { p95Ms: 200, errorRate: null, requestRate: 0 },
      { p95: 0, errorRate: 0, requestRate: 0 },
    );
    expect(rows.map((r) => [r.change, r.regressed])).toEqual([
      [-0.5, false],
      [null, false],
      [null, false],
    ]);
    expect(rows.map(formatChange)).toEqual(['−50.0 %', 'n/a', 'n/a']);
  });

  it('counts a figure the baseline had and this run lacks (no HTTP request) as worse', () => {
    const { rows, failures } = compareFigures(
      { p95Ms: null, errorRate: null, requestRate: null },
      base,
      { p95: 0.5 },
    );
    expect(rows.map((r) => [r.change, r.regressed])).toEqual([
      [null, true],
      [null, true],
      [null, true],
    ]);
    expect(failures.map((r) => r.label)).toEqual(['p95']);
    // Nothing to lose when the baseline had none either.
    const none = { p95Ms: null, errorRate: null, requestRate: null };
    expect(compareFigures(none, none, { p95: 0 }).failures).toEqual([]);
  });

  it('reads p(95), error rate and request rate off the merged sinks of a real run', () => {
    // basic-compact: a real k6 run with HTTP requests (fixtures/summary).
    const capture = loadCapture('basic-compact');
    const figures = keyFigures(sourceOf(capture));
    const { metrics } = capture.data;
    expect(figures.p95Ms).toBeCloseTo(metrics.http_req_duration?.values['p(95)'] ?? NaN, 1);
    expect(figures.errorRate).toBe(metrics.http_req_failed?.values.rate);
    expect(figures.requestRate).toBeCloseTo(metrics.http_reqs?.values.rate ?? NaN, 6);
  });
});
