import type { AgentSegment } from '../k6/segments.js';
import type { AgentEvent, Instruction, PollResponse } from '../protocol/messages.js';
import { printableName } from '../runtime/printable.js';
import type { Timers } from '../runtime/timers.js';
import { LoadTally } from './generator-load.js';
import { SequenceGuard } from './sequence.js';

/** How an agent's k6 ended, as the agent reported it. */
export interface ReportedExit {
  code: number | null;
  signal: string | null;
  description: string;
  expected: boolean;
}

/**
 * The coordinator's view of one agent: identity, the newest instruction and
 * what the agent has reported. Long-polls wait on `waiters` until the
 * instruction version moves past what the agent has already seen.
 */
export class AgentRecord {
  readonly index: number;
  readonly id: string;
  readonly key: string;
  readonly token: string;
  readonly name: string;
  readonly weight: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly k6Version: string;
  segment: AgentSegment | undefined;
  instruction: Instruction = { type: 'wait' };
  version = 0;
  /** Sequence numbers of its event reports and of its metric deltas. */
  readonly eventSeq: SequenceGuard;
  readonly metricSeq: SequenceGuard;
  lastSeenMs: number;
  /** When it registered, on the coordinator's clock. */
  readonly joinedMs: number;
  pollsInFlight = 0;
  /** Events received, by type (each type is sent at most once per agent). */
  readonly events = new Map<AgentEvent['type'], AgentEvent>();
  lost: string | undefined;
  /** Metric deltas refused, by rule (issue 17.5): what this agent reported that cannot be true. */
  readonly refusals = new Map<string, number>();
  /** Its machine's load while its k6 ran, as it reported it (issue 20.7). */
  readonly load = new LoadTally();
  readonly #waiters = new Set<() => void>();

  constructor(fields: {
    index: number;
    id: string;
    key: string;
    token: string;
    name: string;
    weight: string;
    tags: Record<string, string>;
    k6Version: string;
    nowMs: number;
  }) {
    this.index = fields.index;
    this.id = fields.id;
    this.key = fields.key;
    this.token = fields.token;
    this.name = fields.name;
    this.weight = fields.weight;
    this.tags = fields.tags;
    this.k6Version = fields.k6Version;
    this.lastSeenMs = fields.nowMs;
    this.joinedMs = fields.nowMs;
    this.eventSeq = new SequenceGuard(`events of ${this.label}`);
    this.metricSeq = new SequenceGuard(`metric deltas of ${this.label}`);
  }

  /** A short label for messages: "agent 2 (eu-runner)"; the agent chose the name (printable). */
  get label(): string {
    return `agent ${String(this.index + 1)} (${printableName(this.name)})`;
  }

  get live(): boolean {
    return this.lost === undefined;
  }

  has(type: AgentEvent['type']): boolean {
    return this.events.has(type);
  }

  event<T extends AgentEvent['type']>(type: T): Extract<AgentEvent, { type: T }> | undefined {
    return this.events.get(type) as Extract<AgentEvent, { type: T }> | undefined;
  }

  get exit(): ReportedExit | undefined {
    const e = this.event('k6-exited');
    return e && { ...e.exit, expected: e.expected };
  }

  /** Sets a new instruction and wakes this agent's held poll. */
  instruct(instruction: Instruction): void {
    this.instruction = instruction;
    this.version += 1;
    for (const wake of this.#waiters) wake();
  }

  /**
   * Resolves with the current instruction as soon as its version exceeds
   * `after`, or after `holdMs` with whatever is current (the agent polls again).
   */
  async poll(
    after: number,
    holdMs: number,
    timers: Pick<Timers, 'now' | 'after'>,
    signal?: AbortSignal,
  ) {
    const now = () => timers.now();
    this.pollsInFlight += 1;
    this.lastSeenMs = now();
    try {
      if (this.version <= after && holdMs > 0 && !signal?.aborted) {
        await new Promise<void>((resolve) => {
          const done = () => {
            cancel();
            signal?.removeEventListener('abort', done);
            this.#waiters.delete(done);
            resolve();
          };
          const cancel = timers.after(holdMs, done);
          signal?.addEventListener('abort', done);
          this.#waiters.add(done);
        });
      }
      const response: PollResponse = {
        version: this.version,
        instruction: this.instruction,
        now: now(),
      };
      return response;
    } finally {
      this.pollsInFlight -= 1;
      this.lastSeenMs = now();
    }
  }
}
