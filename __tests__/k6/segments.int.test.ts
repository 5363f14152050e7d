/**
 * The segment split on the real k6: the same script run standalone and as
 * three k6 processes with the computed segments (no coordinator yet) hits the
 * target with the same number of iterations, with unique VU ids and
 * iteration numbers across processes.
 */
import { describe, expect, it } from '@jest/globals';

import { segmentsForWeights } from '../../src/k6/segments.js';
import { runExecutors } from '../helpers/k6.js';
import type { RecordedRequest } from '../helpers/target-server.js';

/** The VUs each scenario of the fixture has. */
const MAX_VUS: Record<string, number> = { shared: 3, arrival: 6 };

/** What the fixture's scenarios must run in total (see fixtures/scripts/executors.js). */
const EXPECTED_ITERATIONS: Record<string, number> = { shared: 10, perVu: 10, arrival: 11 };

const ids = (requests: RecordedRequest[], key: string) =>
  requests.map((r) => Number(r.query.get(key))).sort((a, b) => a - b);

function segmentFlags(weights: number[]): string[][] {
  return segmentsForWeights(weights).map((s) => [
    '--execution-segment',
    s.segment,
    '--execution-segment-sequence',
    s.sequence,
  ]);
}

describe('execution segments from agent weights (real k6, three processes)', () => {
  it.each([
    ['shared', [1, 1, 1]],
    ['shared', [1, 2, 3]],
    ['perVu', [1, 1, 1]],
    ['perVu', [3, 1, 1]],
    ['arrival', [1, 1, 1]],
  ])('%s with weights %j: same totals and ids as standalone k6', async (scenario, weights) => {
    const [standalone, split] = await Promise.all([
      runExecutors(scenario, [[]]),
      runExecutors(scenario, segmentFlags(weights)),
    ]);

    expect(split).toHaveLength(standalone.length);
    expect(standalone).toHaveLength(EXPECTED_ITERATIONS[scenario] ?? -1);
    if (scenario === 'perVu') {
      // Every VU runs its own iterations: the same VUs must show up.
      expect(new Set(ids(split, 'vu'))).toEqual(new Set(ids(standalone, 'vu')));
    } else {
      // Which VU picks up an iteration is a race even in one k6 (a VU may get
      // none), so the VU ids only have to stay within the test's VUs; the
      // iteration numbers, unique across the whole test, must match exactly.
      for (const vu of ids(split, 'vu')) {
        expect(vu).toBeGreaterThanOrEqual(1);
        expect(vu).toBeLessThanOrEqual(MAX_VUS[scenario] ?? 0);
      }
      expect(ids(split, 'it')).toEqual(ids(standalone, 'it'));
    }
  });
});
