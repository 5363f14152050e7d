import { K6DistributedError } from '../errors.js';

/**
 * How far past the last accepted sequence number a report may be. An honest
 * agent sends each stream one report at a time, so it is always exactly one
 * ahead; the margin only covers a best-effort farewell sent after a report
 * that failed.
 */
export const SEQUENCE_WINDOW = 8;

/** Sequence numbers kept for telling a retry from another sender's report. */
const REMEMBERED = 64;

export type SequenceVerdict =
  /** Past the last accepted number, within the window: apply it. */
  | 'next'
  /** At or below the last accepted number: a retry, or another sender's report. */
  | 'seen';

/**
 * One agent's sequence numbers on one stream (events or metric deltas). A
 * number far ahead is refused, so one report with `seq` 2^53−1 cannot make
 * every later report of that agent look like a retry (issue 17.6). For
 * numbers already used, `digests` tells a retry (the same report, ignored)
 * from a different report under the same number (someone else holds the
 * agent's token; the honest report must still count).
 */
export class SequenceGuard {
  #last = 0;
  readonly #digests = new Map<number, Set<string>>();

  constructor(
    /** "events of agent 2 (eu-runner)", for the refusal message. */
    readonly what: string,
  ) {}

  get last(): number {
    return this.#last;
  }

  /** Throws SEQUENCE_OUT_OF_RANGE, changing nothing, for a number past the window. */
  check(seq: number): SequenceVerdict {
    if (seq <= this.#last) return 'seen';
    if (seq > this.#last + SEQUENCE_WINDOW) {
      throw new K6DistributedError(
        'SEQUENCE_OUT_OF_RANGE',
        `refused sequence number ${String(seq)} for the ${this.what}: the next is ` +
          `${String(this.#last + 1)} (at most ${String(SEQUENCE_WINDOW)} ahead). An agent ` +
          'numbers its reports 1, 2, 3, …; this one did not come from its k6-distributed.',
        { data: { seq, expected: this.#last + 1 } },
      );
    }
    return 'next';
  }

  /** Records `seq` as applied, with the digest of what was applied under it. */
  accept(seq: number, digest?: string): void {
    this.#last = Math.max(this.#last, seq);
    if (digest === undefined) return;
    const seen = this.#digests.get(seq) ?? new Set<string>();
    seen.add(digest);
    this.#digests.set(seq, seen);
    for (const old of this.#digests.keys()) {
      if (old <= this.#last - REMEMBERED) this.#digests.delete(old);
    }
  }

  /**
   * For a number at or below the last: true when this exact report was
   * applied before, or the number is too old to tell (a late retry).
   */
  isRetry(seq: number, digest: string): boolean {
    if (seq <= this.#last - REMEMBERED) return true;
    return this.#digests.get(seq)?.has(digest) ?? false;
  }
}
