/** Issue 20.7: this machine's load, read once a second while anyone listens. */
import { cpus } from 'node:os';

import { describe, expect, it } from '@jest/globals';

import { LoadMonitor, machineLoadProbe } from '../../src/runtime/machine-load.js';
import { ManualTimers } from '../helpers/manual-timers.js';

describe('machineLoadProbe (issue 20.7)', () => {
  it('sees this process keep one core busy, as a share of every core', () => {
    const probe = machineLoadProbe();
    const until = performance.now() + 400;
    while (performance.now() < until) {
      // Busy on purpose: one core fully used.
    }
    const { cpu, memory } = probe.read();
    // One of N cores, less what a loaded machine's accounting rounds away.
    expect(cpu).toBeGreaterThanOrEqual(0.8 / cpus().length);
    expect(cpu).toBeLessThanOrEqual(1);
    expect(memory).toBeGreaterThan(0);
    expect(memory).toBeLessThanOrEqual(1);
  });
});

describe('LoadMonitor (issue 20.7)', () => {
  it('reads once per interval for every listener, and stops when the last one leaves', () => {
    const timers = new ManualTimers(1_000);
    let reads = 0;
    const monitor = new LoadMonitor({
      probe: { read: () => ({ cpu: (reads += 1) / 10, memory: 0.5 }) },
      every: timers.every,
      now: timers.now,
    });
    const a: number[] = [];
    const b: number[] = [];
    const leaveA = monitor.subscribe((r) => a.push(r.cpu));
    const leaveB = monitor.subscribe((r, at) => b.push(at));
    timers.advance(2_000);
    expect(a).toEqual([0.1, 0.2]);
    expect(b).toEqual([2_000, 3_000]);
    leaveA();
    timers.advance(1_000);
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(3);
    leaveB();
    expect(timers.pending).toBe(0);
    expect(reads).toBe(3);
  });
});
