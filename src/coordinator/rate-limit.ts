import { K6DistributedError } from '../errors.js';

export interface RateLimit {
  /** Sustained requests per second. */
  perSecond: number;
  /** Requests allowed at once above the sustained rate. */
  burst: number;
}

/**
 * Token buckets by key (an agent's token, a remote address). Hand-written:
 * ten lines of arithmetic do not justify a dependency, and the limiter must
 * run on the injected clock tests use. Keys idle long enough to refill are
 * forgotten, so memory stays bounded by the active keys.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token for `key` or throws RATE_LIMITED (HTTP 429). */
  take(key: string): void {
    const now = this.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    bucket.tokens = Math.min(
      this.limit.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.limit.perSecond,
    );
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.#buckets.set(key, bucket);
      throw new K6DistributedError(
        'RATE_LIMITED',
        `more than ${String(this.limit.perSecond)} requests per second: slow down and retry`,
      );
    }
    bucket.tokens -= 1;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > 10_000) this.#forgetFull(now);
  }

  #forgetFull(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.limit.perSecond >= this.limit.burst) {
        this.#buckets.delete(key);
      }
    }
  }
}
