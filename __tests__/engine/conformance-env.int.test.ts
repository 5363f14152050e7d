/**
 * Issue 16 items 1, 2, 4 and 9, side by side with standalone `k6 run` on the
 * same script (real k6, 3 agents): the environment (`__ENV`, for options and
 * VU code), test-wide tags, the default of 1 VU, and secret sources.
 */
import { describe, expect, it } from '@jest/globals';

import { runDistributed } from '../helpers/distributed.js';
import { fixtureScript, startK6 } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

/** Standalone `k6 run`: its exit code; what it sent goes to its own target. */
async function k6Run(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<number | null> {
  const k6 = await startK6(['run', '--quiet', ...args], options);
  const exit = await k6.proc.done;
  return exit.outcome.exitCode;
}

describe('issue 16.4: no VU count anywhere means 1 VU, as in k6 run', () => {
  it.each([
    ['-i 4', ['-i', '4'], {}],
    ['options.iterations', [], { ITERATIONS: '4' }],
    ['-d 1s', ['-d', '1s'], { SLEEP: '0.3' }],
  ])('issue 16.4: %s runs with one VU', async (_, flags, env) => {
    const [alone, split] = [await TargetServer.start(), await TargetServer.start()];
    const args = (target: TargetServer) => [...flags, '-e', `TARGET=${target.url}`];
    const [k6Exit, result] = await Promise.all([
      k6Run([...args(alone), fixtureScript('no-vus.js')], { env }),
      runDistributed({ script: fixtureScript('no-vus.js'), flags: args(split), env }),
    ]);

    expect([k6Exit, result.exitCode]).toEqual([0, 0]);
    const vus = (target: TargetServer) =>
      new Set(target.requests('/iteration').map((r) => r.query.get('vu')));
    expect(vus(alone)).toEqual(new Set(['1']));
    expect(vus(split)).toEqual(vus(alone));
    if (flags[0] !== '-d') expect(split.count('/iteration')).toBe(alone.count('/iteration'));
    else expect(split.count('/iteration')).toBeGreaterThan(0);
    expect(result.test.maxVUs).toBe(1);
  });
});
