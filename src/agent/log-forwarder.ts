import { LOG_BATCH_MAX_LINES, LOG_LINE_MAX_CHARS, type AgentEvent } from '../protocol/messages.js';
import { BatchSender } from './batch-sender.js';

type LogEvent = Extract<AgentEvent, { type: 'log' }>;

/** A batch's lines as JSON stay under this, far inside the coordinator's 128 KiB per event. */
const BATCH_MAX_BYTES = 64 * 1024;

export interface LogForwarderOptions {
  /** Sends one batch (the agent's ordered event queue); resolves once acknowledged. */
  send: (event: LogEvent) => Promise<void>;
  /** How often a batch may leave (default 1 s). */
  intervalMs?: number;
  /** The clock's timers; tests pass manual ones. */
  every?: (ms: number, fn: () => void) => () => void;
}

/**
 * Sends what an agent's k6 prints to the coordinator (issue 20.3), whose log
 * is where people look: one batch a second at most, at most
 * LOG_BATCH_MAX_LINES lines in it. A script that logs every request on every
 * agent would otherwise send thousands of lines a second through the tunnel
 * and ahead of the run's own events; the lines over the rate are counted,
 * said in the next batch, and stay in the agent's own log.
 */
export class LogForwarder {
  readonly #batches: BatchSender<LogEvent>;
  #lines: string[] = [];
  #bytes = 0;
  #dropped = 0;

  constructor(options: LogForwarderOptions) {
    this.#batches = new BatchSender({
      take: () => {
        if (this.#lines.length === 0 && this.#dropped === 0) return undefined;
        const event: LogEvent = { type: 'log', lines: this.#lines, dropped: this.#dropped };
        this.#lines = [];
        this.#bytes = 0;
        this.#dropped = 0;
        return event;
      },
      send: options.send,
      intervalMs: options.intervalMs ?? 1_000,
      every: options.every,
    });
  }

  /** One line of k6's output; past this second's budget it is only counted. */
  add(line: string): void {
    if (this.#lines.length >= LOG_BATCH_MAX_LINES) {
      this.#dropped++;
      return;
    }
    const kept =
      line.length > LOG_LINE_MAX_CHARS ? `${line.slice(0, LOG_LINE_MAX_CHARS - 1)}…` : line;
    const bytes = Buffer.byteLength(JSON.stringify(kept));
    if (this.#bytes + bytes > BATCH_MAX_BYTES) {
      this.#dropped++;
      return;
    }
    this.#bytes += bytes;
    this.#lines.push(kept);
  }

  /**
   * Queues what is left and stops: the queue keeps order, so it goes before
   * any event the agent sends after this. Resolves once acknowledged.
   */
  async close(): Promise<void> {
    this.#batches.stop();
    await this.#batches.flush(true);
  }

  /** Stops without sending (the agent is failing). */
  stop(): void {
    this.#batches.stop();
  }
}
