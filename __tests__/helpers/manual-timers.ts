import type { Cancel, Timers } from '../../src/runtime/timers.js';

interface Scheduled {
  at: number;
  fn: () => void;
  /** Set for a repeating timer. */
  everyMs?: number;
  /** Order of scheduling, so timers due at the same instant fire as Node fires them. */
  order: number;
}

/**
 * A clock and timers moved by hand: `advance(ms)` moves time forward and
 * fires every timer that falls due on the way, in order, each at its instant.
 */
export class ManualTimers implements Timers {
  ms: number;
  readonly #scheduled = new Set<Scheduled>();
  #order = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.ms = startMs;
  }

  readonly now = (): number => this.ms;

  readonly after = (ms: number, fn: () => void): Cancel => this.#schedule({ at: this.ms + ms, fn });

  readonly every = (ms: number, fn: () => void): Cancel =>
    this.#schedule({ at: this.ms + ms, fn, everyMs: Math.max(1, ms) });

  /** Timers not yet fired or cancelled. */
  get pending(): number {
    return this.#scheduled.size;
  }

  advance(ms: number): void {
    const end = this.ms + ms;
    for (let next = this.#next(end); next; next = this.#next(end)) {
      this.ms = next.at;
      if (next.everyMs === undefined) this.#scheduled.delete(next);
      else Object.assign(next, { at: next.at + next.everyMs, order: (this.#order += 1) });
      next.fn();
    }
    this.ms = end;
  }

  #schedule(timer: Omit<Scheduled, 'order'>): Cancel {
    const scheduled = { ...timer, order: (this.#order += 1) };
    this.#scheduled.add(scheduled);
    return () => this.#scheduled.delete(scheduled);
  }

  #next(end: number): Scheduled | undefined {
    let next: Scheduled | undefined;
    for (const s of this.#scheduled) {
      if (s.at > end) continue;
      if (!next || s.at < next.at || (s.at === next.at && s.order < next.order)) next = s;
    }
    return next;
  }
}
