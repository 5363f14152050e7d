/**
 * The engine on real k6: a local coordinator and three agents (each its own
 * k6 process) over real HTTP must mean what one `k6 run` means. The target
 * counts what actually arrived.
 */
import { describe, expect, it } from '@jest/globals';

import { hasErrorCode } from '../../src/errors.js';
import { runDistributed } from '../helpers/distributed.js';
import { fixtureScript, runExecutors } from '../helpers/k6.js';
import { TargetServer, type RecordedRequest } from '../helpers/target-server.js';

describe('distributed run totals equal standalone k6 (real k6, 3 agents)', () => {
  it.each([
    ['shared', ['1', '1', '1']],
    ['perVu', ['1', '2', '3']],
    ['arrival', ['3', '1', '1']],
  ])('%s with weights %j', async (scenario, weights) => {
    const target = await TargetServer.start();
    const [standalone, result] = await Promise.all([
      runExecutors(scenario, [[]]),
      runDistributed({
        script: fixtureScript('executors.js'),
        flags: ['-e', `TARGET=${target.url}`, '-e', `SCENARIO=${scenario}`],
        weights,
      }),
    ]);

    expect(result.exitCode).toBe(0);
    expect(target.count('/iteration')).toBe(standalone.length);
    expect(standalone).toHaveLength({ shared: 10, perVu: 10, arrival: 11 }[scenario] ?? -1);
    const split = target.requests('/iteration');
    const numbers = (requests: RecordedRequest[], key: string) =>
      requests.map((r) => Number(r.query.get(key))).sort((a, b) => a - b);
    if (scenario === 'perVu') {
      // VU ids are unique across agents, exactly as in one k6: all 5 VUs ran.
      expect(new Set(numbers(split, 'vu'))).toEqual(new Set([1, 2, 3, 4, 5]));
    } else {
      // Which VU takes an iteration is a race even in one k6; the iteration
      // numbers (unique in the whole test) must match standalone exactly.
      expect(numbers(split, 'it')).toEqual(numbers(standalone, 'it'));
      for (const vu of numbers(split, 'vu')) {
        expect(vu).toBeGreaterThanOrEqual(1);
        expect(vu).toBeLessThanOrEqual(scenario === 'shared' ? 3 : 6);
      }
    }
    expect(result.agents.map((a) => a.segment)).toHaveLength(3);
  });
});

describe('setup() and teardown() once, data to every VU on every agent (real k6)', () => {
  it('hits /setup and /teardown exactly once and every iteration carries the setup data', async () => {
    const target = await TargetServer.start();
    const result = await runDistributed({
      script: fixtureScript('long-run.js'),
      flags: ['-e', `TARGET=${target.url}`, '-e', 'DURATION=2s'],
    });

    expect(result.exitCode).toBe(0);
    expect(result.setupRan).toBe(true);
    expect(result.teardownRan).toBe(true);
    expect(target.count('/setup')).toBe(1);
    expect(target.count('/teardown')).toBe(1);
    expect(JSON.parse(target.requests('/teardown')[0]?.body ?? '')).toEqual({
      token: 'shared-by-setup',
    });
    const iterations = target.requests('/iteration');
    expect(iterations.length).toBeGreaterThan(3);
    expect(new Set(iterations.map((r) => r.query.get('token')))).toEqual(
      new Set(['shared-by-setup']),
    );
    // One VU per agent (3 VUs, 3 agents): every agent ran load.
    expect(new Set(iterations.map((r) => r.query.get('vu')))).toEqual(new Set(['1', '2', '3']));
    expect(result.startSkewMs).toBeGreaterThanOrEqual(0);
    expect(result.agentResults.map((a) => a.exitCode)).toEqual([0, 0, 0]);
  });
});

describe('an invalid test fails before any agent runs load (real k6)', () => {
  it.each([
    ['invalid/syntax.js', 107],
    ['invalid/bad-executor.js', 104],
  ])('%s: k6 message and exit code %d, no request', async (script, exitCode) => {
    const target = await TargetServer.start();
    const error = await runDistributed({
      script: fixtureScript(script),
      flags: ['-e', `TARGET=${target.url}`],
    }).catch((e: unknown) => e);

    expect(hasErrorCode(error, 'K6_TEST_INVALID')).toBe(true);
    expect((error as { data: { exitCode: number } }).data.exitCode).toBe(exitCode);
    expect(target.requests()).toHaveLength(0);
  });
});
