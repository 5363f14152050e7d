import { type AgentEvent, RESOURCES_BATCH_MAX_SAMPLES } from '../protocol/messages.js';
import type { LoadMonitor } from '../runtime/machine-load.js';
import { BatchSender } from './batch-sender.js';

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
  readonly #unsubscribe: () => void;
  readonly #batches: BatchSender<ResourcesEvent>;
  #samples: ResourcesEvent['samples'] = [];

  constructor(options: LoadReporterOptions) {
    this.#unsubscribe = options.monitor.subscribe((reading, atMs) => {
      const ms = Math.round(atMs - options.startLocalMs);
      if (ms < 0) return;
      this.#samples.push({ ms, cpu: reading.cpu, memory: reading.memory });
      if (this.#samples.length > RESOURCES_BATCH_MAX_SAMPLES) this.#samples.shift();
    });
    this.#batches = new BatchSender({
      take: () => {
        if (this.#samples.length === 0) return undefined;
        const event: ResourcesEvent = { type: 'resources', samples: this.#samples };
        this.#samples = [];
        return event;
      },
      send: options.send,
      intervalMs: options.intervalMs ?? BATCH_INTERVAL_MS,
      every: options.every,
    });
  }

  /** Stops reading and sends what is left; resolves once acknowledged. */
  async close(): Promise<void> {
    this.stop();
    await this.#batches.sending;
    await this.#batches.flush();
  }

  /** Stops without sending (the agent is failing). */
  stop(): void {
    this.#unsubscribe();
    this.#batches.stop();
  }
}
