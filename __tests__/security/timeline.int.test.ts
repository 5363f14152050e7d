/**
 * Issue 18.1's trust model for the time series: an agent says in which
 * interval its k6 stamped its samples, and is trusted for its own share
 * only. A delta whose intervals hold more than its own totals (inflating an
 * interval), or lie beyond the run's age (a point at interval 10⁷: a chart
 * of 10⁷ seconds), is refused whole; on the real coordinator over HTTP with
 * honest real-k6 agents, the run ends as undisturbed.
 */
import { describe, expect, it } from '@jest/globals';

import { Histogram } from '../../src/metrics/histogram.js';
import { ROUTES, type MetricDelta } from '../../src/protocol/messages.js';
import { CompromisedAgent } from '../helpers/compromised-agent.js';
import { runDistributed } from '../helpers/distributed.js';
import { fixtureScript } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

/** Five requests of 10 ms, as an honest delta would total them, with `timeline` as given. */
function forged(timeline: MetricDelta['timeline']): MetricDelta {
  const h = new Histogram();
  for (let i = 0; i < 5; i++) h.add(10);
  return {
    metrics: [
      { name: 'http_reqs', type: 'counter', contains: 'default' },
      { name: 'http_req_failed', type: 'rate', contains: 'default' },
      { name: 'http_req_duration', type: 'trend', contains: 'time' },
    ],
    groups: [],
    series: [
      { kind: 'total', metric: 'http_reqs', sink: { t: 'counter', sum: 5 } },
      { kind: 'total', metric: 'http_req_failed', sink: { t: 'rate', trues: 0, total: 5 } },
      { kind: 'total', metric: 'http_req_duration', sink: { t: 'trend', h: h.toWire() } },
    ],
    timeline,
  };
}

describe('issue 18.1: forged time series intervals', () => {
  it('intervals beyond the delta’s own totals or the run’s age are refused (400, logged once); the run and its time series are as undisturbed', async () => {
    const target = await TargetServer.start();
    const evil = new CompromisedAgent();
    const answers: number[] = [];
    const attack = (async () => {
      // After agent 2's first real delta, so the run has started and its seq is known.
      await evil.sent(1, ROUTES.metrics);
      const forgeries = [
        // Another interval inflated far beyond this delta's five requests.
        forged([
          { i: 0, requests: 5, iterations: 0, failed: 0, checked: 5 },
          { i: 1, requests: 100_000, iterations: 0, failed: 0, checked: 0 },
        ]),
        // Its own five requests, at an interval no run has reached.
        forged([{ i: 10_000_000, requests: 5, iterations: 0, failed: 0, checked: 5 }]),
      ];
      for (const delta of forgeries) {
        answers.push((await evil.sendRefusedDelta(1, delta)).status);
      }
    })();
    const run = await runDistributed({
      agents: 2,
      script: fixtureScript('metrics.js'),
      flags: ['-e', `TARGET=${target.url}`, '-e', 'ITERATIONS=40', '-e', 'SLEEP=0.1'],
      metricsIntervalMs: 200,
      // The attack follows agent 2's first delta, which on the cloud transport comes
      // 1-2 s into this short run; the rule checked is the coordinator's on either.
      transport: 'json',
      agentUrl: evil.intercept,
    });
    await attack;

    expect(answers).toEqual([400, 400]);
    expect(run.exitCode).toBe(0);
    expect(target.count('/setup')).toBe(1);
    expect(target.count('/teardown')).toBe(1);
    const count = (metric: string) => run.summary.metrics.get(metric)?.sink.values(0, []).count;
    expect(count('iterations')).toBe(target.count('/iteration'));
    // The chart holds exactly the requests k6 made, within the run's seconds.
    const { merged } = run.timeline;
    const charted = merged.reduce((s, p, i) => s + p.rps * (p.t - (merged[i - 1]?.t ?? 0)), 0);
    expect(charted).toBeCloseTo(count('http_reqs') ?? NaN, 6);
    expect(count('http_reqs')).toBe(target.requests().length);
    expect(merged.length).toBeLessThan(60);
    const refusals = run.log.lines.filter(
      (l) => l.startsWith('warning:') && l.includes('refused its metric delta (rule timeline)'),
    );
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatch(/agent 2/);
  }, 60_000);
});
