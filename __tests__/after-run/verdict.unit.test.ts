import { describe, expect, it } from '@jest/globals';

import { finalVerdict } from '../../src/after-run/verdict.js';
import { K6_EXIT_CODES } from '../../src/k6/exit-codes.js';
import { compareFigures } from '../../src/report/compare.js';

const base = { p95Ms: 200, errorRate: 0.01, requestRate: 500 };
/** p(95) 30 % slower than the baseline; the rest unchanged. */
const slower = { ...base, p95Ms: 260 };
/** Worse than a p95=20% limit: a regression that fails a passing run. */
const enforced = compareFigures(slower, base, { p95: 0.2 });
/** Worse than the default 10 % highlight, with no fail-on-regression limit: shown, not failed. */
const highlighted = compareFigures(slower, base);

const passed = { exitCode: 0, aborted: false };
const thresholdsFailed = { exitCode: K6_EXIT_CODES['thresholds-failed'], aborted: false };
const scriptException = { exitCode: K6_EXIT_CODES['script-exception'], aborted: true };
const interrupted = { exitCode: K6_EXIT_CODES['external-abort'], aborted: true };

describe('issue 19.1: finalVerdict, the one rule for how a compared run ends', () => {
  it('a passing run without a baseline keeps exit code 0 and succeeds', () => {
    expect(finalVerdict(passed)).toEqual({
      exitCode: 0,
      conclusion: 'success',
      title: 'passed: k6 exit code 0',
      failures: [],
    });
  });

  it('a passing run with no change past any limit still passes', () => {
    const same = compareFigures(base, base, { p95: 0.2 });
    expect(finalVerdict(passed, same)).toEqual({
      exitCode: 0,
      conclusion: 'success',
      title: 'passed: k6 exit code 0',
      failures: [],
    });
  });

  it('a regression past a fail-on-regression limit fails a run that otherwise passed: exit 99', () => {
    const verdict = finalVerdict(passed, enforced);
    expect(verdict.exitCode).toBe(K6_EXIT_CODES['thresholds-failed']);
    expect(verdict.conclusion).toBe('failure');
    expect(verdict.title).toBe('passed: k6 exit code 0; regressed: p95 +30.0 %');
    expect(verdict.failures.map((row) => row.label)).toEqual(['p95']);
  });

  it('a highlighted regression without a fail-on-regression limit does not fail the run', () => {
    expect(highlighted.rows.find((row) => row.label === 'p95')?.regressed).toBe(true);
    const verdict = finalVerdict(passed, highlighted);
    expect(verdict).toEqual({
      exitCode: 0,
      conclusion: 'success',
      title: 'passed: k6 exit code 0',
      failures: [],
    });
  });

  it("a run k6 failed keeps k6's exit code; its regression is named, not counted as the failure", () => {
    const verdict = finalVerdict(scriptException, enforced);
    expect(verdict.exitCode).toBe(K6_EXIT_CODES['script-exception']);
    expect(verdict.conclusion).toBe('failure');
    expect(verdict.title).toBe('aborted: k6 exit code 107; regressed: p95 +30.0 %');
    expect(verdict.failures).toEqual([]);
  });

  it('crossed thresholds stay exit 99 with or without a regression, as a failure', () => {
    for (const comparison of [undefined, enforced]) {
      const verdict = finalVerdict(thresholdsFailed, comparison);
      expect(verdict.exitCode).toBe(99);
      expect(verdict.conclusion).toBe('failure');
      expect(verdict.failures).toEqual([]);
    }
    expect(finalVerdict(thresholdsFailed).title).toBe('failed: k6 exit code 99');
  });

  it("an interrupted run (k6's 105) is cancelled, not failed, even with a regression", () => {
    for (const comparison of [undefined, enforced]) {
      const verdict = finalVerdict(interrupted, comparison);
      expect(verdict.exitCode).toBe(K6_EXIT_CODES['external-abort']);
      expect(verdict.conclusion).toBe('cancelled');
      expect(verdict.failures).toEqual([]);
    }
    expect(finalVerdict(interrupted).title).toBe('aborted: k6 exit code 105');
  });
});
