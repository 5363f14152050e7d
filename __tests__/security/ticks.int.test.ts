/**
 * An agent's own vus/vus_max samples (`ticks`) with a time no run has reached
 * yet: the merge would settle a tick for every second up to it (a point at
 * 1e12 ms: a trillion-ms loop and an out-of-memory coordinator). Found while
 * hardening issue 17 (items 2 and 5: implausible values), on the real
 * coordinator over HTTP with honest real-k6 agents.
 */
import { describe, expect, it } from '@jest/globals';

import { ROUTES } from '../../src/protocol/messages.js';
import { CompromisedAgent } from '../helpers/compromised-agent.js';
import { runDistributed } from '../helpers/distributed.js';
import { fixtureScript } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

describe('issue 17.2/17.5: vus samples from the future', () => {
  it('a ticks point at 1e12 ms is refused (400, logged once); the run ends as undisturbed, vus as the agents sampled', async () => {
    const target = await TargetServer.start();
    const evil = new CompromisedAgent();
    const answers: number[] = [];
    const attack = (async () => {
      // After agent 2's first real delta, so the run has started and its seq is known.
      await evil.sent(1, ROUTES.metrics);
      for (const ms of [1e12, 5e7]) {
        const answer = await evil.sendRefusedDelta(1, {
          metrics: [{ name: 'vus', type: 'gauge', contains: 'default' }],
          groups: [],
          series: [{ kind: 'ticks', metric: 'vus', points: [[ms, 1_000]] }],
        });
        answers.push(answer.status);
      }
    })();
    const run = await runDistributed({
      agents: 2,
      script: fixtureScript('metrics.js'),
      flags: ['-e', `TARGET=${target.url}`, '-e', 'ITERATIONS=40', '-e', 'SLEEP=0.1'],
      metricsIntervalMs: 200,
      // The JSON stream: agent 2's first delta, which starts the attack, comes early in the
      // run (on the cloud transport 1-2 s later, near the end of this short run). Ticks are
      // the agent's own samples of k6's REST API on both transports.
      transport: 'json',
      agentUrl: evil.intercept,
    });
    await attack;

    expect(answers).toEqual([400, 400]);
    expect(run.exitCode).toBe(0);
    expect(target.count('/setup')).toBe(1);
    expect(target.count('/teardown')).toBe(1);
    const count = (metric: string) => run.summary.metrics.get(metric)?.sink.values(0, []).count;
    expect(count('iterations')).toBe(40);
    expect(count('iterations')).toBe(target.count('/iteration'));
    // No sum of 1,000 VUs: only what the agents' k6 reported.
    const vus = run.summary.metrics.get('vus')?.sink.values(0, []);
    expect(vus?.max ?? 0).toBeLessThanOrEqual(10);
    const refusals = run.log.lines.filter(
      (l) => l.startsWith('warning:') && l.includes('later than the run has lasted'),
    );
    expect(refusals).toHaveLength(1);
  }, 60_000);
});
