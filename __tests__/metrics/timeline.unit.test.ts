import { describe, expect, it } from '@jest/globals';

import { Histogram } from '../../src/metrics/histogram.js';
import { TimelineRecorder, type TimelinePoint } from '../../src/metrics/timeline.js';
import type { MetricDelta } from '../../src/protocol/messages.js';

const T0 = 1_700_000_000_000;

/** One agent's one-second delta, as MetricAggregator would send it. */
function delta(o: {
  requests: number;
  failed?: number;
  iterations?: number;
  durations?: number[];
  vus?: number;
}): MetricDelta {
  const h = new Histogram();
  for (const d of o.durations ?? []) h.add(d);
  const series: MetricDelta['series'] = [
    { kind: 'total', metric: 'http_reqs', sink: { t: 'counter', sum: o.requests } },
    { kind: 'total', metric: 'iterations', sink: { t: 'counter', sum: o.iterations ?? 0 } },
    {
      kind: 'total',
      metric: 'http_req_failed',
      sink: { t: 'rate', trues: o.failed ?? 0, total: o.requests },
    },
    { kind: 'total', metric: 'http_req_duration', sink: { t: 'trend', h: h.toWire() } },
  ];
  if (o.vus !== undefined) {
    series.push({
      kind: 'total',
      metric: 'vus',
      sink: { t: 'gauge', value: o.vus, time: 0, min: o.vus, max: o.vus },
    });
  }
  return { metrics: [], groups: [], series };
}

const sum = (points: TimelinePoint[], f: (p: TimelinePoint, i: number) => number) =>
  points.reduce((s, p, i) => s + f(p, i), 0);

describe('TimelineRecorder', () => {
  it('files deltas by arrival under one-second intervals, merged and per agent', () => {
    // Requests are spread over the time a delta covers: a's second delta covers 0.9-1.9 s.
    const t = new TimelineRecorder();
    t.start(T0);
    t.record(
      'a',
      delta({ requests: 10, failed: 1, iterations: 5, durations: [10, 20], vus: 2 }),
      T0 + 900,
    );
    t.record(
      'b',
      delta({ requests: 30, iterations: 15, durations: [30, 40, 50], vus: 3 }),
      T0 + 950,
    );
    t.record('a', delta({ requests: 20, iterations: 10, durations: [100] }), T0 + 1_900);

    const { intervalS, merged, agents } = t.snapshot();

    expect(intervalS).toBe(1);
    expect(merged).toHaveLength(2);
    const all = new Histogram();
    for (const d of [10, 20, 30, 40, 50]) all.add(d);
    expect(merged[0]).toEqual({
      t: 1,
      rps: 10 + 30 + 2,
      vus: 5,
      p95: all.percentile(0.95),
      errorRate: 1 / 40,
      iterations: 20,
    });
    // b sent nothing in the second interval: its VUs carry over, a's too. The
    // series ends at the last arrival: the last interval lasted 0.9 s.
    expect(merged[1]).toMatchObject({ t: 1.9, vus: 5, errorRate: 0, iterations: 10 });
    expect(merged[1]?.rps).toBeCloseTo(18 / 0.9, 9);
    expect(agents.a?.map((p) => p.rps)).toEqual([12, merged[1]?.rps]);
    expect(agents.b?.map((p) => p.rps)).toEqual([30, 0]);
    expect(agents.b?.[1]).toMatchObject({ vus: 3, p95: null, errorRate: null, iterations: 0 });
  });

  it('ignores deltas before the start instant and files early arrivals under the first interval', () => {
    const t = new TimelineRecorder();
    t.record('a', delta({ requests: 99 }), T0 - 5_000);
    t.start(T0);
    t.record('a', delta({ requests: 7 }), T0 - 10);

    expect(t.snapshot().merged.map((p) => p.rps)).toEqual([7]);
  });

  it('doubles its interval instead of growing past maxPoints, keeping every total', () => {
    const t = new TimelineRecorder({ maxPoints: 4 });
    t.start(T0);
    for (let i = 0; i < 10; i++) {
      t.record(
        'a',
        delta({ requests: i + 1, iterations: 1, durations: [i + 1] }),
        T0 + i * 1000 + 500,
      );
    }

    const { intervalS, merged, agents } = t.snapshot();

    expect(intervalS).toBe(4);
    expect(merged.length).toBeLessThanOrEqual(4);
    // Every request is in the chart: rate times how long each interval lasted.
    expect(sum(merged, (p, i) => p.rps * (p.t - (merged[i - 1]?.t ?? 0)))).toBeCloseTo(55, 9);
    expect(sum(merged, (p) => p.iterations)).toBe(10);
    expect(sum(agents.a ?? [], (p) => p.iterations)).toBe(10);
    // The last 1.5 s (under half an interval) joined the interval before.
    expect(merged.map((p) => p.t)).toEqual([4, 9.5]);
    // The merged p(95) of 5..10 comes from their merged histogram.
    const h = new Histogram();
    for (const d of [5, 6, 7, 8, 9, 10]) h.add(d);
    expect(merged[1]?.p95).toBe(h.percentile(0.95));
  });

  it('reads an agent steady across deltas that straddle interval edges; a sliver joins the last interval', () => {
    const t = new TimelineRecorder();
    t.start(T0);
    // 100 req/s, deltas about every second arriving on either side of the edges (filed by
    // arrival alone they would read 0, 199, 0, 200, 31 requests), then a last one at 4.3 s.
    const deltas: Array<[number, number]> = [
      [1_020, 102],
      [1_990, 97],
      [3_010, 102],
      [3_990, 98],
      [4_300, 31],
    ];
    for (const [at, requests] of deltas) {
      t.record('a', delta({ requests, vus: at === 4_300 ? 1 : undefined }), T0 + at);
    }

    const { merged } = t.snapshot();

    expect(merged.map((p) => p.t)).toEqual([1, 2, 3, 4.3]);
    for (const p of merged) expect(p.rps).toBeCloseTo(100, 9);
    expect(sum(merged, (p) => p.iterations)).toBe(0);
    // The first vus sample stands for the intervals before it.
    expect(merged.map((p) => p.vus)).toEqual([1, 1, 1, 1]);
  });

  it('spreads a delta after an idle spell over two send intervals at most', () => {
    const t = new TimelineRecorder({ maxSpanMs: 2_000 });
    t.start(T0);
    // Nothing for 5 s (agents send no empty delta), then a burst.
    t.record('a', delta({ requests: 60 }), T0 + 6_000);

    expect(t.snapshot().merged.map((p) => p.rps)).toEqual([0, 0, 0, 0, 30, 30]);
  });

  it("reads VUs at an interval's end off the next interval's sample (k6 samples once a second)", () => {
    const t = new TimelineRecorder();
    t.start(T0);
    // k6's sample at 0 s (no VU started yet) arrives before 1 s, its 1 s sample before 2 s.
    t.record('a', delta({ requests: 10, vus: 0 }), T0 + 990);
    t.record('a', delta({ requests: 10, vus: 3 }), T0 + 1_990);
    t.record('a', delta({ requests: 10, vus: 3 }), T0 + 2_990);
    t.record('a', delta({ requests: 10, vus: 1 }), T0 + 3_990);

    expect(t.snapshot().merged.map((p) => p.vus)).toEqual([3, 3, 1, 1]);
  });

  it('summarises the last completed intervals for a progress line', () => {
    const t = new TimelineRecorder();
    expect(t.recent(5_000, T0)).toBeUndefined();
    t.start(T0);
    t.record('a', delta({ requests: 100, failed: 10, vus: 4, durations: [5] }), T0 + 500);
    t.record('b', delta({ requests: 300, vus: 6, durations: [7] }), T0 + 1_500);
    t.record('b', delta({ requests: 999 }), T0 + 2_500); // the current, incomplete interval

    const recent = t.recent(2_000, T0 + 2_600);

    expect(recent).toMatchObject({ rps: 200, errorRate: 10 / 400, vus: 10 });
    expect(recent?.p95).toBeGreaterThan(6.5);
    expect(recent?.p95).toBeLessThanOrEqual(7);
  });
});
