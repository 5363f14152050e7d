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
      { name: 'steady', percent: (1 / 3) * 100, detail: '1.0s/3s' },
      { name: 'ramp', percent: 0, detail: 'waiting 1.0s' },
      { name: 'shared', percent: 40, detail: '24/60 shared iters' },
      { name: 'each', percent: 40, detail: '8/20 iters, 10 per VU' },
    ]);
    const later = scenarioProgress(scenarios, 47_000, new Map([['shared', 99]]));
    expect(later.map((p) => [p.name, p.percent, p.detail])).toEqual([
      ['steady', 100, '3.0s/3s'],
      ['ramp', 50, '45.0s/1m30.0s'],
      ['shared', 100, '60/60 shared iters'],
      ['each', 0, '0/20 iters, 10 per VU'],
    ]);
  });

  it("prints k6's layout: names aligned, the percentage in brackets", () => {
    const lines = scenarioProgressLines(
      scenarioProgress(scenarios, 1_000, new Map([['shared', 24]])),
    );
    expect(lines).toEqual([
      'steady   [  33% ] 1.0s/3s',
      'ramp     [   0% ] waiting 1.0s',
      'shared   [  40% ] 24/60 shared iters',
      'each     [   0% ] 0/20 iters, 10 per VU',
    ]);
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
