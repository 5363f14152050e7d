import { describe, expect, it } from '@jest/globals';

import { VusSampler } from '../../src/agent/vus-sampler.js';

describe('VusSampler', () => {
  it("issue 16.11: samples at the run's ticks, reported at their nominal instant, skipping ticks long past", async () => {
    const taken: [string, number, number][] = [];
    let calls = 0;
    let reachedSecond!: () => void;
    const second = new Promise<void>((resolve) => (reachedSecond = resolve));
    // The start instant was 2.3 s ago: the tick at 0.99 s is long past, the one at 1.99 s just past.
    const sampler = new VusSampler({
      status: () => {
        calls++;
        if (calls === 2) reachedSecond();
        return Promise.resolve({ vus: calls, vusMax: 10 });
      },
      record: (metric, ms, value) => taken.push([metric, ms, value]),
      startLocalMs: Date.now() - 2_300,
      phaseMs: 990,
    });
    sampler.start();
    await second;
    await sampler.stop();
    expect(taken).toEqual([
      ['vus', 1_990, 1],
      ['vus_max', 1_990, 10],
      ['vus', 2_990, 2],
      ['vus_max', 2_990, 10],
    ]);
  });
});
