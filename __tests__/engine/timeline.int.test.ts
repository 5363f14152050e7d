/**
 * The run over time on real k6 (issue 8): the coordinator files every
 * agent's deltas into per-interval series, merged and per agent, writes them
 * to the merged result file, and logs a progress line every interval.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import type { ResultFile } from '../../src/coordinator/result-file.js';
import type { TimelinePoint } from '../../src/metrics/timeline.js';
import { runDistributed } from '../helpers/distributed.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const sum = (points: readonly TimelinePoint[], f: (p: TimelinePoint, i: number) => number) =>
  points.reduce((s, p, i) => s + f(p, i), 0);

describe('the run over time (real k6, 2 agents)', () => {
  it('accounts for every iteration in the series, merged and per agent, and logs progress', async () => {
    const target = await TargetServer.start();
    const dir = await tempDir();
    const summaryJson = join(dir, 'result.json');

    const run = await runDistributed({
      agents: 2,
      script: fixtureScript('long-run.js'),
      // Long enough for a progress line while load runs: on the cloud transport
      // samples reach the coordinator 1-2 s after k6 took them.
      flags: ['-e', `TARGET=${target.url}`, '-e', 'DURATION=7s'],
      summaryJson,
      progressIntervalMs: 1_000,
      output: { stdout: () => undefined, stderr: () => undefined, isTTY: false },
    });

    expect(run.exitCode).toBe(0);
    const { timeline, data } = JSON.parse(await readFile(summaryJson, 'utf8')) as ResultFile & {
      data: { metrics: Record<string, { values: Record<string, number> }> };
    };
    if (!timeline) throw new Error('the result file has no timeline');
    const iterations = data.metrics.iterations?.values.count;
    const requests = data.metrics.http_reqs?.values.count ?? NaN;

    // Every iteration of the run is in exactly one interval, merged and per agent.
    expect(sum(timeline.merged, (p) => p.iterations)).toBe(iterations);
    for (const agent of run.agents) {
      const own = timeline.agents[agent.id] ?? [];
      expect(sum(own, (p) => p.iterations)).toBe(agent.totals?.iterations);
    }
    // Requests too, but setup()'s one may have been sent before the start instant.
    // (Rates times the seconds each interval lasted; the last lasts until the run's end.)
    const charted = sum(
      timeline.merged,
      (p, i) => p.rps * (p.t - (timeline.merged[i - 1]?.t ?? 0)),
    );
    expect(charted).toBeGreaterThanOrEqual(requests - 1 - 1e-6);
    expect(charted).toBeLessThanOrEqual(requests + 1e-6);
    // 3 VUs over 2 agents (2 + 1), p(95) of real latencies, no failures.
    expect(Math.max(...timeline.merged.map((p) => p.vus))).toBe(3);
    const busy = timeline.merged.filter((p) => p.iterations > 0);
    expect(busy.length).toBeGreaterThanOrEqual(3);
    for (const p of busy) {
      expect(p.p95).toBeGreaterThan(0);
      expect(p.errorRate).toBe(0);
      // Issue 20.9: the bands k6's web dashboard draws, from the same samples.
      expect(p.latency?.p95).toBe(p.p95);
      expect(p.latency?.p90).toBeLessThanOrEqual(p.latency?.p95 ?? NaN);
      expect(p.latency?.p95).toBeLessThanOrEqual(p.latency?.p99 ?? NaN);
      expect(p.iterationDuration?.avg).toBeGreaterThan(0);
      expect(p.iterationDuration?.p99).toBeGreaterThanOrEqual(p.iterationDuration?.p90 ?? NaN);
    }
    // Bytes over time add up to k6's data_received and data_sent (setup()'s may precede
    // the start instant: it is filed under the first interval, so it counts too).
    for (const [metric, f] of [
      ['data_received', (p: TimelinePoint) => p.received ?? 0],
      ['data_sent', (p: TimelinePoint) => p.sent ?? 0],
    ] as const) {
      const bytes = sum(timeline.merged, (p, i) => f(p) * (p.t - (timeline.merged[i - 1]?.t ?? 0)));
      expect(bytes).toBeCloseTo(data.metrics[metric]?.values.count ?? NaN, 3);
    }
    const ts = timeline.merged.map((p) => p.t);
    expect(ts.slice(0, -1)).toEqual(ts.slice(0, -1).map((_, i) => (i + 1) * timeline.intervalS));
    expect(ts.at(-1)).toBeGreaterThan((ts.length - 1) * timeline.intervalS);
    // (A last sliver under half an interval joins the interval before.)
    expect(ts.at(-1)).toBeLessThan((ts.length + 0.5) * timeline.intervalS);

    const progress = run.log.lines.filter((l) => l.startsWith('running ('));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const line of progress) {
      expect(line).toMatch(
        /^running \(0m0\d\.\ds\), \d+ VUs, \d+ complete iterations, \d+\.\d req\/s, p\(95\)=(\d+\.\d\dms|-), (\d+\.\d\d%|-) failed, 2\/2 agents healthy$/,
      );
    }
    expect(progress.some((l) => / 3 VUs, /.test(l) && !/ 0\.0 req\/s/.test(l))).toBe(true);
  });
});

/** Requests the target saw in each point's interval, from the start instant. */
function seenPerPoint(points: readonly TimelinePoint[], at: readonly number[]): number[] {
  return points.map((p, i) => {
    const from = (points[i - 1]?.t ?? 0) * 1000;
    return at.filter((ms) => ms >= from && (i === points.length - 1 || ms < p.t * 1000)).length;
  });
}

describe.each(['json', 'cloud'] as const)(
  "issue 18.1: the time series files samples by k6's own times (%s transport)",
  (transport) => {
    it('per-second requests and iterations are what the target saw, and add up to http_reqs exactly', async () => {
      const target = await TargetServer.start();

      const run = await runDistributed({
        agents: 2,
        script: fixtureScript('timeline-steps.js'),
        flags: ['-e', `TARGET=${target.url}`],
        transport,
      });

      expect(run.exitCode).toBe(0);
      // The start instant is a whole second of the coordinator's clock (k6's cloud buckets
      // are whole seconds); each k6 unpaused just after it, or a hair before by its agent's
      // clock-offset estimate (an early 0.1 ms once took the floor a whole second back).
      const startedAt = run.agents.map((a) => a.startedAt ?? NaN);
      const start = Math.round(Math.min(...startedAt) / 1000) * 1000;
      expect(Math.min(...startedAt) - start).toBeGreaterThan(-50);
      expect(Math.max(...startedAt) - start).toBeLessThan(500);
      const at = target.requests('/step').map((r) => r.atMs - start);
      expect(Math.min(...at)).toBeGreaterThanOrEqual(0);

      const { merged } = run.timeline;
      const charted = merged.map((p, i) => p.rps * (p.t - (merged[i - 1]?.t ?? 0)));
      const seen = seenPerPoint(merged, at);
      // The load really changed from second to second.
      expect(new Set(seen).size).toBeGreaterThanOrEqual(3);
      for (const [i, requests] of charted.entries())
        expect(requests).toBeCloseTo(seen[i] ?? NaN, 6);
      expect(merged.map((p) => p.iterations)).toEqual(seen);
      const total = run.summary.metrics.get('http_reqs')?.sink.values(0, []).count;
      expect(total).toBe(at.length);
      expect(sum(merged, (_, i) => charted[i] ?? NaN)).toBeCloseTo(total ?? NaN, 9);
      for (const [i, p] of merged.entries()) {
        if ((seen[i] ?? 0) === 0) continue;
        expect(p.p95).toBeGreaterThan(0);
        expect(p.errorRate).toBe(0);
      }
    }, 60_000);
  },
);
