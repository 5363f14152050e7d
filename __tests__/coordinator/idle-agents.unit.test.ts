import { describe, expect, it } from '@jest/globals';

import { idleAgentsWarning } from '../../src/coordinator/idle-agents.js';
import type { K6Options } from '../../src/k6/archive.js';
import { segmentsForWeights } from '../../src/k6/segments.js';

type Scenarios = NonNullable<K6Options['scenarios']>;

function warn(scenarios: Scenarios, weights: number[]): string | undefined {
  const labels = weights.map((_, i) => `agent ${String(i + 1)} (runner-${String(i + 1)})`);
  return idleAgentsWarning(scenarios, segmentsForWeights(weights), labels);
}

const vus = (n: number) => ({ executor: 'constant-vus', vus: n, duration: '10s' });

describe('issue 20.7: the warning about agents without work', () => {
  it('issue 20.7: --agents 4 -u 2 names the two idle agents, fewer agents and more VUs', () => {
    expect(warn({ default: vus(2) }, [1, 1, 1, 1])).toBe(
      '2 of 4 agents get no load at all: ' +
        'scenario "default" (2 VUs) gives no VUs to agent 3 (runner-3), agent 4 (runner-4). ' +
        'An agent without load still starts k6 and holds its machine (on GitHub, a runner). ' +
        'Fix: use at most 2 agents, or give "default" at least 4 VUs.',
    );
  });

  it('issue 20.7: no warning when every agent has work, or with one agent', () => {
    expect(warn({ default: vus(4) }, [1, 1, 1, 1])).toBeUndefined();
    expect(warn({ default: vus(1) }, [1])).toBeUndefined();
    expect(warn({}, [1, 1])).toBeUndefined();
  });

  it('issue 20.7: agents idle in one scenario but busy in another are counted apart', () => {
    const text = warn(
      {
        browse: vus(8),
        buy: { executor: 'constant-arrival-rate', rate: 10, duration: '10s', preAllocatedVUs: 2 },
      },
      [1, 1, 1, 1],
    );
    expect(text).toBe(
      '2 of 4 agents get no load in some scenarios: scenario "buy" (2 max VUs) ' +
        'gives no VUs to agent 3 (runner-3), agent 4 (runner-4). ' +
        'An agent without load still starts k6 and holds its machine (on GitHub, a runner). ' +
        'Fix: use at most 2 agents, or give "buy" at least 4 max VUs.',
    );
  });

  it('issue 20.7: with several scenarios, agents idle in all of them are named first', () => {
    const text = warn(
      {
        browse: vus(2),
        buy: { executor: 'per-vu-iterations', vus: 3, iterations: 5 },
      },
      [1, 1, 1, 1],
    );
    expect(text).toBe(
      '1 of 4 agents gets no load at all (agent 4 (runner-4)): ' +
        'scenario "browse" (2 VUs) gives no VUs to agent 3 (runner-3), agent 4 (runner-4); ' +
        'scenario "buy" (3 VUs) gives no VUs to agent 4 (runner-4). ' +
        'An agent without load still starts k6 and holds its machine (on GitHub, a runner). ' +
        'Fix: use at most 2 agents, or give "browse" at least 4 VUs and "buy" at least 4 VUs.',
    );
  });

  it('issue 20.7: a long list of idle agents is cut short', () => {
    const text = warn({ default: vus(2) }, Array<number>(10).fill(1)) ?? '';
    expect(text).toMatch(
      /^8 of 10 agents get no load at all: .* gives no VUs to agent 3 \(runner-3\), .*agent 7 \(runner-7\) and 3 more\./,
    );
    expect(text).toMatch(/use at most 2 agents, or give "default" at least 10 VUs\.$/);
  });
});
