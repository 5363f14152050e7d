import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  /** First retry waits up to this long. */
  baseMs?: number;
  /** No single wait is longer than this. */
  maxMs?: number;
  random?: () => number;
}

/**
 * "Full jitter" exponential backoff (AWS architecture blog, "Exponential
 * Backoff And Jitter"): wait a uniform random time in [0, min(max, base·2^n)].
 * Agents that lose the coordinator at the same moment then do not come back
 * in lockstep and hit the tunnel's in-flight limit together.
 */
export class Backoff {
  readonly #base: number;
  readonly #max: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#base = options.baseMs ?? 250;
    this.#max = options.maxMs ?? 5_000;
    this.#random = options.random ?? Math.random;
  }

  nextDelayMs(): number {
    const cap = Math.min(this.#max, this.#base * 2 ** Math.min(this.#attempt, 30));
    this.#attempt += 1;
    return Math.round(this.#random() * cap);
  }

  reset(): void {
    this.#attempt = 0;
  }

  /** Waits the next delay, or `atMostMs` when that is shorter (a deadline comes first). */
  async wait(signal?: AbortSignal, atMostMs = Infinity): Promise<void> {
    await sleep(Math.max(0, Math.min(this.nextDelayMs(), atMostMs)), undefined, { signal });
  }
}
