/**
 * The coordination core driven in-process, without HTTP: registration, the
 * phase barriers, idempotent reports, aborts, agent loss and long-polls.
 * Time is moved by hand (ManualTimers): the join timeout, liveness checks
 * and poll holds fire as the test advances the clock, never on real timers.
 */
import { CapturingLogger } from '../helpers/distributed.js';
import { describe, expect, it, jest } from '@jest/globals';

import { AgentRecord } from '../../src/coordinator/agent-record.js';
import { Coordinator, type CoordinatorOptions } from '../../src/coordinator/coordinator.js';
import { metricsIntervalFor } from '../../src/coordinator/run.js';
import { CoordinatorMetrics } from '../../src/coordinator/run-metrics.js';
import { parseRunFlags } from '../../src/k6/run-flags.js';
import { hasErrorCode } from '../../src/errors.js';
import { DISTRIBUTED_RUN_FAILED, K6_EXIT_CODES } from '../../src/k6/exit-codes.js';
import { JsonText } from '../../src/protocol/json-text.js';
import {
  AgentEvent,
  PROTOCOL_VERSION,
  type Instruction,
  type RegisterRequest,
} from '../../src/protocol/messages.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { LoadMonitor } from '../../src/runtime/machine-load.js';
import { PACKAGE_VERSION } from '../../src/version.js';
import { onCleanup } from '../helpers/cleanup.js';
import { ManualTimers } from '../helpers/manual-timers.js';

const ARCHIVE = { sha256: 'ab'.repeat(32), bytes: 4321 };
const T0 = 1_700_000_000_000;

type InstructionOf<T extends Instruction['type']> = Extract<Instruction, { type: T }>;

function registration(key: string, overrides: Partial<RegisterRequest> = {}): RegisterRequest {
  return {
    protocol: PROTOCOL_VERSION,
    version: PACKAGE_VERSION,
    key,
    weight: '1',
    tags: {},
    k6Version: '2.2.0',
    ...overrides,
  };
}

function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a value, got undefined');
  return value;
}

/** A coordinator on a manual clock, per-agent sequence numbers and a record of every instruction. */
function harness(options: Partial<CoordinatorOptions> = {}) {
  const clock = new ManualTimers(T0);
  const coordinator = new Coordinator({
    expectedAgents: 3,
    archive: ARCHIVE,
    now: clock.now,
    after: clock.after,
    every: clock.every,
    // Phase tests read the start instant as now + startLeadMs (issue 18.1 tests the alignment).
    startAlignMs: 1,
    ...options,
    log: options.log ?? silentLogger,
  });
  onCleanup(() => coordinator.close());
  const spy = jest.spyOn(AgentRecord.prototype, 'instruct');
  onCleanup(() => spy.mockRestore());
  const seqs = new Map<AgentRecord, number>();
  let keys = 0;

  const newKey = () => `test-agent-key-${String((keys += 1)).padStart(4, '0')}`;
  return {
    coordinator,
    clock,
    newKey,
    /** Registers `count` new agents, each with a fresh key. */
    register(count: number): AgentRecord[] {
      return Array.from({ length: count }, () => {
        const response = coordinator.register(registration(newKey()));
        return defined(coordinator.agentForToken(response.token));
      });
    },
    /** Reports one event with this agent's next sequence number; returns that number. */
    send(agent: AgentRecord, event: AgentEvent): number {
      const seq = (seqs.get(agent) ?? 0) + 1;
      seqs.set(agent, seq);
      coordinator.receiveEvent(agent, { seq, event });
      return seq;
    },
    sendAll(agents: readonly AgentRecord[], event: AgentEvent): void {
      for (const agent of agents) this.send(agent, event);
    },
    /** Every instruction type this agent was given, in order. */
    instructed(agent: AgentRecord): Instruction['type'][] {
      return spy.mock.calls.flatMap(([instruction], i) =>
        spy.mock.contexts[i] === agent ? [instruction.type] : [],
      );
    },
  };
}

type Harness = ReturnType<typeof harness>;

/** Asserts the agent's current instruction type and returns it, narrowed. */
function current<T extends Instruction['type']>(agent: AgentRecord, type: T): InstructionOf<T> {
  expect(agent.instruction.type).toBe(type);
  const instruction = agent.instruction as InstructionOf<T>;
  // setup() data is serialized once for every agent: what an agent parses from the wire.
  const data = (instruction as { data?: unknown }).data;
  return data instanceof JsonText ? { ...instruction, data: data.parse() } : instruction;
}

const ready: AgentEvent = { type: 'ready', vusMax: 4 };
const dataSet: AgentEvent = { type: 'data-set' };
const finished = (aborted = false): AgentEvent => ({ type: 'finished', status: 7, aborted });
/** finished, with when the agent's k6 started and ended after the start instant (its clock). */
const ranFor = (startMs: number, runMs: number): AgentEvent => ({
  type: 'finished',
  status: 9,
  aborted: false,
  startMs,
  runMs,
});
const started = (at: number): AgentEvent => ({ type: 'started', at, offsetMs: 0, rttMs: 1 });
const exited = (code: number | null = 0, expected = true, signal: string | null = null) =>
  ({
    type: 'k6-exited',
    exit: { code, signal, description: code === 0 ? 'the test passed' : `k6 ended (${signal})` },
    expected,
  }) satisfies AgentEvent;

/** ready → setup → setup-data → start, asserting the run reached `running`. */
function toRunning(h: Harness, agents: readonly AgentRecord[], data: unknown = { id: 1 }): number {
  const leader = defined(agents[0]);
  h.sendAll(agents, ready);
  h.send(leader, { type: 'setup-done', data });
  h.sendAll(agents, dataSet);
  expect(h.coordinator.phase).toBe('running');
  return current(leader, 'start').at;
}

async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  const pending = Symbol('pending');
  const winner = await Promise.race([
    promise,
    new Promise((resolve) => setImmediate(() => resolve(pending))),
  ]);
  return winner !== pending;
}

/**
 * Polls like an agent until the given instruction arrives, moving the manual
 * clock 10 ms at a time while a poll is held (bounded at 4 s of clock time).
 */
async function pollUntil<T extends Instruction['type']>(
  h: Harness,
  agent: AgentRecord,
  type: T,
): Promise<InstructionOf<T>> {
  const deadline = h.clock.ms + 4_000;
  let version = 0;
  while (h.clock.ms < deadline) {
    const poll = h.coordinator.poll(agent, version);
    while (!(await isSettled(poll)) && h.clock.ms < deadline) h.clock.advance(10);
    const response = await poll;
    version = response.version;
    if (response.instruction.type === type) return response.instruction as InstructionOf<T>;
  }
  throw new Error(`no ${type} instruction for ${agent.label} within 4 s`);
}

describe('Coordinator: a run with three agents', () => {
  it('walks every phase from joining to done with one setup, one teardown and exit code 0', async () => {
    const h = harness({ startLeadMs: 750 });
    const { coordinator, clock } = h;
    const responses = [1, 2, 3].map(() => coordinator.register(registration(h.newKey())));
    const agents = responses.map((r) => defined(coordinator.agentForToken(r.token)));
    const [leader, second, third] = agents as [AgentRecord, AgentRecord, AgentRecord];

    expect(responses.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(new Set(responses.map((r) => r.token)).size).toBe(3);
    for (const r of responses) expect(r.expectedAgents).toBe(3);

    // joining → initialising: every agent is told its share.
    expect(coordinator.phase).toBe('initialising');
    const assignments = agents.map((a) => current(a, 'prepare').assignment);
    expect(assignments.map((a) => a.segment)).toEqual(['0:1/3', '1/3:2/3', '2/3:1']);
    for (const a of assignments) expect(a.sequence).toBe('0,1/3,2/3,1');
    expect(assignments.map((a) => a.instanceId)).toEqual([1, 2, 3]);
    expect(assignments.map((a) => a.leader)).toEqual([true, false, false]);
    for (const a of assignments) {
      expect(a.archiveSha256).toBe(ARCHIVE.sha256);
      expect(a.archiveBytes).toBe(ARCHIVE.bytes);
    }

    // initialising → setup: only once every agent is ready, and only the leader runs setup().
    h.send(leader, ready);
    h.send(second, ready);
    expect(coordinator.phase).toBe('initialising');
    expect(current(leader, 'prepare')).toBeDefined();
    h.send(third, ready);
    expect(coordinator.phase).toBe('setup');
    current(leader, 'setup');
    current(second, 'prepare');
    current(third, 'prepare');

    // setup → distributing: every agent gets the exact data setup() returned.
    const data = { token: 'abc', users: [1, 2, 3], nested: { ok: true } };
    h.send(leader, { type: 'setup-done', data });
    expect(coordinator.phase).toBe('distributing');
    for (const agent of agents) expect(current(agent, 'setup-data').data).toStrictEqual(data);

    // distributing → running: one common start instant, announced startLeadMs ahead.
    h.send(leader, dataSet);
    clock.advance(400);
    h.send(second, dataSet);
    expect(coordinator.phase).toBe('distributing');
    clock.advance(100);
    h.send(third, dataSet);
    expect(coordinator.phase).toBe('running');
    const at = clock.ms + 750;
    for (const agent of agents) expect(current(agent, 'start').at).toBe(at);

    h.send(leader, started(at + 3));
    h.send(second, started(at + 10));
    h.send(third, started(at + 1));

    // running → teardown: only once every agent finished, on the leader.
    h.send(second, finished());
    h.send(third, finished());
    expect(coordinator.phase).toBe('running');
    h.send(leader, finished());
    expect(coordinator.phase).toBe('teardown');
    current(leader, 'teardown');
    current(second, 'start');
    current(third, 'start');

    // teardown → releasing → done.
    h.send(leader, { type: 'teardown-done' });
    expect(coordinator.phase).toBe('releasing');
    for (const agent of agents) current(agent, 'release');
    h.send(leader, exited(0));
    h.send(second, exited(0));
    expect(await isSettled(coordinator.result)).toBe(false);
    h.send(third, exited(0));
    expect(coordinator.phase).toBe('done');

    const result = await coordinator.result;
    expect(result.exitCode).toBe(0);
    expect(result.message).toBe('the run finished');
    expect(result.setupRan).toBe(true);
    expect(result.teardownRan).toBe(true);
    expect(result.startSkewMs).toBe(9);
    expect(result.agents.map((a) => a.segment)).toEqual(['0:1/3', '1/3:2/3', '2/3:1']);
    expect(result.agents.map((a) => a.leader)).toEqual([true, false, false]);
    expect(result.agents.map((a) => a.startedAt)).toEqual([at + 3, at + 10, at + 1]);
    expect(result.agents.map((a) => a.lost)).toEqual([undefined, undefined, undefined]);
    for (const a of result.agents) expect(a.k6Exit?.code).toBe(0);

    expect(h.instructed(leader)).toEqual([
      'prepare',
      'setup',
      'setup-data',
      'start',
      'teardown',
      'release',
    ]);
    for (const agent of [second, third]) {
      expect(h.instructed(agent)).toEqual(['prepare', 'setup-data', 'start', 'release']);
    }
  });

  it('skips setup and teardown instructions with noSetup and noTeardown', async () => {
    const h = harness({ expectedAgents: 2, noSetup: true, noTeardown: true });
    const agents = h.register(2);
    const [leader] = agents as [AgentRecord, AgentRecord];

    h.sendAll(agents, ready);
    expect(h.coordinator.phase).toBe('distributing');
    for (const agent of agents) expect(current(agent, 'setup-data').data).toBeNull();
    h.sendAll(agents, dataSet);
    h.sendAll(agents, finished());
    expect(h.coordinator.phase).toBe('releasing');
    h.sendAll(agents, exited(0));

    const result = await h.coordinator.result;
    expect(result.exitCode).toBe(0);
    expect(result.setupRan).toBe(false);
    expect(result.teardownRan).toBe(false);
    expect(result.startSkewMs).toBeUndefined();
    expect(h.instructed(leader)).toEqual(['prepare', 'setup-data', 'start', 'release']);
  });
});

describe('Coordinator: the test run duration', () => {
  it("issue 16.3: counts setup(), the agents' own start-to-end and teardown(), not the gaps between", () => {
    const h = harness({ startLeadMs: 1_000 });
    const { coordinator, clock } = h;
    const agents = h.register(3);
    const [leader, second, third] = agents as [AgentRecord, AgentRecord, AgentRecord];
    h.sendAll(agents, ready);
    clock.advance(60);
    h.send(leader, { type: 'setup-done', data: null, durationMs: 42 });
    clock.advance(300); // the setup data reaches every agent
    h.sendAll(agents, dataSet);
    expect(coordinator.runDurationMs).toBe(42);
    clock.advance(1_000 + 2_000); // the lead, then 2 s of the run
    expect(coordinator.runDurationMs).toBe(42 + 2_000);

    clock.advance(1_500); // every report arrives well after its k6 ended
    h.send(second, ranFor(2, 3_010));
    h.send(third, ranFor(4, 3_020));
    h.send(leader, ranFor(3, 3_000));
    clock.advance(25);
    h.send(leader, { type: 'teardown-done', durationMs: 7 });
    clock.advance(5_000);
    expect(coordinator.runDurationMs).toBe(42 + (3_020 - 2) + 7);
  });
});

describe('Coordinator: idempotency', () => {
  it('applies a report repeated with the same seq only once', () => {
    const h = harness();
    const agents = h.register(3);
    const [leader, second] = agents as [AgentRecord, AgentRecord, AgentRecord];
    h.sendAll(agents, ready);

    h.coordinator.receiveEvent(leader, { seq: 2, event: { type: 'setup-done', data: { v: 1 } } });
    const version = leader.version;
    h.coordinator.receiveEvent(leader, { seq: 2, event: { type: 'setup-done', data: { v: 2 } } });

    expect(leader.eventSeq.last).toBe(2);
    expect(leader.version).toBe(version);
    for (const agent of agents) expect(current(agent, 'setup-data').data).toEqual({ v: 1 });

    // An event of a type already applied, under an already-seen (or older) seq, is a retry.
    h.coordinator.receiveEvent(second, { seq: 1, event: { type: 'ready', vusMax: 99 } });
    expect(second.event('ready')?.vusMax).toBe(4);
    expect(h.coordinator.phase).toBe('distributing');
  });

  it('issue 17.6: an event under a seq someone else took is still applied (each type once)', () => {
    const h = harness();
    const agents = h.register(3);
    const [leader, second] = agents as [AgentRecord, AgentRecord, AgentRecord];
    h.sendAll(agents, ready);
    h.send(leader, { type: 'setup-done', data: null });
    // Whoever holds the second agent's token took its next number (2) with a marked-failed ...
    h.coordinator.receiveEvent(second, { seq: 2, event: { type: 'marked-failed', message: 'x' } });
    // ... the agent's own data-set under 2 still counts, and its retry does not twice.
    h.coordinator.receiveEvent(second, { seq: 2, event: dataSet });
    h.coordinator.receiveEvent(second, { seq: 2, event: dataSet });
    expect(second.has('data-set')).toBe(true);
    expect(second.eventSeq.last).toBe(2);
  });

  it('issue 17.6: refuses a sequence number far ahead, changing nothing', () => {
    const h = harness();
    const [leader] = h.register(3) as [AgentRecord, AgentRecord, AgentRecord];
    const jump = () =>
      h.coordinator.receiveEvent(leader, {
        seq: Number.MAX_SAFE_INTEGER,
        event: { type: 'failed', message: 'x' },
      });
    expect(jump).toThrow(expect.objectContaining({ code: 'SEQUENCE_OUT_OF_RANGE' }));
    expect(leader.eventSeq.last).toBe(0);
    expect(leader.live).toBe(true);
    // The agent's own next report is applied.
    h.coordinator.receiveEvent(leader, { seq: 1, event: { type: 'failed', message: 'real' } });
    expect(leader.live).toBe(false);
  });

  it('ignores a second event of a type already received, even under a new seq', () => {
    const h = harness();
    const agents = h.register(3);
    const [leader] = agents as [AgentRecord, AgentRecord, AgentRecord];
    h.sendAll(agents, ready);
    h.send(leader, { type: 'setup-done', data: 'first' });
    h.send(leader, { type: 'setup-done', data: 'second' });

    expect(leader.eventSeq.last).toBe(3);
    for (const agent of agents) expect(current(agent, 'setup-data').data).toBe('first');
  });

  it("issue 20.3: prints every batch of an agent's k6 log and each exec.test.fail(), a retry once", () => {
    const log = new CapturingLogger();
    const h = harness({ log });
    const agents = h.register(3);
    const [leader] = agents as [AgentRecord, AgentRecord, AgentRecord];
    h.sendAll(agents, ready);
    const one = h.send(leader, { type: 'log', lines: ['first'], dropped: 0 });
    h.send(leader, { type: 'log', lines: ['second'], dropped: 0 });
    h.coordinator.receiveEvent(leader, {
      seq: one,
      event: { type: 'log', lines: ['first'], dropped: 0 },
    });
    h.send(leader, { type: 'setup-done', data: null });
    h.send(leader, { type: 'marked-failed', message: 'test marked as failed: a' });
    h.send(leader, { type: 'marked-failed', message: 'test marked as failed: b' });
    const said = log.lines.filter((l) => !l.startsWith('debug: '));
    expect(said.filter((l) => l.startsWith('[agent 1 '))).toEqual([
      '[agent 1 (agent-1)] first',
      '[agent 1 (agent-1)] second',
    ]);
    expect(said.filter((l) => l.includes('test marked as failed'))).toEqual([
      'error: test marked as failed: a',
      'error: test marked as failed: b',
    ]);
  });

  it('issue 20.5/20.6: says each share when ready; for many agents, joins by the tenth and the last joiners', () => {
    const few = new CapturingLogger();
    const h3 = harness({ log: few });
    h3.sendAll(h3.register(3), ready);
    const fewInfo = few.lines.filter((l) => !l.startsWith('debug: '));
    expect(fewInfo.filter((l) => l.includes(' joined ('))).toHaveLength(3);
    expect(fewInfo).toContain(
      'every k6 is paused and ready (agent 1: 33.33%, 4 max VUs; agent 2: 33.33%, 4 max VUs; ' +
        'agent 3: 33.33%, 4 max VUs)',
    );

    const many = new CapturingLogger();
    const h = harness({ log: many, expectedAgents: 30 });
    const agents = Array.from({ length: 30 }, () => {
      h.clock.advance(100);
      return h.register(1)[0] as AgentRecord;
    });
    const info = many.lines.filter((l) => !l.startsWith('debug: '));
    expect(info.filter((l) => l.includes(' joined ('))).toEqual([]);
    expect(info.filter((l) => / agents joined$/.test(l))).toEqual(
      [3, 6, 9, 12, 15, 18, 21, 24, 27].map((n) => `${String(n)}/30 agents joined`),
    );
    expect(info).toContain(
      'all 30 agents joined in 2.9 s (the last: agent 30 (agent-30) +2.9 s, agent 29 (agent-29) ' +
        '+2.8 s, agent 28 (agent-28) +2.7 s); k6 is starting on each',
    );
    h.sendAll(agents, ready);
    expect(many.lines).toContain(
      'every k6 is paused and ready (30 agents: 3.33% of the test and 4 max VUs each)',
    );
  });

  it('answers a repeated registration with the same key with the same identity', () => {
    const h = harness();
    const first = h.coordinator.register(registration('same-key-0123456789'));
    const again = h.coordinator.register(registration('same-key-0123456789', { weight: '3' }));

    expect(again).toEqual(first);
    expect(h.coordinator.agents).toHaveLength(1);
    expect(h.coordinator.phase).toBe('joining');

    // Still the same answer once the run has moved past joining.
    h.register(2);
    expect(h.coordinator.phase).toBe('initialising');
    expect(h.coordinator.register(registration('same-key-0123456789'))).toEqual(first);
    expect(h.coordinator.agents).toHaveLength(3);
  });
});

describe('Coordinator: registration errors', () => {
  it('rejects another protocol version with PROTOCOL_MISMATCH naming both versions', () => {
    const { coordinator } = harness();
    let caught: unknown;
    try {
      coordinator.register(
        registration('mismatched-key-00001', { protocol: PROTOCOL_VERSION + 1, version: '9.9.9' }),
      );
    } catch (error) {
      caught = error;
    }

    expect(hasErrorCode(caught, 'PROTOCOL_MISMATCH')).toBe(true);
    const message = (caught as Error).message;
    expect(message).toContain(`protocol v${String(PROTOCOL_VERSION + 1)} (k6-distributed 9.9.9)`);
    expect(message).toContain(
      `coordinator speaks v${String(PROTOCOL_VERSION)} (k6-distributed ${PACKAGE_VERSION})`,
    );
    expect(coordinator.agents).toHaveLength(0);
  });

  it('rejects an agent beyond the expected count with RUN_STARTED', () => {
    const h = harness();
    h.register(3);
    expect(h.coordinator.phase).toBe('initialising');

    let caught: unknown;
    try {
      h.register(1);
    } catch (error) {
      caught = error;
    }

    expect(hasErrorCode(caught, 'RUN_STARTED')).toBe(true);
    expect((caught as Error).message).toMatch(/late agent cannot join/);
    expect(h.coordinator.agents).toHaveLength(3);
  });
});

describe('Coordinator: setup failure', () => {
  it.each([
    { aborted: false, message: 'Error: boom', exitCode: K6_EXIT_CODES['script-exception'] },
    { aborted: true, message: 'test aborted: no data', exitCode: K6_EXIT_CODES['script-aborted'] },
    {
      aborted: false,
      message: 'setup() execution timed out after 60 seconds',
      exitCode: K6_EXIT_CODES['setup-timeout'],
    },
  ])(
    'setup-failed (aborted $aborted, "$message") releases every agent without teardown and exits $exitCode',
    async ({ aborted, message, exitCode }) => {
      const h = harness();
      const agents = h.register(3);
      const [leader] = agents as [AgentRecord, AgentRecord, AgentRecord];
      h.sendAll(agents, ready);

      h.send(leader, { type: 'setup-failed', message, aborted });

      expect(h.coordinator.phase).toBe('releasing');
      for (const agent of agents) {
        expect(current(agent, 'release').reason).toContain('setup() failed on agent 1');
      }
      h.sendAll(agents, exited(exitCode));

      const result = await h.coordinator.result;
      expect(result.exitCode).toBe(exitCode);
      expect(result.message).toBe(`setup() failed on agent 1 (agent-1): ${message}`);
      expect(result.setupRan).toBe(false);
      expect(result.teardownRan).toBe(false);
      for (const agent of agents) expect(h.instructed(agent)).not.toContain('teardown');
      for (const agent of agents) expect(h.instructed(agent)).not.toContain('start');
    },
  );
});

describe('Coordinator: load generators (issue 20.7)', () => {
  const busy = (fromMs: number, seconds: number, cpu = 0.97) =>
    Array.from({ length: seconds }, (_, i) => ({ ms: fromMs + i * 1_000, cpu, memory: 0.4 }));

  it("tallies each agent's machine readings, warns as one saturates and in the result, with its own machine", async () => {
    const log = new CapturingLogger();
    const timers = new ManualTimers(T0);
    const load = new LoadMonitor({
      probe: { read: () => ({ cpu: 0.9, memory: 0.3 }) },
      every: timers.every,
      now: timers.now,
    });
    const h = harness({ log, load, now: timers.now, after: timers.after, every: timers.every });
    const agents = h.register(3);
    const [leader, second, third] = agents as [AgentRecord, AgentRecord, AgentRecord];
    h.sendAll(agents, ready);
    // Before the run there is nothing to read: an agent (or its stolen token) cannot report it.
    expect(() => h.send(leader, { type: 'resources', samples: busy(0, 1) })).toThrow(
      /cannot come before the running phase/,
    );
    const at = toRunning(h, agents);
    timers.advance(at - timers.ms + 5_000);
    h.send(leader, { type: 'resources', samples: busy(0, 2) });
    expect(log.lines.filter((l) => l.includes('saturated'))).toEqual([]);
    h.send(leader, { type: 'resources', samples: busy(2_000, 3) });
    // Readings it already sent, and beyond the run's age (5 s and 10 s of slack): left out.
    h.send(leader, { type: 'resources', samples: [...busy(0, 5), ...busy(16_000, 50)] });
    h.send(second, { type: 'resources', samples: busy(0, 5, 0.3) });
    expect(log.lines.filter((l) => l.includes('saturated'))).toEqual([
      "warning: agent 1 (agent-1)'s machine is saturated (CPU ≥ 85 % for 5 s of 5 s " +
        '(peak 97 %)): the latencies it measures may be worse than the target is; the ' +
        'end-of-test report lists every such agent',
    ]);
    h.sendAll(agents, finished());
    h.send(leader, { type: 'teardown-done' });
    // Its own readings stop with the run: the coordinator read 6 at 90 %, from the start instant
    // to 5 s after it, when every agent finished.
    timers.advance(10_000);
    h.sendAll(agents, exited(0));
    const result = await h.coordinator.result;

    expect(result.agents[0]?.load).toEqual({
      samples: 5,
      cpuPeak: 0.97,
      cpuMean: 0.97,
      cpuSaturatedSeconds: 5,
      memoryPeak: 0.4,
    });
    expect(result.agents[1]?.load?.cpuSaturatedSeconds).toBe(0);
    expect(result.agents[2]?.load).toBeUndefined();
    expect(result.coordinatorLoad?.samples).toBe(6);
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^1 of 3 agents had its machine at or above 85 % CPU .*: agent 1 \(agent-1\) CPU ≥ 85 % for 5 s of 5 s/,
      ),
      expect.stringMatching(
        /^the coordinator's machine was at or above 85 % CPU \(CPU ≥ 85 % for 6 s of 6 s/,
      ),
    ]);
    // The agent's own report: notes stay for what cannot be trusted.
    expect(result.agents[0]?.notes).toBeUndefined();
    expect(third.load.load).toBeUndefined();
  });
});

describe('Coordinator: init error on an agent (issue 16)', () => {
  it('issue 16 (init error): ends with 107 and the message once, releasing every agent, never lost', async () => {
    const h = harness();
    const agents = h.register(3);
    const [first, second, third] = agents as [AgentRecord, AgentRecord, AgentRecord];
    h.send(first, ready);
    h.send(second, {
      type: 'init-failed',
      message: 'Error: boom (error while initializing VU #2)',
    });
    // Later agents' own init errors change nothing: the first cause wins.
    h.send(third, { type: 'init-failed', message: 'Error: other' });

    expect(h.coordinator.phase).toBe('releasing');
    for (const agent of agents) {
      const reason = current(agent, 'release').reason;
      expect(reason).toBe('the script threw while initialising VUs on agent 2 (agent-2)');
    }
    h.sendAll(agents, exited(107));
    const result = await h.coordinator.result;
    expect(result).toMatchObject({
      exitCode: K6_EXIT_CODES['script-exception'],
      message: 'agent 2 (agent-2): Error: boom (error while initializing VU #2)',
      initFailed: true,
      setupRan: false,
    });
    expect(result.agents.map((a) => a.lost)).toEqual([undefined, undefined, undefined]);
    for (const agent of agents) expect(h.instructed(agent)).not.toContain('setup');
  });

  it('issue 16 (init error): an agent whose VUs were ready cannot claim one: it is lost (97)', async () => {
    const h = harness({ expectedAgents: 2 });
    const agents = h.register(2);
    const [first, second] = agents as [AgentRecord, AgentRecord];
    h.sendAll(agents, ready);
    h.send(second, { type: 'init-failed', message: 'made up' });
    h.send(first, exited(0));
    const result = await h.coordinator.result;
    expect(result.exitCode).toBe(DISTRIBUTED_RUN_FAILED);
    expect(result.message).not.toContain('made up');
    expect(result.initFailed).toBeUndefined();
  });
});

describe('protocol: what an agent relays from its k6', () => {
  it('issue 16 (init error): the init error is bounded and loses control characters', () => {
    const parse = (message: string) => AgentEvent.safeParse({ type: 'init-failed', message });
    expect(parse('x'.repeat(8193)).success).toBe(false);
    const parsed = parse('Error: \x1b[2J\x1b]0;pwned\x07boom\r\n\tat s.js:1:1\u009b');
    expect(parsed.success && parsed.data).toEqual({
      type: 'init-failed',
      // Escaped, not dropped (issue 17.9): the reader sees what was there.
      message: 'Error: \\e[2J\\e]0;pwned\\u{7}boom\n\tat s.js:1:1\\u{9b}',
    });
  });
});

describe('Coordinator: aborts', () => {
  it('stops every agent when one calls test.abort(), then tears down once and exits 108', async () => {
    const h = harness();
    const agents = h.register(3);
    const [leader, second, third] = agents as [AgentRecord, AgentRecord, AgentRecord];
    toRunning(h, agents);

    h.send(second, finished(true));

    expect(h.coordinator.phase).toBe('stopping');
    for (const agent of [leader, third]) {
      expect(current(agent, 'stop').reason).toMatch(/agent 2 \(agent-2\).*test\.abort\(\)/);
    }
    h.send(third, finished());
    expect(h.coordinator.phase).toBe('stopping');
    h.send(leader, finished());

    expect(h.coordinator.phase).toBe('teardown');
    current(leader, 'teardown');
    h.send(leader, { type: 'teardown-done' });
    for (const agent of agents) current(agent, 'release');
    h.send(leader, exited(0));
    h.send(second, exited(K6_EXIT_CODES['script-aborted']));
    h.send(third, exited(0));

    const result = await h.coordinator.result;
    expect(result.exitCode).toBe(K6_EXIT_CODES['script-aborted']);
    expect(result.message).toMatch(/^agent 2 \(agent-2\): the script called test\.abort\(\)/);
    expect(result.teardownRan).toBe(true);
    const teardowns = agents.map((a) => h.instructed(a).filter((t) => t === 'teardown').length);
    expect(teardowns).toEqual([1, 0, 0]);
  });

  it('coordinator.abort() while running stops everyone, tears down once and exits with its code', async () => {
    const h = harness();
    const agents = h.register(3);
    const [leader] = agents as [AgentRecord, AgentRecord, AgentRecord];
    toRunning(h, agents);

    h.coordinator.abort({ exitCode: K6_EXIT_CODES['external-abort'], message: 'got SIGINT' });
    expect(h.coordinator.phase).toBe('stopping');
    for (const agent of agents) expect(current(agent, 'stop').reason).toBe('got SIGINT');

    // The first cause wins.
    h.coordinator.abort({ exitCode: 1, message: 'second cause' });
    for (const agent of agents) expect(current(agent, 'stop').reason).toBe('got SIGINT');

    h.sendAll(agents, finished());
    expect(h.coordinator.phase).toBe('teardown');
    current(leader, 'teardown');
    h.send(leader, { type: 'teardown-done' });
    h.sendAll(agents, exited(K6_EXIT_CODES['external-abort']));

    const result = await h.coordinator.result;
    expect(result.exitCode).toBe(105);
    expect(result.message).toBe('got SIGINT');
    expect(result.teardownRan).toBe(true);
    const teardowns = agents.map((a) => h.instructed(a).filter((t) => t === 'teardown').length);
    expect(teardowns).toEqual([1, 0, 0]);
  });

  it('coordinator.abort() before the start releases everyone without teardown', async () => {
    const h = harness();
    const agents = h.register(3);
    expect(h.coordinator.phase).toBe('initialising');

    h.coordinator.abort({ exitCode: K6_EXIT_CODES['external-abort'], message: 'got SIGTERM' });

    expect(h.coordinator.phase).toBe('releasing');
    for (const agent of agents) expect(current(agent, 'release').reason).toBe('got SIGTERM');
    h.sendAll(agents, exited(K6_EXIT_CODES['external-abort']));

    const result = await h.coordinator.result;
    expect(result.exitCode).toBe(105);
    expect(result.message).toBe('got SIGTERM');
    expect(result.setupRan).toBe(false);
    expect(result.teardownRan).toBe(false);
    for (const agent of agents) expect(h.instructed(agent)).toEqual(['prepare', 'release']);
  });
});

describe('Coordinator: agent loss', () => {
  it('ends the run with 97 when an agent k6 dies while running under onAgentLoss abort', async () => {
    const h = harness({ onAgentLoss: 'abort' });
    const agents = h.register(3);
    const [leader, second, third] = agents as [AgentRecord, AgentRecord, AgentRecord];
    toRunning(h, agents);

    h.send(third, exited(null, false, 'SIGKILL'));

    expect(third.live).toBe(false);
    expect(h.coordinator.phase).toBe('stopping');
    for (const agent of [leader, second]) current(agent, 'stop');
    current(third, 'start');
    h.sendAll([leader, second], finished());
    current(leader, 'teardown');
    h.send(leader, { type: 'teardown-done' });
    for (const agent of [leader, second]) current(agent, 'release');
    h.sendAll([leader, second], exited(0));

    const result = await h.coordinator.result;
    expect(result.exitCode).toBe(DISTRIBUTED_RUN_FAILED);
    expect(result.exitCode).toBe(97);
    expect(result.message).toMatch(/^agent 3 \(agent-3\) was lost: its k6 exited unexpectedly/);
    expect(result.agents[2]?.lost).toMatch(/SIGKILL/);
    expect(result.agents[0]?.lost).toBeUndefined();
  });

  it('finishes with 0 and notes the lost agent under onAgentLoss continue', async () => {
    const h = harness({ onAgentLoss: 'continue' });
    const agents = h.register(3);
    const [leader, second, third] = agents as [AgentRecord, AgentRecord, AgentRecord];
    toRunning(h, agents);

    h.send(third, exited(null, false, 'SIGKILL'));

    expect(h.coordinator.phase).toBe('running');
    for (const agent of [leader, second]) current(agent, 'start');
    h.sendAll([leader, second], finished());
    expect(h.coordinator.phase).toBe('teardown');
    current(leader, 'teardown');
    h.send(leader, { type: 'teardown-done' });
    for (const agent of [leader, second]) current(agent, 'release');
    expect(h.instructed(third)).not.toContain('release');
    h.sendAll([leader, second], exited(0));

    const result = await h.coordinator.result;
    expect(result.exitCode).toBe(0);
    expect(result.agents[2]?.lost).toMatch(/its k6 exited unexpectedly/);
    expect(result.agents[2]?.k6Exit?.signal).toBe('SIGKILL');
    expect(result.message).toMatch(/^the run finished \(lost: agent 3 \(agent-3\): its k6 exited/);
    expect(result.teardownRan).toBe(true);
  });

  it('declares an agent that never polls lost after the liveness timeout', async () => {
    const h = harness({ expectedAgents: 2, pollHoldMs: 50, livenessTimeoutMs: 200 });
    const startedAt = h.clock.ms;
    const [polling, silent] = h.register(2) as [AgentRecord, AgentRecord];

    // The first agent polls like a real one; the second never does.
    const release = await pollUntil(h, polling, 'release');
    expect(release.reason).toMatch(/agent 2 \(agent-2\) was lost: it stopped polling/);
    h.send(polling, exited(0));

    const result = await h.coordinator.result;
    expect(result.exitCode).toBe(DISTRIBUTED_RUN_FAILED);
    expect(result.message).toMatch(/^agent 2 \(agent-2\) was lost: it stopped polling/);
    expect(silent.live).toBe(false);
    expect(polling.live).toBe(true);
    expect(result.agents[1]?.lost).toMatch(/stopped polling/);
    expect(result.agents[0]?.lost).toBeUndefined();
    const elapsed = h.clock.ms - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('ends with 97 when too few agents join before the join timeout', async () => {
    const h = harness({ expectedAgents: 2, joinTimeoutMs: 100 });
    const [agent] = h.register(1) as [AgentRecord];
    expect(h.coordinator.phase).toBe('joining');

    const release = await pollUntil(h, agent, 'release');
    expect(release.reason).toMatch(/only 1 of 2 agents joined/);
    expect(h.coordinator.phase).toBe('releasing');
    h.send(agent, exited(0));

    const result = await h.coordinator.result;
    expect(result.exitCode).toBe(DISTRIBUTED_RUN_FAILED);
    expect(result.message).toMatch(/^only 1 of 2 agents joined within 0\.1 s/);
    expect(h.instructed(agent)).toEqual(['release']);
  });
});

describe('Coordinator: long-polls', () => {
  it('answers at once when the agent has not seen the current instruction', async () => {
    const h = harness({ pollHoldMs: 10_000 });
    const [leader] = h.register(3) as [AgentRecord, AgentRecord, AgentRecord];
    h.clock.advance(1_234);

    const poll = h.coordinator.poll(leader, 0);

    expect(await isSettled(poll)).toBe(true);
    const response = await poll;
    expect(response.version).toBe(1);
    expect(response.instruction.type).toBe('prepare');
    expect(response.now).toBe(T0 + 1_234);
    expect(leader.pollsInFlight).toBe(0);
  });

  it('holds a poll until the next instruction arrives', async () => {
    const h = harness({ pollHoldMs: 10_000 });
    const agents = h.register(3);
    const [leader] = agents as [AgentRecord, AgentRecord, AgentRecord];

    const poll = h.coordinator.poll(leader, 1);

    expect(await isSettled(poll)).toBe(false);
    expect(leader.pollsInFlight).toBe(1);
    h.sendAll(agents, ready);
    const response = await poll;
    expect(response.version).toBe(2);
    expect(response.instruction).toEqual({ type: 'setup' });
    expect(leader.pollsInFlight).toBe(0);
  });

  it('answers a held poll at pollHoldMs with the same version when nothing changes', async () => {
    const h = harness({ pollHoldMs: 50 });
    const [leader] = h.register(3) as [AgentRecord, AgentRecord, AgentRecord];

    const startedAt = h.clock.ms;
    const poll = h.coordinator.poll(leader, 1);
    h.clock.advance(49);
    expect(await isSettled(poll)).toBe(false);
    h.clock.advance(1);
    const response = await poll;
    const elapsed = h.clock.ms - startedAt;

    expect(response.version).toBe(1);
    expect(response.instruction.type).toBe('prepare');
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('answers a held poll when its signal aborts', async () => {
    const h = harness({ pollHoldMs: 10_000 });
    const [leader] = h.register(3) as [AgentRecord, AgentRecord, AgentRecord];
    const controller = new AbortController();

    const poll = h.coordinator.poll(leader, 1, controller.signal);
    expect(await isSettled(poll)).toBe(false);
    controller.abort();

    const response = await poll;
    expect(response.version).toBe(1);
    expect(leader.pollsInFlight).toBe(0);
  });
});

describe('the metrics plan', () => {
  it('has agents send a delta every second, every 2 s above 128 agents', () => {
    expect([1, 128, 129, 1000].map(metricsIntervalFor)).toEqual([1_000, 1_000, 2_000, 2_000]);
  });

  it('issue 18.1: keeps one-second time series intervals whatever the send interval (samples carry their own time)', () => {
    for (const intervalMs of [1_000, 2_000]) {
      const metrics = new CoordinatorMetrics({ options: {}, flags: parseRunFlags([]), intervalMs });
      expect(metrics.plan.intervalMs).toBe(intervalMs);
      expect(metrics.timeline.snapshot().intervalS).toBe(1);
    }
  });
});

describe('Coordinator: issue 18', () => {
  it('issue 18.1: the start instant is a whole second of the coordinator clock, at least startLeadMs ahead', () => {
    const h = harness({ startLeadMs: 750, startAlignMs: 1_000 });
    h.clock.advance(1_123);
    const at = toRunning(h, h.register(3));

    expect(at % 1_000).toBe(0);
    expect(at - h.clock.ms).toBeGreaterThanOrEqual(750);
    expect(at - h.clock.ms).toBeLessThan(1_750);
  });

  it('issue 18.2: deltas arriving together share one threshold evaluation; an abortOnFail crossing stops every agent without the 2 s tick, never before k6 could have', () => {
    const errors = { name: 'errors', type: 'rate' as const, contains: 'default' as const };
    const metrics = new CoordinatorMetrics({
      options: { thresholds: { errors: [{ threshold: 'rate==0', abortOnFail: true }] } },
      flags: parseRunFlags([]),
      thresholdMetrics: [errors],
    });
    const evaluate = jest.spyOn(metrics, 'evaluate');
    // No periodic evaluation within the test: only arrivals can trigger one.
    const h = harness({ metrics, thresholdIntervalMs: 3_600_000, startLeadMs: 0 });
    const agents = h.register(3);
    toRunning(h, agents);
    const failedRequests = (failed: number) => ({
      metrics: [errors],
      groups: [],
      series: [
        {
          kind: 'total' as const,
          metric: 'errors',
          sink: { t: 'rate' as const, trues: failed, total: 10 },
        },
      ],
    });
    const seqs = new Map<AgentRecord, number>();
    const deliver = (agent: AgentRecord, failed: number) => {
      const seq = (seqs.get(agent) ?? 0) + 1;
      seqs.set(agent, seq);
      h.coordinator.receiveDelta(agent, { seq, final: false, delta: failedRequests(failed) });
    };
    const afterTimers = () => h.clock.advance(0);

    for (let round = 0; round < 100; round++) for (const agent of agents) deliver(agent, 0);
    afterTimers();

    expect(evaluate).toHaveBeenCalledTimes(1);
    expect(h.coordinator.phase).toBe('running');

    // A crossing before k6's first tick (2 s of run time) aborts no sooner than k6 would.
    h.clock.advance(250);
    deliver(defined(agents[1]), 1);
    afterTimers();

    expect(evaluate).toHaveBeenCalledTimes(2);
    expect(h.coordinator.phase).toBe('running');

    h.clock.advance(1_750);
    deliver(defined(agents[2]), 0);
    afterTimers();

    expect(evaluate).toHaveBeenCalledTimes(3);
    for (const agent of agents) expect(agent.instruction.type).toBe('stop');
    expect(h.coordinator.phase).toBe('stopping');
  });
});
