/**
 * An agent may not decide a metric's type for the run (issue 17: an agent is
 * trusted for its own share of samples only). The first definition of a
 * custom metric used to win: an agent that defined the script's time Trend as
 * a counter before the honest agents reported it made every honest delta that
 * carried it refused. The script's own declarations now decide. On the real
 * coordinator over HTTP with honest real-k6 agents, beside standalone k6.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { describe, expect, it } from '@jest/globals';

import { ROUTES, type DeltaMessage } from '../../src/protocol/messages.js';
import { CompromisedAgent } from '../helpers/compromised-agent.js';
import { runDistributed } from '../helpers/distributed.js';
import { fixtureScript, testK6Path } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const run = promisify(execFile);

describe("issue 17: a custom metric's type is the script's, not the first agent's", () => {
  it('a definition of the script’s Trend work_time as a counter is refused (400); the run is as standalone k6', async () => {
    const flags = (target: TargetServer) => [
      '-e',
      `TARGET=${target.url}`,
      '-e',
      // No threshold on work_time: k6 itself then tells the coordinator nothing of its type.
      'ITERATIONS=40',
    ];
    const reference = await TargetServer.start();
    const k6 = await run(
      testK6Path(),
      ['run', '-q', ...flags(reference), fixtureScript('metrics.js')],
      {
        env: { ...process.env, K6_NO_USAGE_REPORT: 'true' },
      },
    ).then(
      () => 0,
      (error: unknown) => (error as { code?: number }).code ?? -1,
    );
    expect(k6).toBe(0);

    const target = await TargetServer.start();
    const evil = new CompromisedAgent();
    let answer: number | undefined;
    const attack = (async () => {
      // As soon as agent 2 has joined: before any honest delta can define work_time.
      const seq = await evil.nextSeq(1, ROUTES.metrics);
      const report: DeltaMessage = {
        seq,
        final: false,
        delta: {
          metrics: [{ name: 'work_time', type: 'counter', contains: 'default' }],
          groups: [],
          series: [{ kind: 'total', metric: 'work_time', sink: { t: 'counter', sum: 1 } }],
        },
      };
      answer = (await evil.send(1, ROUTES.metrics, report)).status;
      // Refused, so the number is still the agent's own.
      (await evil.agent(1)).seq.set(ROUTES.metrics, seq - 1);
    })();
    const distributed = await runDistributed({
      agents: 2,
      script: fixtureScript('metrics.js'),
      flags: flags(target),
      agentUrl: evil.intercept,
    });
    await attack;

    expect(answer).toBe(400);
    expect(distributed.exitCode).toBe(k6);
    expect(target.count('/setup')).toBe(1);
    expect(target.count('/teardown')).toBe(1);
    expect(target.count('/iteration')).toBe(reference.count('/iteration'));
    const work = distributed.summary.metrics.get('work_time');
    expect(work?.type).toBe('trend');
    expect(work?.sink.values(0, ['count']).count).toBe(40);
  }, 60_000);
});
