import { describe, expect, it } from '@jest/globals';

import { Histogram } from '../../src/metrics/histogram.js';
import {
  TimelineRecorder,
  timelineProblem,
  type TimelinePoint,
} from '../../src/metrics/timeline.js';
import type { IntervalContribution, MetricDelta } from '../../src/protocol/messages.js';

const T0 = 1_700_000_000_000;

/** One interval of one agent, as IntervalRecorder would send it. */
function interval(
  i: number,
  o: {
    requests: number;
    failed?: number;
    iterations?: number;
    durations?: number[];
    vus?: number;
    iterationDurations?: number[];
    received?: number;
    sent?: number;
  },
): IntervalContribution {
  const c: IntervalContribution = {
    i,
    requests: o.requests,
    iterations: o.iterations ?? 0,
    failed: o.failed ?? 0,
    checked: o.requests,
  };
  if (o.durations?.length) {
    const h = new Histogram();
    for (const d of o.durations) h.add(d);
    c.durations = h.toWire();
  }
  if (o.vus !== undefined) c.vus = o.vus;
  if (o.iterationDurations?.length) {
    const h = new Histogram();
    for (const d of o.iterationDurations) h.add(d);
    c.iterationDurations = h.toWire();
  }
  if (o.received !== undefined) c.received = o.received;
  if (o.sent !== undefined) c.sent = o.sent;
  return c;
}

/** A delta carrying only these intervals (TimelineRecorder reads nothing else of it). */
const of = (timeline: IntervalContribution[]): MetricDelta => ({
  metrics: [],
  groups: [],
  series: [],
  timeline,
});

const sum = (points: TimelinePoint[], f: (p: TimelinePoint, i: number) => number) =>
  points.reduce((s, p, i) => s + f(p, i), 0);

describe('TimelineRecorder', () => {
  it('issue 20.9: gives each merged interval the latency bands, iteration bands and bytes per second', () => {
    const t = new TimelineRecorder();
    t.start(T0);
    const durations = Array.from({ length: 100 }, (_, k) => k + 1); // 1 … 100 ms
    t.record(
      'a',
      of([
        interval(0, {
          requests: 50,
          durations: durations.slice(0, 50),
          received: 3_000,
          sent: 500,
        }),
      ]),
    );
    t.record(
      'b',
      of([
        interval(0, {
          requests: 50,
          durations: durations.slice(50),
          iterationDurations: [200, 400],
        }),
      ]),
    );
    t.record('a', of([interval(1, { requests: 1 })]));
    const { merged, agents } = t.snapshot(2_000);
    expect(merged[0]?.latency?.avg).toBeCloseTo(50.5, 9);
    expect(merged[0]?.latency?.p90).toBeCloseTo(90, 0);
    expect(merged[0]?.latency?.p95).toBe(merged[0]?.p95);
    expect(merged[0]?.latency?.p99).toBeCloseTo(99, 0);
    expect(merged[0]?.iterationDuration?.avg).toBeCloseTo(300, 9);
    expect(merged[0]).toMatchObject({ received: 3_000, sent: 500 });
    // An interval without samples has no bands and no bytes: a gap, not a 0 ms dip.
    expect(merged[1]?.latency).toBeUndefined();
    expect(merged[1]?.received).toBeUndefined();
    // Per agent only what the charts need.
    expect(agents.a?.[0]?.latency).toBeUndefined();
  });

  it('issue 18.1: files samples by the interval k6 stamped them in, whenever they arrive', () => {
    const t = new TimelineRecorder();
    t.start(T0);
    // a's delta holds the end of interval 0 and the start of 1; b's late push adds to 0.
    t.record(
      'a',
      of([
        interval(0, { requests: 10, failed: 1, iterations: 5, durations: [10, 20], vus: 2 }),
        interval(1, { requests: 20, iterations: 10, durations: [100] }),
      ]),
    );
    t.record(
      'b',
      of([interval(0, { requests: 30, iterations: 15, durations: [30, 40, 50], vus: 3 })]),
    );
    t.record('b', of([interval(0, { requests: 2 })]));

    const { intervalS, merged, agents } = t.snapshot(2_000);

    expect(intervalS).toBe(1);
    const all = new Histogram();
    for (const d of [10, 20, 30, 40, 50]) all.add(d);
    expect(merged[0]).toEqual({
      t: 1,
      rps: 42,
      vus: 5,
      p95: all.percentile(0.95),
      errorRate: 1 / 42,
      iterations: 20,
      latency: {
        avg: 30,
        p90: all.percentile(0.9),
        p95: all.percentile(0.95),
        p99: all.percentile(0.99),
      },
    });
    expect(merged[1]).toMatchObject({ t: 2, rps: 20, vus: 5, errorRate: 0, iterations: 10 });
    expect(agents.a?.map((p) => p.rps)).toEqual([10, 20]);
    expect(agents.b?.map((p) => p.rps)).toEqual([32, 0]);
    expect(agents.b?.[1]).toMatchObject({ vus: 3, p95: null, errorRate: null, iterations: 0 });
  });

  it('ends the last interval at the run end; a sliver under half an interval joins the one before', () => {
    const t = new TimelineRecorder();
    t.start(T0);
    t.record('a', of([interval(0, { requests: 100 }), interval(1, { requests: 100 })]));
    t.record('a', of([interval(2, { requests: 100 }), interval(3, { requests: 30 })]));

    const { merged } = t.snapshot(3_300);

    expect(merged.map((p) => p.t)).toEqual([1, 2, 3.3]);
    expect(merged.slice(0, 2).map((p) => p.rps)).toEqual([100, 100]);
    expect(merged[2]?.rps).toBeCloseTo(130 / 1.3, 9);
    // Without the run's end, the last interval is a whole one.
    expect(t.snapshot().merged.map((p) => p.t)).toEqual([1, 2, 3, 4]);
  });

  it('doubles its interval instead of growing past maxPoints, keeping every total', () => {
    const t = new TimelineRecorder({ maxPoints: 4 });
    t.start(T0);
    for (let i = 0; i < 10; i++) {
      t.record('a', of([interval(i, { requests: i + 1, iterations: 1, durations: [i + 1] })]));
    }

    const { intervalS, merged, agents } = t.snapshot(9_500);

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

  it("reads VUs at an interval's end off the next interval's sample (k6 samples once a second)", () => {
    const t = new TimelineRecorder();
    t.start(T0);
    t.record(
      'a',
      of([interval(0, { requests: 10, vus: 0 }), interval(1, { requests: 10, vus: 3 })]),
    );
    t.record(
      'a',
      of([interval(2, { requests: 10, vus: 3 }), interval(3, { requests: 10, vus: 1 })]),
    );

    expect(t.snapshot(4_000).merged.map((p) => p.vus)).toEqual([3, 3, 1, 1]);
  });

  it('summarises the last complete intervals, less the transport delay, for a progress line', () => {
    const t = new TimelineRecorder({ lagMs: 1_000 });
    expect(t.recent(5_000, T0)).toBeUndefined();
    t.start(T0);
    t.record('a', of([interval(0, { requests: 100, failed: 10, vus: 4, durations: [5] })]));
    t.record('b', of([interval(1, { requests: 300, vus: 6, durations: [7] })]));
    t.record('b', of([interval(2, { requests: 999 })])); // still filling at 3.6 s: not shown

    const recent = t.recent(2_000, T0 + 3_600);

    expect(recent).toMatchObject({ requestRate: 200, errorRate: 10 / 400, vus: 10 });
    expect(recent?.p95Ms).toBeGreaterThan(6.5);
    expect(recent?.p95Ms).toBeLessThanOrEqual(7);
  });
});

/** A delta whose totals are the sum of its intervals, as an honest agent sends. */
function honestDelta(intervals: IntervalContribution[]): MetricDelta {
  const h = new Histogram();
  for (const c of intervals) if (c.durations && c.durations !== 'total') h.mergeWire(c.durations);
  const total = (f: (c: IntervalContribution) => number) => intervals.reduce((s, c) => s + f(c), 0);
  const vus = intervals.flatMap((c) => (c.vus === undefined ? [] : [c.vus]));
  const series: MetricDelta['series'] = [
    { kind: 'total', metric: 'http_reqs', sink: { t: 'counter', sum: total((c) => c.requests) } },
    {
      kind: 'total',
      metric: 'iterations',
      sink: { t: 'counter', sum: total((c) => c.iterations) },
    },
    {
      kind: 'total',
      metric: 'http_req_failed',
      sink: { t: 'rate', trues: total((c) => c.failed), total: total((c) => c.checked) },
    },
    { kind: 'total', metric: 'http_req_duration', sink: { t: 'trend', h: h.toWire() } },
  ];
  const iterations = new Histogram();
  for (const c of intervals) {
    if (c.iterationDurations && c.iterationDurations !== 'total') {
      iterations.mergeWire(c.iterationDurations);
    }
  }
  if (!iterations.isEmpty()) {
    series.push({
      kind: 'total',
      metric: 'iteration_duration',
      sink: { t: 'trend', h: iterations.toWire() },
    });
  }
  for (const [metric, f] of [
    ['data_received', (c: IntervalContribution) => c.received ?? 0],
    ['data_sent', (c: IntervalContribution) => c.sent ?? 0],
  ] as const) {
    series.push({ kind: 'total', metric, sink: { t: 'counter', sum: total(f) } });
  }
  if (vus.length > 0) {
    const [min, max] = [Math.min(...vus), Math.max(...vus)];
    series.push({
      kind: 'total',
      metric: 'vus',
      sink: { t: 'gauge', value: vus.at(-1) ?? 0, time: 1, min, max },
    });
  }
  return { metrics: [], groups: [], series, timeline: intervals };
}

function at(delta: MetricDelta, index: number): IntervalContribution {
  const c = delta.timeline?.[index];
  if (!c) throw new Error(`the delta has no interval #${String(index)}`);
  return c;
}

describe('timelineProblem (issue 18.1: what an agent may say of its intervals)', () => {
  const honest = () =>
    honestDelta([
      interval(3, {
        requests: 10,
        failed: 2,
        iterations: 4,
        durations: [5, 9],
        vus: 2,
        iterationDurations: [20, 30],
        received: 4_000,
        sent: 900,
      }),
      interval(4, { requests: 6, iterations: 3, durations: [7], vus: 3, received: 1_000 }),
    ]);

  it("accepts an honest agent's intervals, and `total` for the delta's own durations once", () => {
    const one = honestDelta([interval(3, { requests: 2, durations: [5, 9] })]);
    at(one, 0).durations = 'total';
    expect(timelineProblem(one, 4)).toBeUndefined();
    one.timeline?.push({ ...(one.timeline[0] as IntervalContribution), i: 4 });
    expect(timelineProblem(one, 4)).toMatch(/4 http_reqs, its totals 2/);
    expect(timelineProblem(honest(), 4)).toBeUndefined();
    expect(timelineProblem({ ...honest(), timeline: undefined }, 0)).toBeUndefined();
  });

  it.each<[string, (d: MetricDelta) => void, RegExp]>([
    [
      'an interval later than the run has lasted',
      (d) => (at(d, 1).i = 99),
      /interval 99 is later than the run has lasted/,
    ],
    [
      'intervals out of order',
      (d) => (d.timeline as IntervalContribution[]).reverse(),
      /out of order or repeated/,
    ],
    [
      'more requests than its totals (inflating an interval)',
      (d) => (at(d, 0).requests = 1_000),
      /1006 http_reqs, its totals 16/,
    ],
    [
      'iterations beyond its totals',
      (d) => (at(d, 1).iterations += 1),
      /8 iterations, its totals 7/,
    ],
    [
      'failures beyond its totals',
      (d) => (at(d, 1).failed = 5),
      /7 http_req_failed failures, its totals 2/,
    ],
    [
      'more failures than requests in an interval',
      (d) => (at(d, 1).failed = 7),
      /more failures than requests/,
    ],
    [
      'durations outside its own samples',
      (d) => {
        const h = new Histogram();
        h.add(5_000);
        at(d, 1).durations = h.toWire();
      },
      /http_req_duration samples outside the delta's/,
    ],
    [
      'more VUs than its vus samples',
      (d) => (at(d, 1).vus = 500),
      /more VUs than the delta's vus samples/,
    ],
    [
      'iteration durations outside its own samples (issue 20.9)',
      (d) => {
        const h = new Histogram();
        h.add(90_000);
        at(d, 1).iterationDurations = h.toWire();
      },
      /iteration_duration samples outside the delta's/,
    ],
    [
      'more bytes received than its totals (issue 20.9)',
      (d) => (at(d, 1).received = 1e9),
      /1000004000 data_received bytes, its totals 5000/,
    ],
    [
      'bytes sent with none in its totals (issue 20.9)',
      (d) => (at(d, 1).sent = 10),
      /910 data_sent bytes, its totals 900/,
    ],
  ])('refuses %s', (_, tamper, message) => {
    const delta = honest();
    tamper(delta);
    expect(timelineProblem(delta, 4)).toMatch(message);
  });
});
