import { describe, expect, it } from '@jest/globals';

import {
  scenarioProgress,
  scenarioProgressLines,
} from '../../src/coordinator/scenario-progress.js';

const scenarios = {
  steady: { executor: 'constant-vus', vus: 2, duration: '3s', startTime: '0s' },
  ramp: {
    executor: 'ramping-arrival-rate',
    startTime: '2s',
    stages: [
      { target: 4, duration: '30s' },
      { target: 0, duration: '1m0s' },
    ],
  },
  shared: { executor: 'shared-iterations', vus: 2, iterations: 60 },
  each: { executor: 'per-vu-iterations', vus: 2, iterations: 10 },
  odd: { executor: 'someday-executor' },
};

describe("each scenario's progress, as k6's progress bars say it (issue 20.5)", () => {
  it('time for duration-based executors, iterations for the others; waiting before startTime', () => {
    const iterations = new Map([
      ['shared', 24],
      ['each', 8],
    ]);
    expect(scenarioProgress(scenarios, 1_000, iterations)).toEqual([
      { name: 'steady', percent: (1 / 3) * 100, detail: '2 VUs  1.0s/3s' },
      { name: 'ramp', percent: 0, detail: 'waiting 1.0s' },
      { name: 'shared', percent: 40, detail: '2 VUs  24/60 shared iters' },
      { name: 'each', percent: 40, detail: '2 VUs  8/20 iters, 10 per VU' },
    ]);
    const later = scenarioProgress(scenarios, 47_000, new Map([['shared', 99]]));
    expect(later.map((p) => [p.name, p.percent, p.detail])).toEqual([
      ['steady', 100, '2 VUs  3.0s/3s'],
      // Several scenarios: the run's VUs are not this one's, so none are shown.
      ['ramp', 50, '45.0s/1m30.0s'],
      ['shared', 100, '2 VUs  60/60 shared iters'],
      ['each', 0, '2 VUs  0/20 iters, 10 per VU'],
    ]);
  });

  it("prints k6's layout: names aligned, the percentage in brackets", () => {
    const lines = scenarioProgressLines(
      scenarioProgress(scenarios, 1_000, new Map([['shared', 24]])),
    );
    expect(lines).toEqual([
      'steady   [  33% ] 2 VUs  1.0s/3s',
      'ramp     [   0% ] waiting 1.0s',
      'shared   [  40% ] 2 VUs  24/60 shared iters',
      'each     [   0% ] 2 VUs  0/20 iters, 10 per VU',
    ]);
  });

  it("gives a one-scenario test's varying VUs as k6 does, current of max, from the run's VUs", () => {
    const ramping = {
      default: {
        executor: 'ramping-vus',
        startVUs: 0,
        stages: [
          { target: 20, duration: '10s' },
          { target: 5, duration: '10s' },
        ],
      },
    };
    expect(scenarioProgress(ramping, 5_000, undefined, 7)[0]?.detail).toBe('07/20 VUs  5.0s/20.0s');
    const arrival = {
      default: {
        executor: 'constant-arrival-rate',
        rate: 50,
        duration: '30s',
        preAllocatedVUs: 5,
        maxVUs: 100,
      },
    };
    expect(scenarioProgress(arrival, 3_000, undefined, 9)[0]?.detail).toBe('009/100 VUs  3.0s/30s');
    // Without the run's VUs: the time alone.
    expect(scenarioProgress(arrival, 3_000, undefined)[0]?.detail).toBe('3.0s/30s');
  });

  it('leaves out iteration-based scenarios whose count is unknown (a compact summary of several)', () => {
    expect(scenarioProgress(scenarios, 1_000, undefined).map((p) => p.name)).toEqual([
      'steady',
      'ramp',
    ]);
  });

  it('leaves out a scenario it cannot read', () => {
    const broken = { a: { executor: 'constant-vus', duration: 'soon' } };
    expect(scenarioProgress(broken, 1_000, new Map())).toEqual([]);
  });
});
