import { describe, expect, it } from '@jest/globals';

import { parseWeight, segmentsForWeights } from '../../src/k6/segments.js';

describe('segmentsForWeights', () => {
  it.each([
    [[1], ['0:1'], '0,1'],
    [[1, 1], ['0:1/2', '1/2:1'], '0,1/2,1'],
    [[1, 1, 1], ['0:1/3', '1/3:2/3', '2/3:1'], '0,1/3,2/3,1'],
    [[1, 2, 3], ['0:1/6', '1/6:1/2', '1/2:1'], '0,1/6,1/2,1'],
    [['0.5', '1.25', 2], ['0:2/15', '2/15:7/15', '7/15:1'], '0,2/15,7/15,1'],
  ])('weights %j → segments %j, sequence %s', (weights, segments, sequence) => {
    const result = segmentsForWeights(weights);
    expect(result.map((s) => s.segment)).toEqual(segments);
    expect(new Set(result.map((s) => s.sequence))).toEqual(new Set([sequence]));
  });

  it('tiles [0,1] exactly with contiguous segments, for any agent count up to 256', () => {
    for (let n = 1; n <= 256; n++) {
      const result = segmentsForWeights(Array.from({ length: n }, (_, i) => (i % 5) + 1));
      expect(result).toHaveLength(n);
      expect(result[0]?.segment.startsWith('0:')).toBe(true);
      expect(result.at(-1)?.segment.endsWith(':1')).toBe(true);
      for (let i = 1; i < n; i++) {
        expect(result[i]?.segment.split(':')[0]).toBe(result[i - 1]?.segment.split(':')[1]);
      }
      const shares = result.reduce((sum, s) => sum + s.share, 0);
      expect(shares).toBeCloseTo(1, 12);
    }
  });

  it('rejects bad weights with the fix', () => {
    expect(() => parseWeight('0')).toThrow(/must be greater than 0/);
    expect(() => parseWeight('-1')).toThrow(/invalid agent weight "-1": use a positive number/);
    expect(() => parseWeight('abc')).toThrow(/invalid agent weight "abc"/);
    expect(() => parseWeight('1e3')).toThrow(/invalid agent weight/);
    expect(() => segmentsForWeights([])).toThrow(/at least one agent/);
  });
});
