import { describe, expect, it } from '@jest/globals';

import { VusSampler } from '../../src/agent/vus-sampler.js';

describe('VusSampler', () => {
  it("issue 16.11: samples at the run's ticks, reported at their nominal instant, skipping ticks long past", async () => {
    const taken: [string, number, number, boolean][] = [];
    let calls = 0;
    let reachedSecond!: () => void;
    const second = new Promise<void>((resolve) => (reachedSecond = resolve));
    // The start instant was 2.3 s ago: the tick at 0.99 s is long past, the one at 1.99 s just past.
    const sampler = new VusSampler({
      status: () => {
        calls++;
        if (calls === 2) reachedSecond();
        return Promise.resolve({ vus: calls, vusMax: 10, status: 7, stopped: false });
      },
      record: (metric, ms, value, over) => taken.push([metric, ms, value, over]),
      startLocalMs: Date.now() - 2_300,
      phaseMs: 990,
    });
    sampler.start();
    await second;
    await sampler.stop();
    expect(taken).toEqual([
      ['vus', 1_990, 1, false],
      ['vus_max', 1_990, 10, false],
      ['vus', 2_990, 2, false],
      ['vus_max', 2_990, 10, false],
    ]);
  });

  it('issue 16.11: marks the first sample after the run is over, and takes no more', async () => {
    const taken: [string, number, number, boolean][] = [];
    let calls = 0;
    const sampler = new VusSampler({
      // The first tick finds the run going; the second finds it ended (k6 status 9, 0 VUs).
      status: () => {
        calls++;
        return Promise.resolve({
          vus: calls === 1 ? 4 : 0,
          vusMax: 4,
          status: calls === 1 ? 7 : 9,
          stopped: false,
        });
      },
      record: (metric, ms, value, over) => taken.push([metric, ms, value, over]),
      startLocalMs: Date.now() - 1_300,
      phaseMs: 990,
    });
    sampler.start();
    await sampler.finished;
    expect(taken).toEqual([
      ['vus', 990, 4, false],
      ['vus_max', 990, 4, false],
      ['vus', 1_990, 0, true],
      ['vus_max', 1_990, 4, true],
    ]);
    expect(calls).toBe(2);
  });
});
