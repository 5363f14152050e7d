/**
 * Issue 17 items 3 and 6, the parts below the HTTP tests in
 * events.int.test.ts: the depth count, the sequence window, the deadline's
 * derivation, and a coordinator giving up on an agent that never finishes.
 */
import { describe, expect, it } from '@jest/globals';

import type { AgentRecord } from '../../src/coordinator/agent-record.js';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { runDeadlineMs } from '../../src/coordinator/deadline.js';
import { SEQUENCE_WINDOW, SequenceGuard } from '../../src/coordinator/sequence.js';
import { EventMessage, PROTOCOL_VERSION, type AgentEvent } from '../../src/protocol/messages.js';
import { jsonDepth, SETUP_DATA_LIMITS } from '../../src/protocol/setup-data.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { PACKAGE_VERSION } from '../../src/version.js';
import { onCleanup } from '../helpers/cleanup.js';
import { ManualTimers } from '../helpers/manual-timers.js';

function nested(depth: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < depth; i++) value = i % 2 ? { a: value } : [value];
  return value;
}

describe('issue 17.3: setup() data depth', () => {
  it('counts nesting without recursion, far past what a recursive walk survives', () => {
    expect(jsonDepth(null, 10)).toBe(0);
    expect(jsonDepth({ a: [1, { b: 'x' }], c: [] }, 10)).toBe(3);
    expect(jsonDepth(nested(1_000), 2_000)).toBe(1_000);
    // Stops counting past the limit: a 1,000,000-level value costs what 11 levels do.
    expect(jsonDepth(nested(1_000_000), 10)).toBe(11);
  });

  it('the event schema takes setup data at the limit and refuses one level more', () => {
    const report = (data: unknown) =>
      EventMessage.safeParse({ seq: 1, event: { type: 'setup-done', data } });
    const limit = SETUP_DATA_LIMITS.maxDepth;
    expect(report(nested(limit)).success).toBe(true);
    const refused = report(nested(limit + 1));
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toMatch(/nested deeper than 1000 levels/);
  });
});

describe('issue 17.6: sequence numbers', () => {
  it('takes the next numbers within the window and refuses a jump, changing nothing', () => {
    const guard = new SequenceGuard('events of agent 2 (b)');
    expect(guard.check(1)).toBe('next');
    guard.accept(1);
    expect(guard.check(1 + SEQUENCE_WINDOW)).toBe('next');
    expect(() => guard.check(2 + SEQUENCE_WINDOW)).toThrow(
      expect.objectContaining({ code: 'SEQUENCE_OUT_OF_RANGE' }),
    );
    expect(() => guard.check(Number.MAX_SAFE_INTEGER)).toThrow(/the next is 2/);
    expect(guard.last).toBe(1);
  });

  it('tells a retry (same content) from another report under the same number', () => {
    const guard = new SequenceGuard('metric deltas of agent 2 (b)');
    guard.accept(1, 'theirs');
    expect(guard.check(1)).toBe('seen');
    expect(guard.isRetry(1, 'theirs')).toBe(true);
    expect(guard.isRetry(1, 'mine')).toBe(false);
    guard.accept(1, 'mine');
    expect(guard.isRetry(1, 'mine')).toBe(true);
    // A number long past: a late retry, never applied again.
    for (let seq = 2; seq <= 100; seq++) guard.accept(seq, `d${String(seq)}`);
    expect(guard.isRetry(1, 'someone else')).toBe(true);
  });
});

describe('issue 17.6: the run deadline', () => {
  it("is setupTimeout + start lead + the test's longest duration + teardownTimeout + grace", () => {
    const run = { startLeadMs: 1_000, graceMs: 60_000 };
    const test = (options: Record<string, unknown>) => ({ options, totalDurationMs: 90_000 });
    // k6's defaults: 60 s each for setup() and teardown().
    expect(runDeadlineMs(test({}), run)).toBe(60_000 + 1_000 + 90_000 + 60_000 + 60_000);
    expect(runDeadlineMs(test({ setupTimeout: '2m0s', teardownTimeout: '1.5s' }), run)).toBe(
      120_000 + 1_000 + 90_000 + 1_500 + 60_000,
    );
    expect(runDeadlineMs(test({ noSetup: true, noTeardown: true }), run)).toBe(
      1_000 + 90_000 + 60_000,
    );
  });

  it('stops the run with 102, then drops the agent that never finished; teardown still runs once', async () => {
    const clock = new ManualTimers();
    const coordinator = new Coordinator({
      expectedAgents: 2,
      archive: { sha256: 'ab'.repeat(32), bytes: 1 },
      startLeadMs: 0,
      deadlineMs: 40,
      deadlineGraceMs: 40,
      log: silentLogger,
      now: clock.now,
      after: clock.after,
      every: clock.every,
    });
    onCleanup(() => coordinator.close());
    const agents = [0, 1].map((i) => {
      const { token } = coordinator.register({
        protocol: PROTOCOL_VERSION,
        version: PACKAGE_VERSION,
        key: `deadline-test-key-${String(i)}`,
        weight: '1',
        tags: {},
        k6Version: '2.2.0',
      });
      return coordinator.agentForToken(token) as AgentRecord;
    });
    const [first, second] = agents as [AgentRecord, AgentRecord];
    const seqs = new Map<AgentRecord, number>();
    const send = (agent: AgentRecord, event: AgentEvent) => {
      const seq = (seqs.get(agent) ?? 0) + 1;
      seqs.set(agent, seq);
      coordinator.receiveEvent(agent, { seq, event });
    };
    for (const agent of agents) send(agent, { type: 'ready', vusMax: 1 });
    send(first, { type: 'setup-done', data: null });
    for (const agent of agents) send(agent, { type: 'data-set' });
    send(first, { type: 'finished', status: 9, aborted: false });
    // The second agent never says it finished.

    const stop = coordinator.poll(first, first.version);
    clock.advance(40);
    await stop; // stop, at the deadline
    expect(first.instruction.type).toBe('stop');
    const teardown = coordinator.poll(first, first.version);
    clock.advance(40);
    await teardown; // teardown, once the second is dropped
    expect(first.instruction.type).toBe('teardown');
    expect(second.instruction.type).toBe('release');
    send(first, { type: 'teardown-done' });
    send(first, {
      type: 'k6-exited',
      expected: true,
      exit: { code: 0, signal: null, description: 'the test passed' },
    });
    const result = await coordinator.result;

    expect(result.exitCode).toBe(102);
    expect(result.message).toMatch(/passed its deadline .* waiting for agent 2 \(agent-2\)/);
    expect(result.teardownRan).toBe(true);
    expect(result.agents.map((a) => a.lost)).toEqual([
      undefined,
      "it did not finish within the run's deadline (phase stopping)",
    ]);
  });
});
