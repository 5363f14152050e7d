import { describe, expect, it } from '@jest/globals';

import { IntervalRecorder } from '../../src/metrics/intervals.js';
import { K6TimeReader } from '../../src/k6/json-time.js';
import { METRIC_LIMITS } from '../../src/protocol/messages.js';

const START = Date.UTC(2026, 11, 2, 17, 0, 0);

describe('K6TimeReader (issue 18.1: sample times without Date.parse per sample)', () => {
  it.each([
    ['2026-12-02T17:36:40.123456789Z', Date.UTC(2026, 11, 2, 17, 36, 40) + 123.456789],
    ['2026-12-02T17:36:40.1Z', Date.UTC(2026, 11, 2, 17, 36, 40) + 100],
    ['2026-12-02T17:36:40Z', Date.UTC(2026, 11, 2, 17, 36, 40)],
    ['2026-12-02T18:36:41.5+01:00', Date.UTC(2026, 11, 2, 17, 36, 41) + 500],
    ['2026-12-02T17:36:41.000001-00:30', Date.UTC(2026, 11, 2, 18, 6, 41) + 0.001],
  ])('reads %s as Date.parse would, to the microsecond', (time, expected) => {
    // One reader for all: each string changes the cached second or zone.
    expect(reader.ms(time)).toBeCloseTo(expected, 6);
    expect(Math.floor(reader.ms(time))).toBe(Date.parse(time));
  });
  const reader = new K6TimeReader();

  it('keeps up with a zone change within the same second', () => {
    const r = new K6TimeReader();
    expect(r.ms('2026-12-02T17:36:40.25Z')).toBe(Date.UTC(2026, 11, 2, 17, 36, 40) + 250);
    expect(r.ms('2026-12-02T17:36:40.25+02:00')).toBe(Date.UTC(2026, 11, 2, 15, 36, 40) + 250);
    expect(Number.isNaN(r.ms('not a time'))).toBe(true);
  });
});

describe('IntervalRecorder (issue 18.1)', () => {
  it('files JSON samples by their own time from the start instant, before it under the first', () => {
    const r = new IntervalRecorder();
    r.sample('http_reqs', START - 5_000, 1); // setup(), before the start is known
    r.setStart(START);
    r.sample('http_reqs', START + 999.9, 1);
    r.sample('http_req_failed', START + 999.9, 1);
    r.sample('http_req_duration', START + 999.9, 12);
    r.sample('http_reqs', START + 1_000, 1);
    r.sample('http_req_failed', START + 1_000, 0);
    r.sample('iterations', START + 2_500, 1);
    r.sample('vus', START + 2_100, 3);
    r.sample('vus', START + 2_050, 9); // older than the one before: not the last
    r.sample('data_sent', START + 100, 100);
    r.sample('data_received', START + 2_600, 700);
    r.sample('iteration_duration', START + 2_500, 210);

    const taken = r.take();

    expect(taken.map((c) => c.i)).toEqual([0, 1, 2]);
    expect(taken[0]).toMatchObject({ requests: 2, failed: 1, checked: 1, iterations: 0 });
    expect(taken[0]?.durations).toMatchObject({ count: 1, min: 12, max: 12 });
    expect(taken[1]).toMatchObject({ requests: 1, failed: 0, checked: 1 });
    expect(taken[2]).toMatchObject({ requests: 0, iterations: 1, vus: 3, received: 700 });
    // Issue 20.9: iteration_duration and bytes, for their charts.
    expect(taken[0]).toMatchObject({ sent: 100 });
    expect(taken[2]?.iterationDurations).toMatchObject({ count: 1, min: 210, max: 210 });
    expect(r.idle).toBe(true);
    expect(r.take()).toEqual([]);
  });

  it("names the delta's own durations `total` when one interval holds them all", () => {
    const r = new IntervalRecorder();
    r.setStart(START);
    r.sample('http_req_duration', START + 10, 3);
    r.sample('http_req_duration', START + 20, 4);
    expect(r.take(2)).toEqual([
      { i: 0, requests: 0, iterations: 0, failed: 0, checked: 0, durations: 'total' },
    ]);
    r.sample('http_req_duration', START + 10, 3);
    r.sample('http_req_duration', START + 1_010, 4);
    expect(r.take(2).map((c) => c.durations)).toEqual([
      expect.objectContaining({ count: 1 }),
      expect.objectContaining({ count: 1 }),
    ]);
  });

  it('names the iteration durations `total` too when one interval holds all of them', () => {
    const r = new IntervalRecorder();
    r.setStart(START);
    r.sample('iteration_duration', START + 10, 30);
    r.sample('iteration_duration', START + 20, 40);
    expect(r.take(0, 2)).toEqual([
      { i: 0, requests: 0, iterations: 0, failed: 0, checked: 0, iterationDurations: 'total' },
    ]);
    // Not all of the delta's (a sample of an earlier interval came late): sent as they are.
    r.sample('iteration_duration', START + 10, 30);
    expect(r.take(0, 2)[0]?.iterationDurations).toMatchObject({ count: 1 });
  });

  it("files k6's whole-second cloud buckets under the interval holding their middle", () => {
    const r = new IntervalRecorder();
    // The agent's clock runs 3 ms behind the coordinator's: its start instant is 3 ms early.
    r.setStart(START - 3);
    r.cloud('http_reqs', { type: 'counter', timeMs: START, value: 7 });
    r.cloud('http_reqs', { type: 'counter', timeMs: START + 1_000, value: 4 });
    r.cloud('http_reqs', { type: 'counter', timeMs: START, value: 1 }); // late samples add
    r.cloud('http_req_failed', { type: 'rate', timeMs: START + 1_000, nonzero: 1, total: 4 });
    r.cloud('vus', { type: 'gauge', timeMs: START + 1_000, last: 5, count: 1, min: 5, max: 5 });

    expect(r.take()).toEqual([
      { i: 0, requests: 8, iterations: 0, failed: 0, checked: 0 },
      { i: 1, requests: 4, iterations: 0, failed: 1, checked: 4, vus: 5 },
    ]);
  });

  it('folds the oldest intervals into the next while a delta could not go, keeping every count', () => {
    const r = new IntervalRecorder();
    r.setStart(START);
    const n = METRIC_LIMITS.maxIntervalsPerDelta + 5;
    for (let i = 0; i < n; i++) r.sample('http_reqs', START + i * 1_000 + 1, 1);
    r.sample('http_reqs', START + 1, 1); // later still, of the oldest interval

    const taken = r.take();

    expect(taken).toHaveLength(METRIC_LIMITS.maxIntervalsPerDelta);
    expect(taken.at(-1)?.i).toBe(n - 1);
    expect(taken.reduce((s, c) => s + c.requests, 0)).toBe(n + 1);
  });
});
