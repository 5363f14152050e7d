import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { errorMessage, hasErrorCode, K6DistributedError } from '../errors.js';
import type { K6Binary } from '../k6/binary.js';
import { agentSecretSources } from '../k6/secret-sources.js';
import { POLL_HOLD_MS } from '../defaults.js';
import { DISTRIBUTED_RUN_FAILED, K6_EXIT_CODES } from '../k6/exit-codes.js';
import type { K6ProcessExit } from '../k6/process.js';
import { isRunOver, K6_EXECUTION_STATUS } from '../k6/rest-client.js';
import {
  PROTOCOL_VERSION,
  type AgentEvent,
  type Assignment,
  type Instruction,
  type RegisterResponse,
} from '../protocol/messages.js';
import type { Logger } from '../runtime/logger.js';
import { PACKAGE_VERSION } from '../version.js';
import type { ClockSample, CoordinatorClient } from './client.js';
import { K6JsonOutput } from '../k6/json-output.js';
import { MetricAggregator } from '../metrics/aggregator.js';
import { CloudIngest } from './cloud-ingest.js';
import { K6Log } from './k6-log.js';
import { LogForwarder } from './log-forwarder.js';
import { LoadReporter } from './load-reporter.js';
import { LoadMonitor } from '../runtime/machine-load.js';
import { k6GoMemoryEnv, machineMemoryBytes } from './go-memory.js';
import { startAgentK6, type ReadyK6 } from './local-k6.js';
import { VusSampler } from './vus-sampler.js';
import { MetricsPump } from './metrics-pump.js';
import { EventQueue } from './event-queue.js';
import { setupDataProblem } from '../protocol/setup-data.js';
import { agentOutputProblem, consoleOutputProblem, isOutputSetting } from '../k6/outputs.js';
import { preciseNow, waitForRunEnd } from './run-end.js';

export interface AgentOptions {
  client: CoordinatorClient;
  k6: K6Binary;
  /** Receives the archive. */
  workDir: string;
  name?: string;
  weight?: string;
  tags?: Record<string, string>;
  /**
   * The process environment of this agent's k6 (k6's own settings); the
   * test's `__ENV` comes from the coordinator, never from here.
   */
  env: NodeJS.ProcessEnv;
  /** `-e KEY=VALUE` for this agent only, over the coordinator's environment. */
  envOverrides?: Record<string, string>;
  /** k6 processes of this run on this machine (a local run's agents share it; default 1). */
  k6OnMachine?: number;
  /** This machine's memory in bytes (default: read from the machine). */
  memoryBytes?: number;
  log: Logger;
  /** How often k6's status is read to notice the end of the run. */
  statusIntervalMs?: number;
  clockProbes?: number;
  /** Called once the coordinator has numbered this agent. */
  onRegistered?: (registration: RegisterResponse) => void;
  /**
   * Once released, how long the agent waits for the coordinator to
   * acknowledge that its k6 exited (default 15 s); see #release().
   */
  releasedAckWaitMs?: number;
  /**
   * Sends what this agent's k6 prints to the coordinator's log (issue 20.3):
   * for agents on other machines; a local run's agents print to the same
   * terminal already.
   */
  forwardLogs?: boolean;
  /** Reads this machine's load while k6 runs (default: the process's shared monitor). */
  load?: LoadMonitor;
  /**
   * The agent runs in the user's own `run` process, so `--out` files may go
   * wherever the user's flags say; any other agent writes them inside its
   * working directory only (k6/outputs.ts agentOutputProblem).
   */
  outputFilesAnywhere?: boolean;
}

/** See AgentOptions.releasedAckWaitMs. */
const RELEASED_ACK_WAIT_MS = 15_000;

export interface AgentResult {
  /** 0 when released by the coordinator; non-zero when this agent could not finish. */
  exitCode: number;
  message: string;
}

/**
 * One agent: registers, then carries out the coordinator's newest
 * instruction on its own k6, reporting each step. Two loops run: the poll
 * loop (one held request) and the worker (instructions, in order); event
 * reports are the second and last request this agent ever has in flight.
 */
export class Agent {
  readonly #o: AgentOptions;
  readonly #log: Logger;
  readonly #events: EventQueue;
  readonly #stopped = new AbortController();
  #latest: { version: number; instruction: Instruction } = {
    version: 0,
    instruction: { type: 'wait' },
  };
  #wake: (() => void) | undefined;
  #registration: RegisterResponse | undefined;
  #k6: ReadyK6 | undefined;
  #pump: MetricsPump | undefined;
  #aggregator: MetricAggregator | undefined;
  /** Where k6's cloud output pushes, on the cloud transport. */
  #ingest: CloudIngest | undefined;
  #sampler: VusSampler | undefined;
  #loadReporter: LoadReporter | undefined;
  #clock: ClockSample = { offsetMs: 0, rttMs: Infinity };
  /** The start instant on this machine's clock. */
  #startLocalMs: number | undefined;
  /** When the unpause was sent, and when k6 started (the middle of that request). */
  #unpause: { sentMs: number; startedMs: number } | undefined;
  #startedRun = false;
  #stopOrdered = false;
  readonly #k6Log: K6Log;
  readonly #forwarder: LogForwarder | undefined;
  #finishedSent = false;
  #released = false;
  #fatal: unknown;
  /** How k6 exited when the script's init code threw: reported again on release. */
  #initExit: K6ProcessExit | undefined;

  constructor(options: AgentOptions) {
    this.#o = options;
    this.#log = options.log;
    this.#forwarder = options.forwardLogs
      ? new LogForwarder({ send: (event) => this.#sendEvent(event) })
      : undefined;
    this.#k6Log = new K6Log({
      forward: this.#forwarder && ((line) => this.#forwarder?.add(line)),
      log: options.log,
      stopOrdered: () => this.#stopOrdered,
      signalledByUs: () => this.#released || this.#stopOrdered || this.#isStopping(),
      onMarkedFailed: (message) =>
        void this.#sendEvent({ type: 'marked-failed', message: message.slice(0, 8192) }),
    });
    this.#events = new EventQueue(
      (seq, event) => options.client.sendEvent(seq, event, this.#stopped.signal),
      (error) => this.#fail(error),
    );
  }

  /** Runs until released, the coordinator is lost, or `signal` fires (e.g. SIGTERM). */
  async run(signal?: AbortSignal): Promise<AgentResult> {
    const onCancel = () => this.#fail(signal?.reason);
    signal?.addEventListener('abort', onCancel, { once: true });
    try {
      this.#registration = await this.#o.client.register({
        protocol: PROTOCOL_VERSION,
        version: PACKAGE_VERSION,
        key: randomBytes(16).toString('base64url'),
        name: this.#o.name,
        weight: this.#o.weight ?? '1',
        tags: this.#o.tags ?? {},
        k6Version: this.#o.k6.version,
      });
      const r = this.#registration;
      this.#log.info(`registered as agent ${String(r.index + 1)} of ${String(r.expectedAgents)}`);
      this.#o.onRegistered?.(r);
      void this.#pollLoop();
      await this.#work();
    } catch (error) {
      await this.#tellCoordinator(error);
      this.#fail(error);
    } finally {
      signal?.removeEventListener('abort', onCancel);
      this.#forwarder?.stop();
      this.#stopped.abort();
      await this.#shutdownK6();
      if (signal?.aborted) await this.#farewell(signal.reason);
    }
    return this.#result(signal);
  }

  /**
   * Best effort, once this agent's k6 has stopped: tells the coordinator the
   * agent was cancelled (e.g. its GitHub job was), so the run reacts now
   * instead of at the liveness timeout.
   */
  async #farewell(reason: unknown): Promise<void> {
    if (this.#registration === undefined || this.#released) return;
    await this.#events.flush();
    const event = { type: 'failed', message: `cancelled: ${errorMessage(reason)}` } as const;
    try {
      await this.#o.client.sendEvent(this.#events.reserve(), event, AbortSignal.timeout(5_000));
    } catch {
      // The coordinator will notice at its liveness timeout instead.
    }
  }

  /** Lets the coordinator know at once why this agent ends, if it can still be reached. */
  async #tellCoordinator(error: unknown): Promise<void> {
    if (this.#registration === undefined || this.#isStopping()) return;
    if (hasErrorCode(error, 'COORDINATOR_UNREACHABLE') || hasErrorCode(error, 'COORDINATOR_FAILED'))
      return;
    this.#log.error(errorMessage(error));
    await this.#sendEvent({ type: 'failed', message: errorMessage(error).slice(0, 8192) });
  }

  #result(signal: AbortSignal | undefined): AgentResult {
    if (this.#released && this.#fatal === undefined) {
      return { exitCode: 0, message: 'released by the coordinator' };
    }
    if (signal?.aborted) {
      return { exitCode: K6_EXIT_CODES['external-abort'], message: errorMessage(signal.reason) };
    }
    // The coordinator said it failed: end with its exit code, as its job does.
    const fatal = this.#fatal;
    const code = hasErrorCode(fatal, 'COORDINATOR_FAILED') ? fatal.data.exitCode : undefined;
    return {
      exitCode: typeof code === 'number' ? code : DISTRIBUTED_RUN_FAILED,
      message: errorMessage(fatal),
    };
  }

  /** The first fatal error wins; it stops both loops. */
  #fail(error: unknown): void {
    if (this.#fatal !== undefined || this.#released) return;
    this.#fatal = error ?? new Error('stopped');
    this.#stopped.abort(this.#fatal);
    this.#wake?.();
  }

  #isStopping(): boolean {
    return this.#stopped.signal.aborted;
  }

  async #pollLoop(): Promise<void> {
    const holdMs = this.#registration?.pollHoldMs ?? POLL_HOLD_MS;
    while (!this.#stopped.signal.aborted) {
      try {
        const response = await this.#o.client.poll(
          this.#latest.version,
          holdMs,
          this.#stopped.signal,
        );
        if (response.version > this.#latest.version) {
          this.#latest = { version: response.version, instruction: response.instruction };
          this.#wake?.();
        }
      } catch (error) {
        // Aborted polls end here too; only a real failure is fatal.
        if (!this.#isStopping()) this.#fail(error);
        return;
      }
    }
  }

  /** Carries out each new instruction until released or stopped. */
  async #work(): Promise<void> {
    let handled = 0;
    while (!this.#stopped.signal.aborted) {
      if (this.#latest.version === handled) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      handled = this.#latest.version;
      await this.#execute(this.#latest.instruction);
      if (this.#released) return;
    }
  }

  async #execute(instruction: Instruction): Promise<void> {
    this.#log.debug(`instruction: ${instruction.type}`);
    switch (instruction.type) {
      case 'wait':
        return;
      case 'prepare':
        return this.#prepare(instruction.assignment);
      case 'setup':
        return this.#setup();
      case 'setup-data':
        return this.#setSetupData(instruction.data);
      case 'start':
        return this.#start(instruction.at, instruction.tickPhaseMs);
      case 'stop':
        return this.#stop(instruction.reason);
      case 'teardown':
        return this.#teardown();
      case 'release':
        return this.#release(instruction.reason);
    }
  }

  async #prepare(assignment: Assignment): Promise<void> {
    const archive = join(this.#o.workDir, 'archive.tar');
    await this.#o.client.downloadArchive(archive, assignment.archiveSha256, this.#stopped.signal);
    this.#log.info(
      `segment ${assignment.segment}${assignment.leader ? ' (leader)' : ''}; starting k6 paused`,
    );
    const aggregator = new MetricAggregator(assignment.metrics, (m) => this.#log.warning(m));
    this.#aggregator = aggregator;
    this.#pump = new MetricsPump({
      aggregator,
      intervalMs: assignment.metrics.intervalMs,
      send: (message, signal) =>
        this.#o.client.sendDelta(message, AbortSignal.any([signal, this.#stopped.signal])),
      onError: (error) => this.#fail(error),
    });
    this.#checkOutputs(assignment);
    const secrets = await agentSecretSources(assignment.secretSources, this.#o.workDir);
    if (assignment.metrics.transport === 'cloud') {
      const pump = this.#pump;
      this.#ingest = await CloudIngest.start({
        onSeries: (series) => {
          aggregator.ingestCloud(series);
          pump.nudge();
        },
        warn: (m) => this.#log.warning(m),
      });
      this.#log.debug(`k6's cloud output pushes its metrics to ${this.#ingest.url}`);
    }
    try {
      this.#k6 = await this.#startK6(assignment, archive, secrets, aggregator);
    } catch (error) {
      if (!hasErrorCode(error, 'K6_INIT_FAILED')) throw error;
      await this.#initFailed(error);
      return;
    }
    this.#pump.start();
    void this.#k6.proc.done.then((exit) => this.#onK6Exit(exit));
    await this.#sendEvent({ type: 'ready', vusMax: this.#k6.vusMax });
  }

  /**
   * Refuses outputs this agent's k6 must not run (a file outside its working
   * directory) and any setting that is not one of theirs.
   */
  #checkOutputs(assignment: Assignment): void {
    const out = assignment.outputs?.out ?? [];
    const refuse = (what: string, problem: string) =>
      new K6DistributedError(
        'INVALID_OPTION',
        `the coordinator asked for ${what}, which this agent refuses: ${problem}`,
      );
    for (const output of out) {
      const problem = agentOutputProblem(output, this.#o.outputFilesAnywhere !== true);
      if (problem !== undefined) throw refuse(`--out ${output}`, problem);
    }
    for (const name of Object.keys(assignment.outputs?.env ?? {})) {
      if (!isOutputSetting(name, out)) {
        throw refuse(`${name} in its k6 environment`, 'it is no setting of the outputs it runs');
      }
    }
    const console = assignment.consoleOutput;
    const consoleProblem =
      console && consoleOutputProblem(console, this.#o.outputFilesAnywhere !== true);
    if (consoleProblem) throw refuse(`--console-output ${console}`, consoleProblem);
  }

  #startK6(
    assignment: Assignment,
    archive: string,
    secrets: Awaited<ReturnType<typeof agentSecretSources>>,
    aggregator: MetricAggregator,
  ): Promise<ReadyK6> {
    const jsonOutput = new K6JsonOutput(aggregator);
    return startAgentK6({
      k6: this.#o.k6,
      assignment,
      archive,
      envOverrides: this.#o.envOverrides,
      secretSourceFlags: secrets.flags,
      env: this.#o.env,
      goMemoryEnv: k6GoMemoryEnv({
        env: this.#o.env,
        memoryBytes: this.#o.memoryBytes ?? machineMemoryBytes(),
        k6OnMachine: this.#o.k6OnMachine ?? 1,
      }),
      secretSourceEnv: secrets.env,
      transport: assignment.metrics.transport,
      transportEnv: this.#ingest?.k6Environment(),
      log: this.#log,
      onMetricLine: (line) => jsonOutput.ingestLine(line),
      onLogLine: this.#k6Log.line,
    });
  }

  /**
   * The script's init code threw in this share (k6 exited 107 and logged
   * why, e.g. `if (__VU > 1) throw …`): a script error as in `k6 run`, not a
   * lost agent. The coordinator ends the run with 107; this agent waits for
   * its release like the others.
   */
  async #initFailed(error: K6DistributedError): Promise<void> {
    this.#initExit = error.data.exit as K6ProcessExit;
    await this.#sendEvent({
      type: 'init-failed',
      message: (this.#k6Log.initError ?? error.message).slice(0, 8192),
    });
  }

  async #setup(): Promise<void> {
    const { api } = this.#requireK6();
    try {
      const began = performance.now();
      const data = await api.runSetup({ signal: this.#stopped.signal });
      const durationMs = performance.now() - began;
      // The coordinator refuses such data on arrival: say why, as setup()'s own failure.
      const problem = setupDataProblem(data);
      if (problem !== undefined) {
        await this.#sendEvent({ type: 'setup-failed', message: problem, aborted: false });
        return;
      }
      await this.#sendEvent({ type: 'setup-done', data, durationMs });
    } catch (error) {
      if (!isScriptError(error)) throw error;
      const message = scriptErrorDetail(error);
      await this.#sendEvent({
        type: 'setup-failed',
        message,
        aborted: /^test aborted/.test(message),
      });
    }
  }

  async #setSetupData(data: unknown): Promise<void> {
    await this.#requireK6().api.setSetupData(data);
    await this.#measureClock();
    await this.#sendEvent({ type: 'data-set' });
  }

  /** Keeps the sample with the shortest round trip: its midpoint is the tightest bound. */
  async #measureClock(): Promise<void> {
    for (let i = 0; i < (this.#o.clockProbes ?? 5); i++) {
      const sample = await this.#o.client.clockSample(this.#stopped.signal);
      if (sample.rttMs < this.#clock.rttMs) this.#clock = sample;
    }
    this.#log.debug(
      `clock offset to the coordinator ${this.#clock.offsetMs.toFixed(1)} ms ` +
        `(± ${(this.#clock.rttMs / 2).toFixed(1)} ms)`,
    );
  }

  async #start(at: number, tickPhaseMs: number): Promise<void> {
    const { api } = this.#requireK6();
    const startLocalMs = at - this.#clock.offsetMs;
    this.#startLocalMs = startLocalMs;
    this.#aggregator?.setStart(startLocalMs);
    this.#startSampler(api, startLocalMs, tickPhaseMs);
    const waitMs = startLocalMs - Date.now();
    if (waitMs > 0) await sleep(waitMs, undefined, { signal: this.#stopped.signal });
    else this.#log.warning(`the start instant passed ${String(-waitMs)} ms ago; starting now`);
    const sentMs = preciseNow();
    await api.unpause();
    const startedMs = (sentMs + preciseNow()) / 2;
    this.#unpause = { sentMs, startedMs };
    const startedAt = startedMs + this.#clock.offsetMs;
    this.#startedRun = true;
    this.#loadReporter = new LoadReporter({
      monitor: this.#o.load ?? LoadMonitor.shared,
      startLocalMs,
      send: (event) => this.#sendEvent(event),
    });
    await this.#sendEvent({
      type: 'started',
      at: startedAt,
      offsetMs: this.#clock.offsetMs,
      rttMs: this.#clock.rttMs,
    });
    void this.#watchRun().catch(async (error: unknown) => {
      // k6 died: #onK6Exit reports that, with how it died.
      if (this.#k6?.proc.exit) return;
      await this.#tellCoordinator(error);
      this.#fail(error);
    });
  }

  #startSampler(api: ReadyK6['api'], startLocalMs: number, phaseMs: number): void {
    const aggregator = this.#aggregator;
    if (!aggregator) return;
    this.#sampler = new VusSampler({
      status: (signal) => api.status({ signal: AbortSignal.any([signal, this.#stopped.signal]) }),
      record: (metric, ms, value, over) => aggregator.addTick(metric, ms, value, over),
      startLocalMs,
      phaseMs,
    });
    this.#sampler.start();
  }

  /**
   * Reports `finished` once k6's run is over (design.md §3: `stopped` or
   * status ≥ 9), with when its k6 started and ended after the start instant,
   * on this machine's clock: the run's duration needs no clock agreement.
   */
  async #watchRun(): Promise<void> {
    const { api, proc } = this.#requireK6();
    const unpause = this.#unpause;
    const startLocalMs = this.#startLocalMs;
    if (!unpause || startLocalMs === undefined) throw new Error('unreachable: watched unstarted');
    const end = await waitForRunEnd(api, {
      unpausedMs: unpause.sentMs,
      maxIntervalMs: this.#o.statusIntervalMs ?? 100,
      signal: AbortSignal.any([proc.exitSignal, this.#stopped.signal]),
    });
    // stopped without our order: the script called test.abort().
    const aborted = end.status.stopped && !this.#stopOrdered;
    if (aborted) this.#log.warning('the script called test.abort(); telling the coordinator');
    const runMs = Math.max(0, end.atMs - startLocalMs);
    // Its machine's last readings go before `finished`: the run may end right after it.
    await this.#loadReporter?.close();
    await this.#sendFinished(end.status.status, aborted, {
      startMs: Math.min(runMs, Math.max(0, unpause.startedMs - startLocalMs)),
      runMs,
    });
  }

  async #sendFinished(
    status: number,
    aborted: boolean,
    times?: { startMs: number; runMs: number },
  ): Promise<void> {
    if (this.#finishedSent) return;
    this.#finishedSent = true;
    await this.#sendEvent({ type: 'finished', status, aborted, ...times });
  }

  async #stop(reason: string): Promise<void> {
    this.#stopOrdered = true;
    this.#log.warning(`stopping k6: ${reason}`);
    if (!this.#startedRun) {
      await this.#sendFinished(K6_EXECUTION_STATUS.pausedBeforeRun, false);
      return;
    }
    const { api } = this.#requireK6();
    const status = await api.status();
    if (!isRunOver(status)) await api.stop();
  }

  async #teardown(): Promise<void> {
    const { api } = this.#requireK6();
    try {
      const began = performance.now();
      await api.runTeardown({ signal: this.#stopped.signal });
      await this.#sendEvent({ type: 'teardown-done', durationMs: performance.now() - began });
    } catch (error) {
      if (!isScriptError(error)) throw error;
      await this.#sendEvent({
        type: 'teardown-failed',
        message: scriptErrorDetail(error),
      });
    }
  }

  async #release(reason: string): Promise<void> {
    this.#released = true;
    this.#log.info(`released: ${reason}`);
    // Its last samples go in the final delta; k6 answers no more once it exits.
    await this.#sampler?.stop();
    const exit = this.#k6 ? await this.#k6.proc.stop({ graceMs: 30_000 }) : this.#initExit;
    // k6 flushed its metric stream on the way out: send the rest before saying so.
    await this.#pump?.finish();
    // Its last lines go before its exit, so they reach the coordinator's log before the run ends.
    void this.#forwarder?.close();
    const sent = this.#sendEvent({
      type: 'k6-exited',
      expected: true,
      exit: {
        code: exit?.code ?? 0,
        signal: exit?.signal ?? null,
        description: exit?.outcome.description ?? 'k6 never started',
        ...(this.#k6Log.abortMessage && { message: this.#k6Log.abortMessage.slice(0, 8192) }),
      },
    });
    // The coordinator may have applied it and ended before its answer got here (a lost
    // answer, then the listener closed): retrying until the dead-man deadline would hold
    // this agent's job for a minute after a finished run. Bounded; the run's over for us.
    const waitMs = this.#o.releasedAckWaitMs ?? RELEASED_ACK_WAIT_MS;
    const acknowledged = await Promise.race([
      sent.then(() => true),
      sleep(waitMs, false, { ref: false }),
    ]);
    if (!acknowledged) {
      this.#log.debug(
        `the coordinator did not acknowledge that k6 exited within ${String(waitMs / 1000)} s; ` +
          'it has likely ended the run already',
      );
    }
  }

  #onK6Exit(exit: K6ProcessExit): void {
    if (this.#released) return;
    this.#loadReporter?.stop();
    this.#log.error(`k6 exited unexpectedly: ${exit.outcome.description}`);
    // What it measured before it died still counts, as it would in one big k6.
    void (this.#pump?.finish() ?? Promise.resolve())
      .then(() => {
        void this.#forwarder?.close();
        return this.#sendEvent({
          type: 'k6-exited',
          expected: false,
          exit: { code: exit.code, signal: exit.signal, description: exit.outcome.description },
        });
      })
      .then(() =>
        this.#fail(
          new K6DistributedError(
            'AGENT_FAILED',
            `k6 exited unexpectedly: ${exit.outcome.description}`,
          ),
        ),
      );
  }

  #sendEvent(event: AgentEvent): Promise<void> {
    return this.#events.send(event);
  }

  #requireK6(): ReadyK6 {
    if (!this.#k6) throw new Error('unreachable: the coordinator skipped prepare');
    return this.#k6;
  }

  /** Whatever happened, no k6 of ours keeps loading the target. */
  async #shutdownK6(): Promise<void> {
    this.#loadReporter?.stop();
    await this.#sampler?.stop();
    await this.#pump?.stop();
    const k6 = this.#k6;
    if (k6 && !k6.proc.exit) {
      this.#log.warning('stopping k6 (dead-man switch: this agent is ending)');
      await k6.proc.stop({ graceMs: 5_000 });
    }
    await k6?.api.close();
    await this.#ingest?.close();
  }
}

function scriptErrorDetail(error: K6DistributedError): string {
  const detail = error.data.detail;
  return typeof detail === 'string' && detail !== '' ? detail : error.message;
}

/** k6's REST API answered 500 "Error executing setup/teardown": the script failed. */
function isScriptError(error: unknown): error is K6DistributedError {
  return hasErrorCode(error, 'K6_API_ERROR') && error.data.statusCode === 500;
}
