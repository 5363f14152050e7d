/**
 * The run's clock and VU gauges side by side with standalone `k6 run` on the
 * same script (issue 16.3, 16.11): testRunDurationMs, the rates divided by it
 * and abortOnFail's delayAbortEval count from the real start, and vus/vus_max
 * are what one k6 samples once a second. 3 agents, the default 1 s start lead.
 */
import { describe, expect, it } from '@jest/globals';

import { runDistributed } from '../helpers/distributed.js';
import { fixtureScript, startK6 } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

interface GaugeValues {
  value: number;
  min: number;
  max: number;
}

/** The line fixtures/scripts/run-clock.js prints from handleSummary(). */
interface Report {
  testRunDurationMs: number;
  vus: GaugeValues | null;
  vus_max: GaugeValues | null;
  iterations: { count: number; rate: number } | null;
  http_reqs: { count: number; rate: number } | null;
  thresholds: Record<string, Record<string, { ok: boolean }>>;
}

interface Run {
  exitCode: number;
  report: Report;
}

function parseReport(stdout: string): Report {
  const line = stdout.split('\n').find((l) => l.startsWith('{"testRunDurationMs"'));
  if (!line) throw new Error(`no handleSummary() line in:\n${stdout}`);
  return JSON.parse(line) as Report;
}

function flags(scenario: string, extra: Record<string, string>): string[] {
  return Object.entries({ SCENARIO: scenario, ...extra }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
}

async function standalone(scenario: string, extra: Record<string, string> = {}): Promise<Run> {
  const k6 = await startK6([
    'run',
    '--quiet',
    ...flags(scenario, extra),
    fixtureScript('run-clock.js'),
  ]);
  const exit = await k6.proc.done;
  return { exitCode: exit.outcome.exitCode, report: parseReport(k6.stdout.join('\n')) };
}

async function distributed(
  scenario: string,
  extra: Record<string, string> = {},
  coordinatorNow?: () => number,
): Promise<Run> {
  const out: string[] = [];
  const result = await runDistributed({
    script: fixtureScript('run-clock.js'),
    flags: flags(scenario, extra),
    startLeadMs: 1_000,
    now: coordinatorNow,
    output: { stdout: (chunk) => out.push(String(chunk)), stderr: () => undefined, isTTY: false },
  });
  return { exitCode: result.exitCode, report: parseReport(out.join('')) };
}

/** Both, at the same time (as the differential suite runs them). */
function sideBySide(scenario: string, extra: Record<string, string> = {}): Promise<[Run, Run]> {
  return Promise.all([standalone(scenario, extra), distributed(scenario, extra)]);
}

/** The issue's bound: within 5 % or 100 ms of k6's, whichever is wider. */
function expectDurationNear(actual: number, reference: number): void {
  const tolerance = Math.max(100, reference * 0.05);
  expect(actual).toBeGreaterThanOrEqual(reference - tolerance);
  expect(actual).toBeLessThanOrEqual(reference + tolerance);
}

describe('run clock and VU gauges, side by side with standalone k6 (real k6, 3 agents)', () => {
  it('issue 16.3 and 16.11: a sub-second test: testRunDurationMs within 100 ms of k6, and no vus/vus_max, as in k6', async () => {
    const [reference, run] = await sideBySide('short');

    expect(run.exitCode).toBe(reference.exitCode);
    expect(reference.report.testRunDurationMs).toBeLessThan(1_000);
    expectDurationNear(run.report.testRunDurationMs, reference.report.testRunDurationMs);
    expect(reference.report.vus).toBeNull();
    expect(reference.report.vus_max).toBeNull();
    expect(run.report.vus).toBeNull();
    expect(run.report.vus_max).toBeNull();
  });

  it('issue 16.3: a rate threshold like examples/localhost.js (http_reqs rate>100) passes where k6 passes', async () => {
    const target = await TargetServer.start();
    const thresholds = JSON.stringify({ http_reqs: ['rate>100'] });
    const [reference, run] = await sideBySide('requests', {
      TARGET: target.url,
      THRESHOLDS: thresholds,
    });

    expect(reference.exitCode).toBe(0);
    expect(run.exitCode).toBe(0);
    expect(run.report.http_reqs?.count).toBe(30);
    expect(reference.report.thresholds).toEqual({ http_reqs: { 'rate>100': { ok: true } } });
    expect(run.report.thresholds).toEqual(reference.report.thresholds);
    expectDurationNear(run.report.testRunDurationMs, reference.report.testRunDurationMs);
  });

  it('issue 16.3 and 16.11: constant 10 VUs for 3 s: testRunDurationMs within 5 %, vus and vus_max as k6 reports them', async () => {
    const [reference, run] = await sideBySide('constant');

    expect(run.exitCode).toBe(0);
    expectDurationNear(run.report.testRunDurationMs, reference.report.testRunDurationMs);
    const iterations = run.report.iterations;
    const seconds = run.report.testRunDurationMs / 1000;
    expect(iterations?.rate).toBeCloseTo((iterations?.count ?? NaN) / seconds, 6);
    expect(reference.report.vus).toEqual({ value: 10, min: 10, max: 10 });
    expect(reference.report.vus_max).toEqual({ value: 10, min: 10, max: 10 });
    expect(run.report.vus).toEqual(reference.report.vus);
    expect(run.report.vus_max).toEqual(reference.report.vus_max);
  });

  it('issue 16.11: ramping to a 30-VU plateau: the peak of vus and vus_max as k6 reports them', async () => {
    const [reference, run] = await sideBySide('ramping');

    expect(run.exitCode).toBe(0);
    expect(reference.report.vus?.max).toBe(30);
    expect(run.report.vus?.max).toBe(30);
    expect(run.report.vus_max).toEqual(reference.report.vus_max);
    expect(reference.report.vus_max).toEqual({ value: 30, min: 30, max: 30 });
    expectDurationNear(run.report.testRunDurationMs, reference.report.testRunDurationMs);
  });

  it('issue 16.3: abortOnFail with delayAbortEval 3s stops the run as long after the real start as k6', async () => {
    const thresholds = JSON.stringify({
      iterations: [{ threshold: 'count<1', abortOnFail: true, delayAbortEval: '3s' }],
    });
    const [reference, run] = await sideBySide('abort', { THRESHOLDS: thresholds });

    expect(reference.exitCode).toBe(99);
    expect(run.exitCode).toBe(99);
    // k6 checks every 2 s: the first check after 3 s of the run, at 4 s, aborts.
    expect(reference.report.testRunDurationMs).toBeGreaterThan(3_000);
    expectDurationNear(run.report.testRunDurationMs, reference.report.testRunDurationMs);
    // The iterations done show when the run really stopped: 2 VUs × ~10 per second.
    const done = run.report.iterations?.count ?? 0;
    const expected = reference.report.iterations?.count ?? NaN;
    expect(Math.abs(done - expected)).toBeLessThanOrEqual(Math.max(4, expected * 0.1));
  });

  it('issue 16.3 and 16.11: a coordinator clock 7 minutes ahead of the agents changes neither', async () => {
    const skewMs = 7 * 60_000;
    const [reference, run] = await Promise.all([
      standalone('constant'),
      distributed('constant', {}, () => Date.now() + skewMs),
    ]);

    expect(run.exitCode).toBe(0);
    expectDurationNear(run.report.testRunDurationMs, reference.report.testRunDurationMs);
    expect(run.report.vus).toEqual(reference.report.vus);
    expect(run.report.vus_max).toEqual(reference.report.vus_max);
    // The same load, within k6's own run-to-run spread.
    const iterations = reference.report.iterations?.count ?? NaN;
    expect(Math.abs((run.report.iterations?.count ?? 0) - iterations)).toBeLessThanOrEqual(
      iterations * 0.05,
    );
  });
});
