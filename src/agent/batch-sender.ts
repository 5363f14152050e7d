import { systemTimers } from '../runtime/timers.js';

export interface BatchSenderOptions<E> {
  /** Takes what has gathered as one event and starts anew; undefined when there is nothing. */
  take: () => E | undefined;
  /** Sends one batch (the agent's ordered event queue); resolves once acknowledged. */
  send: (event: E) => Promise<void>;
  intervalMs: number;
  /** The clock's timers; tests pass manual ones. */
  every?: (ms: number, fn: () => void) => () => void;
}

/**
 * What the agent's periodic reports share (machine load, forwarded log
 * lines): a batch every `intervalMs`, and never a second one while one is on
 * its way, so batches do not pile up behind a slow link.
 */
export class BatchSender<E> {
  readonly #o: BatchSenderOptions<E>;
  readonly #cancel: () => void;
  #sending: Promise<void> | undefined;

  constructor(options: BatchSenderOptions<E>) {
    this.#o = options;
    const every = options.every ?? systemTimers.every;
    this.#cancel = every(options.intervalMs, () => void this.flush());
  }

  /** The batch on its way, if any; resolves once acknowledged. */
  get sending(): Promise<void> | undefined {
    return this.#sending;
  }

  /**
   * Sends what has gathered, unless a batch is on its way (then that one's
   * promise); `evenIfSending`: queue it behind that one (the queue keeps order).
   */
  flush(evenIfSending = false): Promise<void> | undefined {
    if (this.#sending && !evenIfSending) return this.#sending;
    const event = this.#o.take();
    if (event === undefined) return this.#sending;
    const sent = this.#o.send(event).finally(() => {
      if (this.#sending === sent) this.#sending = undefined;
    });
    this.#sending = sent;
    return sent;
  }

  /** No more batches on the clock. */
  stop(): void {
    this.#cancel();
  }
}
