import { setTimeout as sleep } from 'node:timers/promises';

import type { MetricAggregator } from '../metrics/aggregator.js';
import type { DeltaMessage } from '../protocol/messages.js';

export interface MetricsPumpOptions {
  aggregator: MetricAggregator;
  /** Sends one message, retrying on its own; rejects only when the coordinator is lost. */
  send: (message: DeltaMessage, signal: AbortSignal) => Promise<void>;
  intervalMs: number;
  onError: (error: unknown) => void;
}

/** After a nudge, how long a push k6 split in parts has to land before the delta goes. */
const GATHER_MS = 20;

/**
 * Sends the aggregator's deltas every interval, one at a time, each with the
 * next sequence number. While a delta is being retried, new samples keep
 * accumulating in the aggregator and go in the next delta: nothing is lost,
 * nothing is sent twice, and memory stays bounded by the number of series.
 */
export class MetricsPump {
  readonly #o: MetricsPumpOptions;
  /** Ends the interval loop; an in-flight delta still completes. */
  readonly #tick = new AbortController();
  /** Abandons sending altogether. */
  readonly #hard = new AbortController();
  #seq = 0;
  /** When the last delta went (performance.now()). */
  #lastSentMs = -Infinity;
  #wake: (() => void) | undefined;
  /** Data arrived that should go before the next tick. */
  #nudged = false;
  #loop: Promise<void> | undefined;
  #failed = false;

  constructor(options: MetricsPumpOptions) {
    this.#o = options;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    const signal = this.#tick.signal;
    while (!signal.aborted) {
      try {
        await this.#wait(signal);
      } catch {
        return;
      }
      if (!this.#o.aggregator.idle) await this.#send(false);
    }
  }

  /**
   * New data arrived in one go (a push of k6's cloud output, about once a
   * second): send it now rather than at the next tick, so an abortOnFail
   * crossing reaches the coordinator without waiting up to an interval
   * more. Deltas stay at least ¾ of an interval apart.
   */
  nudge(): void {
    this.#nudged = true;
    this.#wake?.();
  }

  /** The next tick, or a nudge (then ¾ interval after the last delta at the earliest). */
  async #wait(signal: AbortSignal): Promise<void> {
    const nudged =
      this.#nudged ||
      (await new Promise<boolean>((resolve, reject) => {
        const settle = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          this.#wake = undefined;
        };
        const onAbort = () => {
          settle();
          reject(signal.reason as Error);
        };
        const timer = setTimeout(() => {
          settle();
          resolve(false);
        }, this.#o.intervalMs);
        this.#wake = () => {
          settle();
          resolve(true);
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }));
    if (!nudged) return;
    const gap = this.#lastSentMs + (this.#o.intervalMs * 3) / 4 - performance.now();
    await sleep(Math.max(GATHER_MS, gap), undefined, { signal });
  }

  async #send(final: boolean): Promise<void> {
    if (this.#failed) return;
    this.#lastSentMs = performance.now();
    this.#nudged = false;
    const message: DeltaMessage = {
      seq: ++this.#seq,
      final,
      delta: this.#o.aggregator.takeDelta(),
    };
    try {
      await this.#o.send(message, this.#hard.signal);
    } catch (error) {
      if (this.#hard.signal.aborted) return;
      this.#failed = true;
      this.#o.onError(error);
    }
  }

  /**
   * Sends everything left as the final delta. Call once k6 has exited and its
   * output is read to the end.
   */
  async finish(): Promise<void> {
    this.#tick.abort();
    await this.#loop;
    await this.#send(true);
  }

  /** Stops without a final delta (the agent is going down). */
  async stop(): Promise<void> {
    this.#tick.abort();
    this.#hard.abort();
    await this.#loop;
  }
}
