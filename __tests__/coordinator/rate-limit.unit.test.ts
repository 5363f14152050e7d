import { describe, expect, it } from '@jest/globals';

import { RateLimiter } from '../../src/coordinator/rate-limit.js';

describe('RateLimiter (token buckets on an injected clock)', () => {
  it('allows the burst, then the sustained rate, per key', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 2, burst: 3 }, () => now);
    const allowed = (key: string) => {
      try {
        limiter.take(key);
        return true;
      } catch (error) {
        expect(error).toMatchObject({ code: 'RATE_LIMITED' });
        return false;
      }
    };
    expect([allowed('a'), allowed('a'), allowed('a'), allowed('a')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(allowed('b')).toBe(true);
    now = 499;
    expect(allowed('a')).toBe(false);
    now = 500; // one token back after half a second at 2/s
    expect(allowed('a')).toBe(true);
    expect(allowed('a')).toBe(false);
    now = 10_000; // refilled to the burst, never above it
    expect([allowed('a'), allowed('a'), allowed('a'), allowed('a')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });
});
