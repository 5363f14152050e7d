import { createHash, randomBytes, randomUUID } from 'node:crypto';

import { errorMessage, K6DistributedError } from '../errors.js';
import { JOIN_TIMEOUT_MS, MAX_LISTED_AGENTS, POLL_HOLD_MS } from '../defaults.js';
import { DISTRIBUTED_RUN_FAILED, K6_EXIT_CODES } from '../k6/exit-codes.js';
import { JsonText } from '../protocol/json-text.js';
import { limitMessage, type LimitBreach } from '../metrics/agent-budget.js';
import { NegativeTrendNotes } from '../metrics/negative-trends.js';
import type { K6Options } from '../k6/archive.js';
import { segmentsForWeights } from '../k6/segments.js';
import { type Logger, logProgress } from '../runtime/logger.js';
import { printableName } from '../runtime/printable.js';
import type { LoadMonitor } from '../runtime/machine-load.js';
import { type Cancel, systemTimers, type Timers } from '../runtime/timers.js';
import { PACKAGE_VERSION } from '../version.js';
import { tickPhaseMs } from '../metrics/instance-gauges.js';
import {
  PROTOCOL_VERSION,
  TIMELINE_INTERVAL_MS,
  type AgentEvent,
  type EventMessage,
  type MetricsPlan,
  type DeltaMessage,
  type PollResponse,
  type RegisterRequest,
  type RegisterResponse,
  type ResourceSample,
  type SecretSourceSpec,
  type Assignment,
} from '../protocol/messages.js';
import { AgentLogs } from './agent-logs.js';
import { joinedText, sharesText, tagText } from './agent-lines.js';
import { runningClock, scenarioProgress, scenarioProgressLines } from './scenario-progress.js';
import { AgentRecord } from './agent-record.js';
import { eventRefusal, type Phase } from './event-rules.js';
import { cpuText, LoadTally } from './generator-load.js';
import { idleAgentsWarning } from './idle-agents.js';
import { type AbortCause, decideOutcome, type RunOutcome, type TeardownError } from './outcome.js';
import { RunClock } from './run-clock.js';
import type { RunMetrics } from './run-metrics.js';
import type { SequenceGuard, SequenceVerdict } from './sequence.js';

export type { Phase } from './event-rules.js';

export interface CoordinatorOptions {
  expectedAgents: number;
  archive: { sha256: string; bytes: number };
  /** The test's scenarios as k6 derived them: to warn of agents they leave without work. */
  scenarios?: K6Options['scenarios'];
  /** --secret-source for every agent's k6 (k6/secret-sources.ts). */
  secretSources?: SecretSourceSpec[];
  /** The user's `--out` outputs for the agent numbered `instanceId` (k6/outputs.ts). */
  agentOutputs?: (instanceId: number) => Assignment['outputs'];
  /** `--console-output` for every agent's k6 (k6/outputs.ts consoleOutputForAgents). */
  consoleOutput?: string;
  /** Skip setup()/teardown() as k6's --no-setup/--no-teardown would. */
  noSetup?: boolean;
  noTeardown?: boolean;
  joinTimeoutMs?: number;
  /** Longest a poll is held (≤ 25 s keeps under Cloudflare's 100 s limit with margin). */
  pollHoldMs?: number;
  /** An agent silent for this long, with no poll open, is lost. */
  livenessTimeoutMs?: number;
  /** How far ahead the common start instant is announced. */
  startLeadMs?: number;
  /**
   * The start instant is a multiple of this on the coordinator's clock
   * (default: the time series' interval, a whole second): k6's cloud output
   * aggregates per whole second of its machine's clock, so its buckets then
   * match the time series' intervals (issue 18).
   */
  startAlignMs?: number;
  onAgentLoss?: 'abort' | 'continue';
  /**
   * Longest the run may take from setup() to the end (./deadline.ts): past
   * it every agent is stopped and the run ends with k6's timeout code 102;
   * `deadlineGraceMs` later every agent still in the run is released and
   * dropped, whatever it reports. Without it the run has no deadline.
   */
  deadlineMs?: number;
  deadlineGraceMs?: number;
  /** Merged metrics and thresholds; without it deltas are refused. */
  metrics?: RunMetrics;
  /** How often thresholds are evaluated during the run (k6: every 2 s). */
  thresholdIntervalMs?: number;
  /**
   * With abortOnFail thresholds, they are also evaluated when deltas arrive,
   * at most once per this many ms (deltas of many agents share one evaluation).
   */
  arrivalEvaluationGapMs?: number;
  /** How often a progress line is logged while the run runs (default 5 s; 0: never). */
  progressIntervalMs?: number;
  /**
   * Reads this machine's load while the test runs, for the warning when the
   * coordinator's own machine is saturated (issue 20.7); without it, none.
   */
  load?: LoadMonitor;
  /** Every agent runs on the coordinator's machine (a local run): for the warning's fix. */
  agentsShareMachine?: boolean;
  log: Logger;
  /** The coordinator's clock (epoch ms); default Date.now. */
  now?: Timers['now'];
  /** One-shot timer (join timeout, deadlines, poll holds); default setTimeout. */
  after?: Timers['after'];
  /** Repeating timer (liveness, thresholds, progress); default setInterval. */
  every?: Timers['every'];
}

/** The progress line's rates cover at least this much of the run. */
const PROGRESS_RATE_WINDOW_MS = 5_000;

/** Events an agent sends more than once; every other type counts once per agent. */
const REPEATED_EVENTS: ReadonlySet<AgentEvent['type']> = new Set([
  'log',
  'marked-failed',
  'resources',
]);

/** Agents whose saturation is said as it happens; the end-of-test report names every one. */
const SATURATION_LIVE_WARNINGS = 3;

/**
 * An agent's machine readings may be this far past the run's age on the
 * coordinator's clock (they are timed from the agent's own start instant).
 */
const RESOURCES_SKEW_MS = 10_000;

/** How far an agent's clock may run ahead of the coordinator's, for its vus samples. */
const TICK_SKEW_MS = 60_000;

/**
 * The coordination core: registration, phases, barriers and the exit code.
 * It knows nothing about HTTP; the server in ./server.ts is one transport for
 * it and tests drive it directly. Every state change goes through
 * `#advance()`, which moves the run forward when a barrier is complete.
 */
export class Coordinator {
  readonly #o: Required<
    Omit<
      CoordinatorOptions,
      'log' | 'now' | 'after' | 'every' | 'metrics' | 'deadlineMs' | 'load' | 'consoleOutput'
    >
  > & {
    deadlineMs: number | undefined;
    consoleOutput: string | undefined;
    load: LoadMonitor | undefined;
  };
  readonly #metrics: RunMetrics | undefined;
  readonly #clock = new RunClock();
  #thresholdsBreached: readonly string[] = [];
  /** An evaluation on arrival is scheduled; when the last evaluation ran. */
  #evaluationDue = false;
  #lastEvaluationMs = -Infinity;
  readonly #negativeTrends = new NegativeTrendNotes();
  /** The coordinator's own machine while the test runs, and the reading's unsubscribe. */
  readonly #load = new LoadTally();
  #stopLoad: (() => void) | undefined;
  #saturatedAgents = 0;
  readonly #agentLogs: AgentLogs;
  readonly #log: Logger;
  readonly #timers: Timers;
  readonly #agents: AgentRecord[] = [];
  readonly #byToken = new Map<string, AgentRecord>();
  #phase: Phase = 'joining';
  #cause: AbortCause | undefined;
  #setupData: unknown = null;
  #setupRan = false;
  #setupAgent: AgentRecord | undefined;
  #teardownAgent: AgentRecord | undefined;
  #teardownRan = false;
  #teardownError: TeardownError | undefined;
  readonly #cancels = new Set<Cancel>();
  readonly #refusalsLogged = new Set<string>();
  readonly #result: Promise<RunOutcome>;
  #resolve!: (result: RunOutcome) => void;

  constructor(options: CoordinatorOptions) {
    const pollHoldMs = options.pollHoldMs ?? POLL_HOLD_MS;
    this.#o = {
      expectedAgents: options.expectedAgents,
      archive: options.archive,
      scenarios: options.scenarios ?? {},
      secretSources: options.secretSources ?? [],
      agentOutputs: options.agentOutputs ?? (() => undefined),
      consoleOutput: options.consoleOutput,
      noSetup: options.noSetup ?? false,
      noTeardown: options.noTeardown ?? false,
      joinTimeoutMs: options.joinTimeoutMs ?? JOIN_TIMEOUT_MS,
      pollHoldMs,
      livenessTimeoutMs: options.livenessTimeoutMs ?? pollHoldMs + 15_000,
      startLeadMs: options.startLeadMs ?? DEFAULT_START_LEAD_MS,
      startAlignMs: options.startAlignMs ?? TIMELINE_INTERVAL_MS,
      arrivalEvaluationGapMs: options.arrivalEvaluationGapMs ?? 250,
      onAgentLoss: options.onAgentLoss ?? 'abort',
      thresholdIntervalMs: options.thresholdIntervalMs ?? 2_000,
      progressIntervalMs: options.progressIntervalMs ?? 5_000,
      deadlineMs: options.deadlineMs,
      load: options.load,
      agentsShareMachine: options.agentsShareMachine ?? false,
      deadlineGraceMs: options.deadlineGraceMs ?? 30_000,
    };
    this.#metrics = options.metrics;
    this.#log = options.log;
    this.#timers = {
      now: options.now ?? systemTimers.now,
      after: options.after ?? systemTimers.after,
      every: options.every ?? systemTimers.every,
    };
    this.#agentLogs = new AgentLogs(this.#log, this.#timers.now);
    this.#result = new Promise((resolve) => (this.#resolve = resolve));
    this.#after(this.#o.joinTimeoutMs, () => this.#joinTimedOut());
    this.#every(Math.min(1_000, this.#o.livenessTimeoutMs / 4), () => this.#checkLiveness());
  }

  /** The coordinator's clock (epoch ms): start instants are announced on it. */
  now(): number {
    return this.#timers.now();
  }

  get phase(): Phase {
    return this.#phase;
  }

  /** Settles when every agent is released (or lost); never rejects. */
  get result(): Promise<RunOutcome> {
    return this.#result;
  }

  /** How many agents the run waits for. */
  get expectedAgents(): number {
    return this.#o.expectedAgents;
  }

  get agents(): readonly AgentRecord[] {
    return this.#agents;
  }

  /** The agent a bearer token belongs to, if any. */
  agentForToken(token: string): AgentRecord | undefined {
    return this.#byToken.get(token);
  }

  register(request: RegisterRequest): RegisterResponse {
    if (request.protocol !== PROTOCOL_VERSION) {
      throw new K6DistributedError(
        'PROTOCOL_MISMATCH',
        `this agent speaks protocol v${String(request.protocol)} (k6-distributed ` +
          `${request.version}) but the coordinator speaks v${String(PROTOCOL_VERSION)} ` +
          `(k6-distributed ${PACKAGE_VERSION}): run the same k6-distributed version everywhere.`,
      );
    }
    const known = this.#agents.find((a) => a.key === request.key);
    const agent = known ?? this.#admit(request);
    return {
      agentId: agent.id,
      token: agent.token,
      index: agent.index,
      expectedAgents: this.#o.expectedAgents,
      pollHoldMs: this.#o.pollHoldMs,
      livenessTimeoutMs: this.#o.livenessTimeoutMs,
    };
  }

  #admit(request: RegisterRequest): AgentRecord {
    if (this.#phase !== 'joining' || this.#agents.length >= this.#o.expectedAgents) {
      const why =
        this.#agents.length >= this.#o.expectedAgents
          ? `this run already has all ${String(this.#o.expectedAgents)} agents it expects`
          : `this run stopped accepting agents (phase: ${this.#phase})`;
      throw new K6DistributedError(
        'RUN_STARTED',
        `${why}; a late agent cannot join. Start every agent before the join timeout, ` +
          'or raise --agents.',
      );
    }
    const index = this.#agents.length;
    const agent = new AgentRecord({
      index,
      id: randomUUID(),
      key: request.key,
      token: randomBytes(32).toString('base64url'),
      name: request.name ?? `agent-${String(index + 1)}`,
      weight: request.weight,
      tags: request.tags,
      k6Version: request.k6Version,
      nowMs: this.#timers.now(),
    });
    this.#agents.push(agent);
    this.#byToken.set(agent.token, agent);
    this.#logJoin(agent);
    this.#advance();
    return agent;
  }

  /**
   * Each join on its own line for a few agents; for many (issue 20.6), one
   * line per tenth of them, each join at debug.
   */
  #logJoin(agent: AgentRecord): void {
    const joined = this.#agents.length;
    const expected = this.#o.expectedAgents;
    const line =
      `${agent.label} joined (${String(joined)}/${String(expected)}` +
      `, weight ${agent.weight}, k6 ${printableName(agent.k6Version)}${tagText(agent.tags)})`;
    if (expected <= MAX_LISTED_AGENTS) {
      this.#log.info(line);
      return;
    }
    this.#log.debug(line);
    const step = Math.ceil(expected / 10);
    if (joined % step === 0 && joined < expected) {
      this.#log.info(`${String(joined)}/${String(expected)} agents joined`);
    }
  }

  async poll(agent: AgentRecord, after: number, signal?: AbortSignal): Promise<PollResponse> {
    return agent.poll(after, this.#o.pollHoldMs, this.#timers, signal);
  }

  /**
   * Applies one event message. Each event type counts once per agent, so a
   * retry (a sequence number already seen) is acknowledged and ignored; a
   * number far ahead, or an event this agent may not send now, is refused
   * (EVENT_REFUSED, SEQUENCE_OUT_OF_RANGE) without changing anything.
   */
  receiveEvent(agent: AgentRecord, message: EventMessage): void {
    agent.lastSeenMs = this.#timers.now();
    const { event } = message;
    const verdict = this.#checkSeq(agent, agent.eventSeq, message.seq);
    if (REPEATED_EVENTS.has(event.type)) {
      this.#receiveRepeated(agent, message, verdict);
      return;
    }
    // Each type counts once: a retry, or a repeat, is acknowledged and ignored. A
    // number already used by another event does not hide this one: whoever else
    // holds the agent's token must not silence the agent itself.
    if (agent.has(event.type)) {
      agent.eventSeq.accept(message.seq);
      return;
    }
    this.#refuseOutOfTurn(agent, event);
    agent.eventSeq.accept(message.seq);
    // A lost agent is out of the run: nothing it says changes the outcome.
    if (!agent.live) return;
    agent.events.set(event.type, event);
    this.#onEvent(agent, event);
    this.#advance();
  }

  /**
   * An event an agent sends again and again (its k6's log lines, each
   * exec.test.fail()): each number once, so a retry prints nothing twice.
   */
  #receiveRepeated(agent: AgentRecord, message: EventMessage, verdict: SequenceVerdict): void {
    if (verdict === 'seen') return;
    this.#refuseOutOfTurn(agent, message.event);
    agent.eventSeq.accept(message.seq);
    if (agent.live) this.#onEvent(agent, message.event);
  }

  /** Throws EVENT_REFUSED for an event its sender cannot send now (./event-rules.ts). */
  #refuseOutOfTurn(agent: AgentRecord, event: AgentEvent): void {
    const refusal = eventRefusal(agent, event, {
      phase: this.#phase,
      setupAgent: this.#setupAgent,
      teardownAgent: this.#teardownAgent,
    });
    if (refusal === undefined) return;
    this.#refuse(
      agent,
      `event:${event.type}`,
      new K6DistributedError(
        'EVENT_REFUSED',
        `refused ${event.type} from ${agent.label}: ${refusal}. An agent reports only what ` +
          'the coordinator asked it to do; this did not come from its k6-distributed.',
      ),
    );
  }

  /**
   * Applies one metric delta. A retried delta (the same sequence number and
   * content) is acknowledged and ignored, so it never counts twice; another
   * delta under a number already used is applied (someone else holds the
   * agent's token: the agent's own samples must still count). Deltas from
   * an agent lost since are still applied: that load did happen.
   */
  receiveDelta(agent: AgentRecord, message: DeltaMessage): void {
    agent.lastSeenMs = this.#timers.now();
    const verdict = this.#checkSeq(agent, agent.metricSeq, message.seq);
    const digest = createHash('sha256').update(JSON.stringify(message)).digest('base64');
    if (verdict === 'seen' && agent.metricSeq.isRetry(message.seq, digest)) return;
    if (!this.#metrics) {
      throw new K6DistributedError('BAD_REQUEST', 'this coordinator does not collect metrics');
    }
    this.#checkTicks(agent, message);
    let breaches: readonly LimitBreach[];
    try {
      breaches = this.#metrics.apply(agent.id, message, this.#timers.now());
    } catch (error) {
      this.refusedMetrics(agent, error);
      throw error;
    }
    for (const breach of breaches) this.#log.warning(limitMessage(agent.label, breach));
    for (const warning of this.#negativeTrends.note(message.delta)) this.#log.warning(warning);
    agent.metricSeq.accept(message.seq, digest);
    this.#evaluateSoon();
  }

  /**
   * An abortOnFail threshold reacts to data as it arrives, not only on k6's
   * 2 s tick: one evaluation at most every arrivalEvaluationGapMs, however
   * many agents sent deltas meanwhile (1,000 agents: still ≤ 4 a second).
   * k6's own rules hold: thresholds without samples are skipped until the
   * end, and no abort comes before the 2 s tick at which k6 could first have
   * aborted (the first past delayAbortEval), so a failure from the start
   * stops the run when k6's would.
   */
  #evaluateSoon(): void {
    if (this.#evaluationDue || this.#metrics?.abortsOnFail !== true) return;
    const startAt = this.#clock.startAt;
    if (this.#phase !== 'running' || startAt === undefined || this.#timers.now() < startAt) return;
    this.#evaluationDue = true;
    const waitMs = this.#lastEvaluationMs + this.#o.arrivalEvaluationGapMs - this.#timers.now();
    this.#after(Math.max(0, waitMs), () => {
      this.#evaluationDue = false;
      this.#checkThresholds(true);
    });
  }

  /**
   * An agent samples its k6's vus/vus_max at the run's ticks as they pass: a
   * sample later than the run has lasted (plus clock skew) cannot be real, and
   * would make the merge settle a tick for every second up to it.
   */
  #checkTicks(agent: AgentRecord, message: DeltaMessage): void {
    const startAt = this.#clock.startAt;
    const latestMs = startAt === undefined ? -1 : this.#timers.now() - startAt + TICK_SKEW_MS;
    for (const series of message.delta.series) {
      if (series.kind !== 'ticks') continue;
      const late = series.points.find(([ms]) => ms > latestMs);
      if (late === undefined) continue;
      this.#refuse(
        agent,
        'ticks',
        new K6DistributedError(
          'BAD_REQUEST',
          `refused a metric delta from ${agent.label}: a ${series.metric} sample ` +
            `${String(late[0])} ms after the start instant, later than the run has lasted. ` +
            'An agent samples its k6 as the run goes; this did not come from its k6-distributed.',
        ),
      );
    }
  }

  #checkSeq(agent: AgentRecord, guard: SequenceGuard, seq: number): SequenceVerdict {
    try {
      return guard.check(seq);
    } catch (error) {
      return this.#refuse(agent, `seq:${guard.what}`, error);
    }
  }

  /**
   * Throws `error` (a 4xx for the agent). Logged once per agent and rule, so
   * whoever sends it again and again cannot flood the coordinator's log.
   */
  #refuse(agent: AgentRecord, rule: string, error: unknown): never {
    const key = `${agent.id} ${rule}`;
    if (!this.#refusalsLogged.has(key)) {
      this.#refusalsLogged.add(key);
      this.#log.warning(`${errorMessage(error)} (said once; further refusals are not logged)`);
    }
    throw error;
  }

  /** True for the agent asked to run setup(): only its events carry setup()'s data. */
  ranSetupOn(agent: AgentRecord): boolean {
    return agent === this.#setupAgent;
  }

  /**
   * Notes a metric delta of `agent` refused as bad input (4xx: its body, or
   * what it holds): logged once per agent and rule, so an agent cannot flood
   * the log, and counted for the agent's mark in the reports.
   */
  refusedMetrics(agent: AgentRecord, error: unknown): void {
    const code = (error as { code?: unknown }).code;
    if (code !== 'BAD_REQUEST' && code !== 'PAYLOAD_TOO_LARGE') return;
    const data = (error as { data?: { rule?: unknown } }).data;
    const rule =
      typeof data?.rule === 'string' ? data.rule : code === 'BAD_REQUEST' ? 'schema' : 'size';
    agent.refusals.set(rule, (agent.refusals.get(rule) ?? 0) + 1);
    // An oversized body is said by the server already (once per agent and limit).
    if (code !== 'BAD_REQUEST') return;
    const key = `${agent.id} metrics:${rule}`;
    if (this.#refusalsLogged.has(key)) return;
    this.#refusalsLogged.add(key);
    this.#log.warning(
      `${agent.label}: refused its metric delta (rule ${rule}): ${errorMessage(error)}. ` +
        'Its other deltas still count; further refusals under this rule are not logged.',
    );
  }

  /** What setup() returned (null until it ran, or with --no-setup). */
  get setupData(): unknown {
    return this.#setupData ?? undefined;
  }

  /** From the start instant to the last agent's end, once the run is over. */
  get runMs(): number | undefined {
    return this.#clock.runMs;
  }

  /** Test run duration so far, as one k6 would count it (./run-clock.ts). */
  get runDurationMs(): number {
    return this.#clock.durationMs(this.#timers.now());
  }

  /** Ends the run early (e.g. SIGINT to the coordinator). The first cause wins. */
  abort(cause: AbortCause): void {
    this.#abort(cause);
    this.#advance();
  }

  #onEvent(agent: AgentRecord, event: AgentEvent): void {
    switch (event.type) {
      case 'setup-done':
        this.#setupData = event.data;
        this.#setupRan = true;
        this.#clock.setupEnded(this.#timers.now(), event.durationMs);
        return;
      case 'init-failed':
        this.#initFailed(agent, event.message);
        return;
      case 'setup-failed':
        this.#clock.setupEnded(this.#timers.now());
        this.#abort({
          exitCode: setupExitCode(event),
          message: `setup() failed on ${agent.label}`,
          k6Error: event.message.trimEnd(),
        });
        return;
      case 'marked-failed':
        // Said as the script calls it, before the summary, as k6 logs it.
        if (this.#phase !== 'done') this.#log.error(event.message);
        return;
      case 'finished':
        this.#finished(agent, event);
        return;
      case 'teardown-done':
        this.#teardownRan = true;
        this.#clock.teardownEnded(this.#timers.now(), event.durationMs);
        return;
      case 'teardown-failed':
        this.#teardownFailed(agent, event.message);
        return;
      case 'k6-exited':
        this.#noteAbortReason(agent, event.exit.message);
        if (!event.expected) {
          this.#lose(agent, `its k6 exited unexpectedly: ${event.exit.description}`);
        }
        return;
      case 'failed':
        this.#lose(agent, event.message);
        return;
      case 'log':
        if (this.#phase !== 'done')
          this.#agentLogs.receive(agent.label, event.lines, event.dropped);
        return;
      case 'resources':
        this.#agentResources(agent, event.samples);
        return;
      default:
        return;
    }
  }

  /**
   * An agent's machine readings (issue 20.7): at most as many seconds as the
   * run has had, each once. Said as it happens for the first few agents.
   */
  #agentResources(agent: AgentRecord, samples: readonly ResourceSample[]): void {
    const startAt = this.#clock.startAt;
    if (startAt === undefined) return;
    const untilMs = this.#timers.now() - startAt + RESOURCES_SKEW_MS;
    if (!agent.load.add(samples, untilMs)) return;
    this.#saturatedAgents += 1;
    const load = agent.load.load;
    if (this.#saturatedAgents <= SATURATION_LIVE_WARNINGS && load) {
      this.#log.warning(
        `${agent.label}'s machine is saturated (${cpuText(load)}): the latencies it measures ` +
          'may be worse than the target is; the end-of-test report lists every such agent',
      );
    } else if (this.#saturatedAgents === SATURATION_LIVE_WARNINGS + 1) {
      this.#log.warning('more agents have saturated machines; the end-of-test report lists them');
    }
  }

  /** Reads the coordinator's own machine from the start instant until every agent finished. */
  #watchOwnLoad(at: number): void {
    this.#stopLoad = this.#o.load?.subscribe((reading, atMs) => {
      if (atMs >= at) this.#load.add([{ ...reading, ms: atMs - at }], Infinity);
    });
  }

  #unwatchOwnLoad(): void {
    this.#stopLoad?.();
    this.#stopLoad = undefined;
  }

  #initFailed(agent: AgentRecord, message: string): void {
    if (agent.has('ready')) {
      this.#lose(agent, 'it reported an init error after its VUs were ready');
      return;
    }
    // The agent decides nothing but that the run ends, as any agent can by
    // failing; the first cause wins, so later agents' init errors change nothing.
    this.#abort({
      exitCode: K6_EXIT_CODES['script-exception'],
      message: `${agent.label}: ${message}`,
      instruction: `the script threw while initialising VUs on ${agent.label}`,
      initFailed: true,
    });
  }

  #finished(agent: AgentRecord, event: Extract<AgentEvent, { type: 'finished' }>): void {
    this.#clock.agentFinished(this.#timers.now(), event);
    this.#log.debug(
      `${agent.label} finished: its k6 ran from ${ms(event.startMs)} to ${ms(event.runMs)} ` +
        'after the start instant',
    );
    if (event.aborted && this.#phase === 'running') {
      this.#abort({
        exitCode: K6_EXIT_CODES['script-aborted'],
        message: `${agent.label}: the script called test.abort()`,
        agentId: agent.id,
      });
    }
  }

  #teardownFailed(agent: AgentRecord, message: string): void {
    this.#teardownRan = true;
    this.#clock.teardownEnded(this.#timers.now());
    this.#teardownError = {
      message: `teardown() failed on ${agent.label}`,
      k6Error: message.trimEnd(),
    };
    // An abort's error is the one the run ends with; this one must not go unsaid.
    if (this.#cause) this.#log.error(`teardown() failed: ${this.#teardownError.k6Error}`);
  }

  #lose(agent: AgentRecord, reason: string): void {
    if (!agent.live || this.#phase === 'done') return;
    agent.lost = reason;
    const leaderNeeded = this.#phase === 'setup' && agent === this.#setupAgent;
    const lossIsFatal = this.#o.onAgentLoss === 'abort' || leaderNeeded;
    this.#log.error(`${agent.label} lost: ${reason}`);
    if (lossIsFatal) {
      this.#abort({
        exitCode: DISTRIBUTED_RUN_FAILED,
        message: `${agent.label} was lost: ${reason}`,
      });
    } else if (this.#live().length === 0) {
      this.#abort({ exitCode: DISTRIBUTED_RUN_FAILED, message: 'every agent was lost' });
    }
    this.#advance();
  }

  /**
   * k6 prints test.abort()'s reason only as it exits, after the run: it goes
   * into the result line then, as `k6 run` ends with it.
   */
  #noteAbortReason(agent: AgentRecord, message: string | undefined): void {
    const cause = this.#cause;
    if (message === undefined || cause?.agentId !== agent.id) return;
    if (cause.exitCode !== K6_EXIT_CODES['script-aborted']) return;
    this.#cause = { ...cause, message: `${agent.label}: ${message}` };
  }

  #abort(cause: AbortCause): void {
    if (this.#cause || this.#phase === 'done') return;
    this.#cause = cause;
    this.#log.error(`aborting the run: ${cause.message}`);
    if (this.#phase === 'running') {
      // As in k6, an abort during the run still ends with teardown().
      this.#phase = 'stopping';
      const reason = cause.instruction ?? cause.message;
      for (const agent of this.#live()) agent.instruct({ type: 'stop', reason });
    } else if (PHASES_BEFORE_START.has(this.#phase)) {
      // k6 runs no teardown() when the run never started (e.g. setup() failed).
      this.#phase = 'releasing';
      const reason = cause.instruction ?? cause.message;
      for (const agent of this.#live()) agent.instruct({ type: 'release', reason });
    }
    // Already stopping, in teardown or releasing: the run is on its way out.
  }

  /** Moves through the phases while the current barrier is complete. */
  #advance(): void {
    for (;;) {
      const before = this.#phase;
      this.#step();
      if (this.#phase === before) return;
      this.#log.debug(`phase: ${before} → ${this.#phase}`);
    }
  }

  #step(): void {
    const live = this.#live();
    const all = (type: AgentEvent['type']) => live.every((a) => a.has(type));
    switch (this.#phase) {
      case 'joining':
        if (this.#agents.length === this.#o.expectedAgents) this.#assign();
        return;
      case 'initialising':
        if (all('ready')) this.#setup();
        return;
      case 'setup':
        if (this.#setupRan || this.#o.noSetup) this.#distribute();
        return;
      case 'distributing':
        if (all('data-set')) this.#start();
        return;
      case 'running':
      case 'stopping':
        if (all('finished')) this.#teardown();
        return;
      case 'teardown':
        if (!this.#teardownAgent?.live || this.#teardownRan) this.#release();
        return;
      case 'releasing':
        if (live.every((a) => a.exit !== undefined)) this.#finish();
        return;
      case 'done':
        return;
    }
  }

  #assign(): void {
    const segments = segmentsForWeights(this.#agents.map((a) => a.weight));
    for (const agent of this.#agents) {
      const segment = segments[agent.index];
      if (!segment) throw new Error('unreachable: one segment per agent');
      agent.segment = segment;
      agent.instruct({
        type: 'prepare',
        assignment: {
          segment: segment.segment,
          sequence: segment.sequence,
          instanceId: agent.index + 1,
          leader: agent.index === 0,
          archiveSha256: this.#o.archive.sha256,
          archiveBytes: this.#o.archive.bytes,
          metrics: this.#metrics?.plan ?? DEFAULT_METRICS_PLAN,
          secretSources: this.#o.secretSources,
          outputs: this.#o.agentOutputs(agent.index + 1),
          consoleOutput: this.#o.consoleOutput,
        },
      });
    }
    this.#log.info(`${joinedText(this.#agents)}; k6 is starting on each`);
    this.#warnIdle(segments);
    this.#phase = 'initialising';
  }

  /** Before any load (issue 20.7): agents the scenarios leave without work. */
  #warnIdle(segments: ReturnType<typeof segmentsForWeights>): void {
    const labels: string[] = [];
    for (const agent of this.#agents) labels[agent.index] = agent.label;
    const warning = idleAgentsWarning(this.#o.scenarios, segments, labels);
    if (warning !== undefined) this.#log.warning(warning);
  }

  #setup(): void {
    this.#phase = 'setup';
    this.#clock.setupBegan(this.#timers.now());
    const deadlineMs = this.#o.deadlineMs;
    if (deadlineMs !== undefined) this.#after(deadlineMs, () => this.#deadlinePassed(deadlineMs));
    // The first agent still in the run (agent 1 unless it was lost under `continue`).
    const leader = this.#live()[0];
    if (this.#o.noSetup || !leader) return;
    this.#setupAgent = leader;
    this.#log.info(`every k6 is paused and ready (${sharesText(this.#live())})`);
    this.#log.info(`running setup() on ${leader.label}`);
    leader.instruct({ type: 'setup' });
  }

  #distribute(): void {
    this.#phase = 'distributing';
    // Serialized once for every agent and every poll that carries it (issue 17.3).
    const data = new JsonText(this.#setupData);
    for (const agent of this.#live()) agent.instruct({ type: 'setup-data', data });
  }

  #start(): void {
    this.#phase = 'running';
    const now = this.#timers.now();
    const align = Math.max(1, this.#o.startAlignMs);
    const at = Math.ceil((now + this.#o.startLeadMs) / align) * align;
    this.#log.info(
      `every agent has the setup data; starting all at once in ${String(at - now)} ms`,
    );
    const live = this.#live();
    this.#clock.started(at);
    this.#watchOwnLoad(at);
    const tickPhase = tickPhaseMs(this.#clock.setupMs);
    for (const agent of live) agent.instruct({ type: 'start', at, tickPhaseMs: tickPhase });
    this.#metrics?.started?.(at, {
      agentIds: live.map((a) => a.id),
      setupMs: this.#clock.setupMs,
    });
    // As in k6, thresholds are checked every 2 s of the run, which begins at the start instant.
    if (this.#metrics) {
      this.#after(at - now, () =>
        this.#every(this.#o.thresholdIntervalMs, () => this.#checkThresholds()),
      );
    }
    // Progress from the start instant on, each line a whole interval into the run.
    const every = this.#o.progressIntervalMs;
    if (every > 0 && this.#metrics?.progress) {
      this.#after(at - now, () => this.#every(every, () => this.#logProgress(at)));
    }
  }

  /**
   * A progress line while the run runs, as k6 prints its own: elapsed time
   * since the start instant, VUs, iterations, and the last interval's request
   * rate, p(95) and failures, plus how many agents are healthy.
   */
  #logProgress(startMs: number): void {
    if (this.#phase !== 'running' && this.#phase !== 'stopping') return;
    const now = this.#timers.now();
    // Rates over the last 5 s at least: a second of k6's pushes is too ragged to read.
    const window = Math.max(PROGRESS_RATE_WINDOW_MS, this.#o.progressIntervalMs);
    const p = this.#metrics?.progress?.(window, now);
    if (!p) return;
    const healthy = this.#live().length;
    const running =
      `${this.#phase} (${runningClock(now - startMs)}), ${String(p.vus)} VUs, ` +
      `${String(p.iterations)} complete iterations, ${p.requestRate.toFixed(1)} req/s, ` +
      `p(95)=${p.p95Ms === null ? '-' : `${p.p95Ms.toFixed(2)}ms`}, ` +
      `${p.errorRate === null ? '-' : `${(p.errorRate * 100).toFixed(2)}%`} failed, ` +
      `${String(healthy)}/${String(this.#agents.length)} agents healthy`;
    const scenarios = scenarioProgress(
      this.#o.scenarios,
      now - startMs,
      p.scenarioIterations,
      p.vus,
    );
    logProgress(this.#log, [running, ...scenarioProgressLines(scenarios).map(printableName)]);
  }

  /** k6's periodic threshold run: an abortOnFail crossing stops the run with 99. */
  #checkThresholds(onArrival = false): void {
    if (!this.#metrics || (this.#phase !== 'running' && this.#phase !== 'stopping')) return;
    this.#lastEvaluationMs = this.#timers.now();
    const verdict = this.#metrics.evaluate(this.runDurationMs, false, onArrival);
    if (!verdict.abort || this.#phase !== 'running') return;
    this.abort({
      exitCode: K6_EXIT_CODES['thresholds-failed'],
      message:
        `thresholds on metrics '${printableName(verdict.breached.join(', '))}' were crossed; at least one ` +
        'has abortOnFail enabled, stopping test prematurely',
    });
  }

  #teardown(): void {
    this.#phase = 'teardown';
    this.#clock.runEnded(this.#timers.now());
    this.#unwatchOwnLoad();
    const agent = this.#live().find((a) => a.exit === undefined);
    if (this.#o.noTeardown || !agent) return;
    this.#teardownAgent = agent;
    this.#clock.teardownBegan(this.#timers.now());
    this.#log.info(`every agent has finished; running teardown() on ${agent.label}`);
    agent.instruct({ type: 'teardown' });
  }

  #release(): void {
    this.#phase = 'releasing';
    this.#clock.ended(this.#timers.now());
    this.#log.debug(this.#clock.describe(this.#timers.now()));
    for (const agent of this.#live()) {
      if (agent.instruction.type !== 'release') {
        agent.instruct({ type: 'release', reason: 'the run is over' });
      }
    }
  }

  #finish(): void {
    this.#phase = 'done';
    this.#unwatchOwnLoad();
    this.close();
    this.#agentLogs.finish();
    // k6 evaluates thresholds at the end even when a VU's init code threw (they show in its summary).
    if (this.#metrics && (this.#clock.began || this.#cause?.initFailed)) {
      this.#thresholdsBreached = this.#metrics.evaluate(this.runDurationMs, true).breached;
    }
    const result = decideOutcome({
      thresholdsBreached: this.#thresholdsBreached,
      warnings: this.#negativeTrends.warnings,
      coordinatorLoad: this.#load.load,
      agentsShareMachine: this.#o.agentsShareMachine,
      setupAgentId: this.#setupRan ? this.#setupAgent?.id : undefined,
      teardownAgentId: this.#teardownRan ? this.#teardownAgent?.id : undefined,
      agents: this.#agents,
      cause: this.#cause,
      teardownError: this.#teardownError,
      setupRan: this.#setupRan,
      teardownRan: this.#teardownRan,
    });
    this.#resolve(result);
  }

  #joinTimedOut(): void {
    if (this.#phase !== 'joining') return;
    const joined = this.#agents.length;
    this.abort({
      exitCode: DISTRIBUTED_RUN_FAILED,
      message:
        `only ${String(joined)} of ${String(this.#o.expectedAgents)} agents joined within ` +
        `${String(this.#o.joinTimeoutMs / 1000)} s. Check that every agent can reach the ` +
        'coordinator URL with the right secret, or raise the join timeout.',
    });
  }

  /**
   * The test's own longest duration (and setup(), teardown(), grace) is over
   * and the run is not: stop it as k6 stops a run, then give up on whoever
   * still holds it up (issue 17.6: no report, or lack of one, hangs a run).
   */
  #deadlinePassed(deadlineMs: number): void {
    if (this.#phase === 'done') return;
    const late = this.#blockers();
    this.abort({
      exitCode: K6_EXIT_CODES['generic-timeout'],
      message:
        `the run passed its deadline of ${seconds(deadlineMs)} (the test's longest duration ` +
        `plus setupTimeout, teardownTimeout and grace) in phase ${this.#phase}` +
        (late.length ? `, waiting for ${late.map((a) => a.label).join(', ')}` : '') +
        '; stopping every agent',
    });
    this.#after(this.#o.deadlineGraceMs, () => this.#giveUp());
  }

  /**
   * Releases and drops the agents the current phase still waits for, so the
   * run moves on without them (the others still get teardown() and their
   * release); again after the grace, until the run is done.
   */
  #giveUp(): void {
    if (this.#phase === 'done') return;
    const reason = `it did not finish within the run's deadline (phase ${this.#phase})`;
    for (const agent of this.#blockers()) {
      if (agent.instruction.type !== 'release') agent.instruct({ type: 'release', reason });
      this.#lose(agent, reason);
    }
    this.#advance();
    if ((this.#phase as Phase) !== 'done') {
      this.#after(this.#o.deadlineGraceMs, () => this.#giveUp());
    }
  }

  /** The live agents the current phase waits for. */
  #blockers(): AgentRecord[] {
    const live = this.#live();
    const lacking = (type: AgentEvent['type']) => live.filter((a) => !a.has(type));
    switch (this.#phase) {
      case 'initialising':
        return lacking('ready');
      case 'setup':
        return live.filter((a) => a === this.#setupAgent);
      case 'distributing':
        return lacking('data-set');
      case 'running':
      case 'stopping':
        return lacking('finished');
      case 'teardown':
        return live.filter((a) => a === this.#teardownAgent);
      case 'releasing':
        return live.filter((a) => a.exit === undefined);
      default:
        return [];
    }
  }

  #checkLiveness(): void {
    const now = this.#timers.now();
    for (const agent of this.#live()) {
      if (agent.pollsInFlight > 0 || agent.exit) continue;
      const silentMs = now - agent.lastSeenMs;
      if (silentMs > this.#o.livenessTimeoutMs) {
        this.#lose(agent, `it stopped polling ${String(Math.round(silentMs / 1000))} s ago`);
      }
    }
  }

  #live(): AgentRecord[] {
    return this.#agents.filter((a) => a.live);
  }

  #after(ms: number, fn: () => void): void {
    const cancel = this.#timers.after(ms, () => {
      this.#cancels.delete(cancel);
      fn();
    });
    this.#cancels.add(cancel);
  }

  #every(ms: number, fn: () => void): void {
    this.#cancels.add(this.#timers.every(ms, fn));
  }

  /** Stops the timers without a result (the owner is shutting down). */
  close(): void {
    for (const cancel of this.#cancels) cancel();
    this.#cancels.clear();
  }
}

/** How far ahead the common start instant is announced, by default. */
export const DEFAULT_START_LEAD_MS = 1_000;

/** Agents of a coordinator without metrics still aggregate; it refuses their deltas. */
const DEFAULT_METRICS_PLAN: MetricsPlan = { intervalMs: 1_000, submetrics: [], parts: false };

const PHASES_BEFORE_START = new Set<Phase>(['joining', 'initialising', 'setup', 'distributing']);

/** k6's exit code for a failed setup(): test.abort() → 108, a timeout → 100, else 107. */
function setupExitCode(event: Extract<AgentEvent, { type: 'setup-failed' }>): number {
  if (event.aborted) return K6_EXIT_CODES['script-aborted'];
  if (/setup\(\) execution timed out/i.test(event.message)) return K6_EXIT_CODES['setup-timeout'];
  return K6_EXIT_CODES['script-exception'];
}

function seconds(ms: number): string {
  return `${String(Math.round(ms / 100) / 10)} s`;
}

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(1)} ms`;
}
