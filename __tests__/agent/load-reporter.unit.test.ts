/** Issue 20.7: an agent reports its machine's readings in batches while its k6 runs. */
import { describe, expect, it } from '@jest/globals';

import { LoadReporter } from '../../src/agent/load-reporter.js';
import type { AgentEvent } from '../../src/protocol/messages.js';
import { LoadMonitor } from '../../src/runtime/machine-load.js';
import { ManualTimers } from '../helpers/manual-timers.js';

type Sent = Extract<AgentEvent, { type: 'resources' }>;

function harness(startLocalMs: number, ack: () => Promise<void> = () => Promise.resolve()) {
  const timers = new ManualTimers(0);
  const monitor = new LoadMonitor({
    probe: { read: () => ({ cpu: 0.5, memory: 0.25 }) },
    every: timers.every,
    now: timers.now,
  });
  const sent: Sent[] = [];
  const reporter = new LoadReporter({
    monitor,
    startLocalMs,
    every: timers.every,
    send: (event) => {
      sent.push(event);
      return ack();
    },
  });
  return { timers, reporter, sent };
}

describe('LoadReporter (issue 20.7)', () => {
  it('sends a batch every 5 s, each reading timed from the start instant; the rest on close', async () => {
    const { timers, reporter, sent } = harness(1_500);
    timers.advance(5_000);
    expect(sent).toHaveLength(1);
    timers.advance(2_000);
    await reporter.close();
    expect(sent).toHaveLength(2);
    // Readings every second from 1 s; the one before the start instant (1.5 s) is left out.
    expect(sent.flatMap((b) => b.samples)).toEqual(
      [500, 1_500, 2_500, 3_500, 4_500, 5_500].map((ms) => ({ ms, cpu: 0.5, memory: 0.25 })),
    );
    timers.advance(10_000);
    expect(sent).toHaveLength(2);
    expect(timers.pending).toBe(0);
  });

  it('has one batch in flight at a time, and keeps the newest 60 readings meanwhile', async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { timers, reporter, sent } = harness(0, () => gate);
    timers.advance(5_000);
    expect(sent).toHaveLength(1);
    // The coordinator does not answer for 100 s: nothing else leaves, and the readings wait.
    timers.advance(100_000);
    expect(sent).toHaveLength(1);
    open();
    await reporter.close();
    expect(sent).toHaveLength(2);
    expect(sent[1]?.samples).toHaveLength(60);
    expect(sent[1]?.samples[0]?.ms).toBe(46_000);
    expect(sent[1]?.samples[59]?.ms).toBe(105_000);
  });
});
