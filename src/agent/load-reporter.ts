import { type AgentEvent, RESOURCES_BATCH_MAX_SAMPLES } from '../protocol/messages.js';
import type { LoadMonitor } from '../runtime/machine-load.js';
import { systemTimers } from '../runtime/timers.js';

type ResourcesEvent = Extract<AgentEvent, { type: 'resources' }>;

/** A batch leaves this often: the coordinator warns of a saturated machine within seconds. */
const BATCH_INTERVAL_MS = 5_000;

export interface LoadReporterOptions {
  monitor: LoadMonitor;
  /** The start instant on this machine's clock (Date.now() terms). */
  startLocalMs: number;
  /** Sends one batch (the agent's ordered event queue); resolves once acknowledged. */
  send: (event: ResourcesEvent) => Promise<void>;
  intervalMs?: number;
  every?: (ms: number, fn: () => void) => () => void;
}

/**
 * Reports this agent's machine load to the coordinator while its k6 runs
 * (issue 20.7): the shared monitor's reading every second, `ms` after the
 * start instant, in a batch every 5 s. One batch at a time is in flight; a
 * batch that would outgrow the schema keeps the newest readings.
 */
export class LoadReporter {
  readonly #o: LoadReporterOptions;
  readonly #unsubscribe: () => void;
  readonly #cancel: () => void;
  #samples: ResourcesEvent['samples'] = [];
  #sending: Promise<void> | undefined;

  constructor(options: LoadReporterOptions) {
    this.#o = options;
    this.#unsubscribe = options.monitor.subscribe((reading, atMs) => {
      const ms = Math.round(atMs - options.startLocalMs);
      if (ms < 0) return;
      this.#samples.push({ ms, cpu: reading.cpu, memory: reading.memory });
      if (this.#samples.length > RESOURCES_BATCH_MAX_SAMPLES) this.#samples.shift();
    });
    const every = options.every ?? systemTimers.every;
    this.#cancel = every(options.intervalMs ?? BATCH_INTERVAL_MS, () => void this.#flush());
  }

  /** Stops reading and sends what is left; resolves once acknowledged. */
  async close(): Promise<void> {
    this.stop();
    await this.#sending;
    await this.#flush();
  }

  /** Stops without sending (the agent is failing). */
  stop(): void {
    this.#unsubscribe();
    this.#cancel();
  }

  #flush(): Promise<void> | undefined {
    if (this.#samples.length === 0 || this.#sending) return this.#sending;
    const event: ResourcesEvent = { type: 'resources', samples: this.#samples };
    this.#samples = [];
    this.#sending = this.#o.send(event).finally(() => (this.#sending = undefined));
    return this.#sending;
  }
}
