import type { AgentEvent } from '../protocol/messages.js';

/**
 * Sends an agent's events to the coordinator one at a time, in order, each
 * with the next sequence number. `send` retries on its own; a retried event
 * keeps its number, so the coordinator applies it once.
 */
export class EventQueue {
  readonly #send: (seq: number, event: AgentEvent) => Promise<void>;
  readonly #onError: (error: unknown) => void;
  #seq = 0;
  #tail: Promise<void> = Promise.resolve();
  #failed = false;

  constructor(
    send: (seq: number, event: AgentEvent) => Promise<void>,
    onError: (error: unknown) => void,
  ) {
    this.#send = send;
    this.#onError = onError;
  }

  /** Queues an event; resolves once the coordinator has acknowledged it. */
  send(event: AgentEvent): Promise<void> {
    const seq = ++this.#seq;
    this.#tail = this.#tail.then(async () => {
      if (this.#failed) return;
      try {
        await this.#send(seq, event);
      } catch (error) {
        this.#failed = true;
        this.#onError(error);
      }
    });
    return this.#tail;
  }

  /** A sequence number for an event sent outside the queue (the agent's farewell). */
  reserve(): number {
    return ++this.#seq;
  }

  /** Resolves once every queued event is acknowledged (or sending has failed). */
  flush(): Promise<void> {
    return this.#tail;
  }
}
