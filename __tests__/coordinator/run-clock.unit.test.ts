/**
 * The run's duration as one k6 counts it (issue 16.3): setup(), then from the
 * first k6's start to the last one's end, then teardown(); never the setup
 * data hand-out, the start lead, or the time reports take to arrive.
 */
import { describe, expect, it } from '@jest/globals';

import { RunClock } from '../../src/coordinator/run-clock.js';

const T0 = 1_700_000_000_000;

/** A run as the coordinator sees it: setup ordered at T0, the start instant at T0 + 1.5 s. */
function startedRun(setup: { reportedMs?: number; endsAt?: number } = {}): RunClock {
  const clock = new RunClock();
  clock.setupBegan(T0);
  clock.setupEnded(setup.endsAt ?? T0 + 40, setup.reportedMs ?? 25);
  clock.started(T0 + 1_500);
  return clock;
}

describe('RunClock', () => {
  it('issue 16.3: testRunDurationMs starts at the start instant, not at its announcement', () => {
    const clock = startedRun();
    // During the start lead the run has not started: only setup() counts.
    expect(clock.durationMs(T0 + 1_000)).toBe(25);
    expect(clock.durationMs(T0 + 3_500)).toBe(25 + 2_000);
  });

  it('issue 16.3: ends with the last k6 and counts teardown() as measured where it ran', () => {
    const clock = startedRun();
    clock.agentFinished(T0 + 9_700, { startMs: 3, runMs: 8_000 });
    clock.agentFinished(T0 + 9_900, { startMs: 1, runMs: 8_040 });
    clock.runEnded(T0 + 9_900);
    clock.teardownBegan(T0 + 9_910);
    expect(clock.durationMs(T0 + 9_920)).toBeCloseTo(25 + 8_039 + 10, 6);
    clock.teardownEnded(T0 + 9_990, 30);
    clock.ended(T0 + 10_000);
    expect(clock.durationMs(T0 + 60_000)).toBeCloseTo(25 + 8_039 + 30, 6);
    expect(clock.runMs).toBe(8_039);
  });

  it('never takes an agent at its word beyond what the coordinator saw', () => {
    // setup() said 5 s but its report came 40 ms after the order.
    const clock = startedRun({ reportedMs: 5_000, endsAt: T0 + 40 });
    clock.agentFinished(T0 + 1_600, { startMs: 999_999, runMs: 3_600_000 });
    clock.runEnded(T0 + 1_600);
    clock.ended(T0 + 1_600);
    expect(clock.setupMs).toBe(40);
    // The end is capped at the report's arrival, the start at the end.
    expect(clock.durationMs(T0 + 2_000)).toBe(40 + 0);
  });

  it('counts from the start instant to the coordinator seeing the end when agents report nothing', () => {
    const clock = startedRun();
    clock.agentFinished(T0 + 2_500);
    clock.runEnded(T0 + 2_500);
    expect(clock.durationMs(T0 + 2_600)).toBe(25 + 1_000);
  });

  it('counts setup() alone when the run never starts (setup failed)', () => {
    const clock = new RunClock();
    expect(clock.durationMs(T0)).toBe(0);
    clock.setupBegan(T0);
    expect(clock.durationMs(T0 + 10)).toBe(10);
    clock.setupEnded(T0 + 30);
    clock.ended(T0 + 50);
    expect(clock.durationMs(T0 + 500)).toBe(30);
  });

  it('counts no setup() with --no-setup: the gap before the start instant is not the run', () => {
    const clock = new RunClock();
    clock.setupBegan(T0);
    clock.started(T0 + 1_200);
    expect(clock.durationMs(T0 + 2_200)).toBe(1_000);
  });
});
