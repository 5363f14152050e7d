/**
 * The agent's aggregation of k6's JSON stream and the coordinator's merge:
 * what two agents report adds up to what one k6 would have measured, and a
 * delta that does not fit changes nothing.
 */
import { describe, expect, it } from '@jest/globals';

import { K6JsonOutput } from '../../src/k6/json-output.js';
import { MetricAggregator } from '../../src/metrics/aggregator.js';
import { tickAtMs, tickPhaseMs } from '../../src/metrics/instance-gauges.js';
import { MetricStore } from '../../src/metrics/store.js';
import { METRIC_LIMITS, type MetricsPlan } from '../../src/protocol/messages.js';

const PLAN: MetricsPlan = {
  intervalMs: 1000,
  parts: true,
  submetrics: [
    { key: 'http_req_duration{status:500}', metric: 'http_req_duration', tags: { status: '500' } },
  ],
};

const def = (name: string, type: string, contains = 'default') =>
  JSON.stringify({
    type: 'Metric',
    data: { name, type, contains, thresholds: [], submetrics: null },
    metric: name,
  });
const point = (
  metric: string,
  value: number,
  tags: Record<string, string>,
  time = '2026-11-23T10:00:00.000Z',
) => JSON.stringify({ metric, type: 'Point', data: { time, value, tags } });

function agentStream(
  aggregator: MetricAggregator,
  durations: number[],
  status: string,
): K6JsonOutput {
  const json = new K6JsonOutput(aggregator);
  json.ingestLine(def('http_req_duration', 'trend', 'time'));
  json.ingestLine(def('http_reqs', 'counter'));
  json.ingestLine(def('checks', 'rate'));
  for (const d of durations) {
    const tags = { status, scenario: 'default', group: '::api' };
    json.ingestLine(point('http_req_duration', d, tags));
    json.ingestLine(point('http_reqs', 1, tags));
    json.ingestLine(
      point('checks', d < 100 ? 1 : 0, { check: 'fast', group: '::api', scenario: 'default' }),
    );
  }
  return json;
}

describe('MetricAggregator → MetricStore', () => {
  it('merges two agents into the totals, submetrics, parts and checks one k6 would have', () => {
    const warnings: string[] = [];
    const a = new MetricAggregator(PLAN, (m) => warnings.push(m));
    const b = new MetricAggregator(PLAN, (m) => warnings.push(m));
    const aJson = agentStream(a, [10, 20, 30], '200');
    const bJson = agentStream(b, [40, 500], '500');
    const store = new MetricStore({ submetrics: PLAN.submetrics });
    store.apply('a', a.takeDelta());
    store.apply('b', b.takeDelta());

    expect(store.sink('http_reqs')?.values(2000, [])).toEqual({ count: 5, rate: 2.5 });
    expect(store.sink('http_req_duration')?.values(0, ['count', 'min', 'max', 'avg'])).toEqual({
      count: 5,
      min: 10,
      max: 500,
      avg: 120,
    });
    expect(store.sink('http_req_duration{status:500}')?.values(0, ['count', 'min'])).toEqual({
      count: 2,
      min: 40,
    });
    expect([...store.checks]).toEqual([
      { name: 'fast', group: '::api', scenario: 'default', passes: 4, fails: 1 },
    ]);
    const part = [...store.parts].find((p) => p.group === '::api');
    expect(part?.sinks.get('http_reqs')?.values(1000, [])).toEqual({ count: 5, rate: 5 });
    expect(store.groups).toEqual(['::api']);
    expect(store.agentTotals('b')).toEqual({ iterations: 0, httpReqs: 2, httpReqFailures: 0 });
    expect(warnings).toEqual([]);
    expect(aJson.malformed + bJson.malformed).toBe(0);
  });

  it('starts afresh after each delta, so consecutive deltas add up exactly', () => {
    const agg = new MetricAggregator(PLAN, () => undefined);
    const store = new MetricStore({ submetrics: [] });
    agentStream(agg, [1, 2], '200');
    store.apply('a', agg.takeDelta());
    expect(agg.idle).toBe(true);
    agentStream(agg, [3], '200');
    store.apply('a', agg.takeDelta());
    expect(store.sink('http_reqs')?.values(0, []).count).toBe(3);
  });

  it("issue 16.11: sums the agents' samples at the run's ticks, not k6's own samples at its own phase", () => {
    const start = Date.parse('2026-11-23T10:00:00.000Z');
    const at = (ms: number) => new Date(start + ms).toISOString();
    const store = new MetricStore({ submetrics: [] });
    store.startRun({ agentIds: ['a', 'b'], setupMs: 0 });
    for (const [agent, vus, phase] of [
      ['a', 4, 300],
      ['b', 6, 900],
    ] as const) {
      const agg = new MetricAggregator(PLAN, () => undefined);
      const aggJson = new K6JsonOutput(agg);
      aggJson.ingestLine(def('vus', 'gauge'));
      aggJson.ingestLine(def('vus_max', 'gauge'));
      // k6's own samples, once a second from its init: 0 VUs paused, then a phase of its own.
      aggJson.ingestLine(point('vus', 0, {}, at(phase - 1000)));
      aggJson.ingestLine(point('vus', 99, {}, at(phase)));
      aggJson.ingestLine(point('vus_max', 99, {}, at(phase)));
      // The agent's own samples of its k6 at the run's ticks.
      for (let n = 1; n <= 3; n++) {
        agg.addTick('vus', tickAtMs(n, 0), vus);
        agg.addTick('vus_max', tickAtMs(n, 0), vus);
      }
      store.apply(agent, agg.takeDelta());
    }

    store.settle(3_050, true);
    expect(store.sink('vus')?.values(0, [])).toEqual({ value: 10, min: 10, max: 10 });
    expect(store.sink('vus_max')?.values(0, [])).toEqual({ value: 10, min: 10, max: 10 });
  });

  it('issue 16.11: a run under a second has no vus/vus_max (agents sampled no tick), as in k6', () => {
    const start = Date.parse('2026-11-23T10:00:00.000Z');
    const store = new MetricStore({ submetrics: [] });
    store.startRun({ agentIds: ['a'], setupMs: 0 });
    const agg = new MetricAggregator(PLAN, () => undefined);
    const aggJson = new K6JsonOutput(agg);
    aggJson.ingestLine(def('vus', 'gauge'));
    aggJson.ingestLine(def('vus_max', 'gauge'));
    aggJson.ingestLine(point('vus', 3, {}, new Date(start + 500).toISOString()));
    store.apply('a', agg.takeDelta());
    store.settle(800, true);
    expect(store.sink('vus')).toBeUndefined();
    expect([...store.metrics.keys()]).not.toContain('vus_max');
  });

  it("issue 16.11: a vus sample taken before k6's stream defines vus is still accepted", () => {
    const store = new MetricStore({ submetrics: [] });
    store.startRun({ agentIds: ['a'], setupMs: 0 });
    const agg = new MetricAggregator(PLAN, () => undefined);
    const aggJson = new K6JsonOutput(agg);
    // The agent's sampler was faster than k6's first "Metric" line for vus.
    agg.addTick('vus', tickAtMs(1, 0), 2);
    expect(() => store.apply('a', agg.takeDelta())).not.toThrow();
    aggJson.ingestLine(def('vus', 'gauge'));
    agg.addTick('vus', tickAtMs(2, 0), 3);
    store.apply('a', agg.takeDelta());
    store.settle(2_500, true);
    expect(store.sink('vus')?.values(0, [])).toEqual({ value: 3, min: 2, max: 3 });
  });

  it('issue 16.11: a tick an agent sampled while its k6 ran counts although the measured run ends just before it', () => {
    const store = new MetricStore({ submetrics: [] });
    store.startRun({ agentIds: ['a', 'b'], setupMs: 0 });
    const send = (agent: string, over: boolean) => {
      const agg = new MetricAggregator(PLAN, () => undefined);
      const aggJson = new K6JsonOutput(agg);
      aggJson.ingestLine(def('vus', 'gauge'));
      agg.addTick('vus', tickAtMs(1, 0), 3);
      agg.addTick('vus', tickAtMs(2, 0), 3);
      agg.addTick('vus', tickAtMs(3, 0), over ? 0 : 1, over);
      store.apply(agent, agg.takeDelta());
    };
    // Ramping down: a's k6 still ran at the 2.99 s tick with 1 VU; b's had ended (0 VUs).
    send('a', false);
    send('b', true);
    // The run's end is known to a poll gap: measured at 2,984 ms, 6 ms before tick 3.
    store.settle(2_984, true);
    expect(store.sink('vus')?.values(0, [])).toEqual({ value: 1, min: 1, max: 6 });
  });

  it('issue 16.11: a tick at which every k6 had ended counts only if the measured run reaches it', () => {
    const store = new MetricStore({ submetrics: [] });
    store.startRun({ agentIds: ['a'], setupMs: 0 });
    const agg = new MetricAggregator(PLAN, () => undefined);
    const aggJson = new K6JsonOutput(agg);
    aggJson.ingestLine(def('vus', 'gauge'));
    agg.addTick('vus', tickAtMs(1, 0), 3);
    agg.addTick('vus', tickAtMs(2, 0), 0, true);
    store.apply('a', agg.takeDelta());
    store.settle(1_984, true);
    expect(store.sink('vus')?.values(0, [])).toEqual({ value: 3, min: 3, max: 3 });
    // A teardown() that ran past the tick: one k6 samples during teardown() too.
    store.settle(2_500, true);
    expect(store.sink('vus')?.values(0, [])).toEqual({ value: 0, min: 0, max: 3 });
  });

  it("issue 16.11: a ramp sums each agent's value at the same instant, not each one's latest", () => {
    const store = new MetricStore({ submetrics: [] });
    store.startRun({ agentIds: ['a', 'b'], setupMs: 0 });
    const ticks = (points: [number, number][]) => ({
      metrics: [{ name: 'vus', type: 'gauge' as const, contains: 'default' as const }],
      groups: [],
      series: [{ kind: 'ticks' as const, metric: 'vus', points }],
    });
    // b's deltas run a second ahead of a's: a plain "sum of latest values" would add 3 + 300.
    store.apply(
      'b',
      ticks([
        [900, 100],
        [1_900, 200],
        [2_900, 300],
      ]),
    );
    store.apply(
      'a',
      ticks([
        [500, 1],
        [1_500, 2],
        [2_500, 3],
        [3_500, 0],
      ]),
    );
    store.settle(3_200, true);
    expect(store.sink('vus')?.values(0, [])).toEqual({ value: 303, min: 101, max: 303 });
  });

  it('issue 16.11: counts setup() seconds with no active VU, as one k6 samples them', () => {
    const store = new MetricStore({ submetrics: [] });
    store.startRun({ agentIds: ['a'], setupMs: 1_500 });
    for (const metric of ['vus', 'vus_max']) {
      store.apply('a', {
        metrics: [{ name: metric, type: 'gauge', contains: 'default' }],
        groups: [],
        series: [
          {
            kind: 'ticks',
            metric,
            points: [
              [100, 5],
              [1_100, 5],
            ],
          },
        ],
      });
    }
    // Ticks at 1 s (in setup) and 2 s (0.5 s into the run) of a 2.2 s test run.
    store.settle(2_200, true);
    expect(store.sink('vus')?.values(0, [])).toEqual({ value: 5, min: 0, max: 5 });
    expect(store.sink('vus_max')?.values(0, [])).toEqual({ value: 5, min: 5, max: 5 });
  });

  it('issue 16.11: waits for every agent before summing a second, and settles the rest at the end', () => {
    const store = new MetricStore({ submetrics: [] });
    store.startRun({ agentIds: ['a', 'b'], setupMs: 0 });
    const send = (agent: string, points: [number, number][]) =>
      store.apply(agent, {
        metrics: [{ name: 'vus', type: 'gauge', contains: 'default' }],
        groups: [],
        series: [{ kind: 'ticks', metric: 'vus', points }],
      });
    send('a', [
      [500, 1],
      [1_500, 1],
      [2_500, 1],
    ]);
    store.settle(3_000, false);
    expect(store.sink('vus')).toBeUndefined();
    send('b', [
      [700, 2],
      [1_700, 2],
    ]);
    store.settle(3_000, false);
    expect(store.sink('vus')?.values(0, [])).toEqual({ value: 3, min: 3, max: 3 });
    // b is silent after 1.7 s (lost): at the end its last value stands.
    store.settle(3_000, true);
    expect(store.sink('vus')?.values(0, [])).toEqual({ value: 3, min: 3, max: 3 });
  });

  it("issue 16.11: ticks fall 10 ms before each second of the test run, setup() included, as one k6's do", () => {
    // One k6 starts its ticker before it initializes VUs and runs setup(): its ticks lead the run's seconds.
    expect(tickAtMs(1, 0)).toBe(990);
    expect(tickAtMs(3, 1_500.4)).toBe(1_490);
    // The agents' first sample after the start instant is at the same instants.
    expect(tickPhaseMs(0)).toBe(990);
    expect(tickPhaseMs(1_500.4)).toBe(490);
    expect((tickAtMs(3, 1_500.4) - tickPhaseMs(1_500.4)) % 1_000).toBe(0);
  });

  it('issue 16.11: a ramp-down counts the VUs left just before the last second, not a second-old sample', () => {
    const store = new MetricStore({ submetrics: [] });
    store.startRun({ agentIds: ['a', 'b'], setupMs: 0 });
    const send = (agent: string, points: [number, number][]) =>
      store.apply(agent, {
        metrics: [{ name: 'vus', type: 'gauge', contains: 'default' }],
        groups: [],
        series: [{ kind: 'ticks', metric: 'vus', points }],
      });
    // 2 VUs each up to 2 s, ramping to 0 by 3 s: at 2.99 s a has one left, b none.
    send('a', [
      [tickAtMs(1, 0), 2],
      [tickAtMs(2, 0), 2],
      [tickAtMs(3, 0), 1],
    ]);
    send('b', [
      [tickAtMs(1, 0), 2],
      [tickAtMs(2, 0), 2],
      [tickAtMs(3, 0), 0],
    ]);
    store.settle(3_002, true);
    expect(store.sink('vus')?.values(0, [])).toEqual({ value: 1, min: 1, max: 4 });
  });

  it("issue 16.11: the run's end, known before the agents' last deltas, does not fix the last second", () => {
    const store = new MetricStore({ submetrics: [] });
    store.startRun({ agentIds: ['a'], setupMs: 0 });
    const send = (points: [number, number][]) =>
      store.apply('a', {
        metrics: [{ name: 'vus', type: 'gauge', contains: 'default' }],
        groups: [],
        series: [{ kind: 'ticks', metric: 'vus', points }],
      });
    send([
      [tickAtMs(1, 0), 5],
      [tickAtMs(2, 0), 6],
    ]);
    // Thresholds are checked at the end while the delta with the 2.99 s sample is on its way.
    store.settle(3_005, true);
    expect(store.sink('vus')?.values(0, [])).toEqual({ value: 6, min: 5, max: 6 });
    send([[tickAtMs(3, 0), 1]]);
    store.settle(3_005, true);
    expect(store.sink('vus')?.values(0, [])).toEqual({ value: 1, min: 1, max: 6 });
  });

  it("issue 16.11: a run just under a second still has one k6's tick before its end", () => {
    const run = (points: [number, number][]) => {
      const store = new MetricStore({ submetrics: [] });
      store.startRun({ agentIds: ['a'], setupMs: 0 });
      store.apply('a', {
        metrics: [{ name: 'vus_max', type: 'gauge', contains: 'default' }],
        groups: [],
        series: [{ kind: 'ticks', metric: 'vus_max', points }],
      });
      return store;
    };
    const sampled = run([[tickAtMs(1, 0), 1]]);
    sampled.settle(995, true);
    expect(sampled.sink('vus_max')?.values(0, [])).toEqual({ value: 1, min: 1, max: 1 });
    // Ended 5 ms before the tick: the agent, sampling only while k6 runs, sent none.
    const ended = run([]);
    ended.settle(985, true);
    expect(ended.sink('vus_max')).toBeUndefined();
  });

  it('refuses ticks of any gauge but vus and vus_max', () => {
    const store = new MetricStore({ submetrics: [] });
    const delta = {
      metrics: [{ name: 'queue', type: 'gauge' as const, contains: 'default' as const }],
      groups: [],
      series: [{ kind: 'ticks' as const, metric: 'queue', points: [[0, 1]] as [number, number][] }],
    };
    expect(() => store.apply('a', delta)).toThrow(/vus and vus_max only, not queue/);
  });

  it('keeps a custom gauge as the last value by sample time, whichever agent reports first', () => {
    const store = new MetricStore({ submetrics: [] });
    const later = new MetricAggregator(PLAN, () => undefined);
    const laterJson = new K6JsonOutput(later);
    laterJson.ingestLine(def('queue', 'gauge'));
    laterJson.ingestLine(point('queue', 7, {}, '2026-11-23T10:00:05.000Z'));
    const earlier = new MetricAggregator(PLAN, () => undefined);
    const earlierJson = new K6JsonOutput(earlier);
    earlierJson.ingestLine(def('queue', 'gauge'));
    earlierJson.ingestLine(point('queue', 3, {}, '2026-11-23T10:00:01.000Z'));
    store.apply('a', later.takeDelta());
    store.apply('b', earlier.takeDelta());
    expect(store.sink('queue')?.values(0, [])).toEqual({ value: 7, min: 3, max: 7 });
  });

  it('rejects a delta whose metric type contradicts what is known, and changes nothing', () => {
    const store = new MetricStore({ submetrics: [] });
    const agg = new MetricAggregator(PLAN, () => undefined);
    agentStream(agg, [5], '200');
    store.apply('a', agg.takeDelta());
    const bad = {
      metrics: [{ name: 'http_reqs', type: 'trend' as const, contains: 'default' as const }],
      groups: [],
      series: [],
    };
    expect(() => store.apply('a', bad)).toThrow(/http_reqs is a counter, not a trend/);
    const mismatched = {
      metrics: [],
      groups: ['::new'],
      series: [
        { kind: 'total' as const, metric: 'http_reqs', sink: { t: 'counter' as const, sum: 1 } },
        {
          kind: 'total' as const,
          metric: 'http_req_duration',
          sink: { t: 'counter' as const, sum: 1 },
        },
      ],
    };
    expect(() => store.apply('a', mismatched)).toThrow(/http_req_duration is a trend/);
    expect(store.sink('http_reqs')?.values(0, []).count).toBe(1);
    expect(store.groups).toEqual(['::api']);
    expect(() =>
      store.apply('a', {
        metrics: [],
        groups: [],
        series: [{ kind: 'sub', key: 'x{y:z}', sink: { t: 'counter', sum: 1 } }],
      }),
    ).toThrow(/unknown submetric/);
  });

  it('counts lines that are not k6 JSON without failing', () => {
    const agg = new MetricAggregator(PLAN, () => undefined);
    const aggJson = new K6JsonOutput(agg);
    aggJson.ingestLine('not json');
    aggJson.ingestLine(point('never_defined', 1, {}));
    aggJson.ingestLine('');
    expect(aggJson.malformed).toBe(2);
    expect(agg.samples).toBe(0);
  });

  it('bounds the checks it splits out and warns once when a name explodes', () => {
    const warnings: string[] = [];
    const agg = new MetricAggregator({ ...PLAN, parts: false }, (m) => warnings.push(m));
    const aggJson = new K6JsonOutput(agg);
    aggJson.ingestLine(def('checks', 'rate'));
    for (let i = 0; i < 1_100; i++)
      aggJson.ingestLine(point('checks', 1, { check: `id-${String(i)}` }));
    const delta = agg.takeDelta();
    expect(delta.series.filter((s) => s.kind === 'check')).toHaveLength(1_000);
    const total = delta.series.find((s) => s.kind === 'total' && s.metric === 'checks');
    expect(total && 'sink' in total ? total.sink : undefined).toMatchObject({
      t: 'rate',
      trues: 1_100,
      total: 1_100,
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/more than 1000 distinct checks; the totals stay exact/);
  });
});

describe('issue 20.9: parts of groups only, for the HTML report in any summary mode', () => {
  it("splits out the report's metrics taken inside a group, by scenario and group, and nothing else", () => {
    const agg = new MetricAggregator({ ...PLAN, parts: 'groups' }, () => undefined);
    const json = new K6JsonOutput(agg);
    json.ingestLine(def('http_reqs', 'counter'));
    json.ingestLine(point('http_reqs', 1, { scenario: 'shop', group: '' }));
    json.ingestLine(point('http_reqs', 1, { scenario: 'shop', group: '::browse' }));
    json.ingestLine(point('http_reqs', 1, { scenario: 'shop', group: '::browse::item' }));
    json.ingestLine(point('http_reqs', 1, { scenario: 'shop', group: '::browse::item' }));
    json.ingestLine(point('http_reqs', 1, { scenario: 'api', group: '::browse' }));
    // Not in the report's groups table: not split (it would double the deltas).
    json.ingestLine(def('data_sent', 'counter', 'data'));
    json.ingestLine(point('data_sent', 100, { scenario: 'shop', group: '::browse' }));
    const parts = agg
      .takeDelta()
      .series.flatMap((s) =>
        s.kind === 'part' && s.sink.t === 'counter'
          ? [[s.metric, s.scenario, s.group, s.sink.sum]]
          : [],
      );
    expect(parts).toEqual([
      ['http_reqs', 'shop', '::browse', 1],
      ['http_reqs', 'shop', '::browse::item', 2],
      ['http_reqs', 'api', '::browse', 1],
    ]);
  });
});

describe('issue 16.5: metric definitions learnt from k6 and from agents', () => {
  const counter = (name: string) => ({
    name,
    type: 'counter' as const,
    contains: 'default' as const,
  });
  const delta = (names: readonly string[]) => ({
    metrics: names.map(counter),
    groups: [],
    series: names.map((metric) => ({
      kind: 'total' as const,
      metric,
      sink: { t: 'counter' as const, sum: 1 },
    })),
  });

  it("knows the thresholds' custom metrics before any sample; an agent must agree with them", () => {
    const store = new MetricStore({
      submetrics: [],
      metrics: [{ name: 'payload_time', type: 'trend', contains: 'time' }],
    });
    expect(store.info('payload_time')).toEqual({
      name: 'payload_time',
      type: 'trend',
      contains: 'time',
    });
    expect(() => store.apply('a', delta(['payload_time']))).toThrow(
      /payload_time is a trend, not a counter/,
    );
    expect(store.sink('payload_time')).toBeUndefined();
  });

  it(`issue 17.4: an agent past ${METRIC_LIMITS.maxMetrics} distinct metrics loses its further ones, not the others'`, () => {
    const store = new MetricStore({ submetrics: [] });
    const batch = (prefix: string, from: number, n: number) =>
      Array.from({ length: n }, (_, i) => `${prefix}_${String(from + i)}`);
    expect(store.apply('a', delta(batch('m', 0, METRIC_LIMITS.maxMetrics - 1)))).toEqual([]);
    expect(store.apply('a', delta(['m_0', 'x_1', 'x_2']))).toEqual([
      { limit: 'metrics', max: METRIC_LIMITS.maxMetrics },
    ]);
    // Within the delta: m_0 (known) and x_1 (the last one allowed) count, x_2 does not.
    expect(store.sink('m_0')?.values(0, [])).toMatchObject({ count: 2 });
    expect(store.sink('x_1')?.values(0, [])).toMatchObject({ count: 1 });
    expect(store.info('x_2')).toBeUndefined();
    // Said once: the next delta past the limit reports nothing new.
    expect(store.apply('a', delta(['x_3']))).toEqual([]);
    expect(store.info('x_3')).toBeUndefined();
    // Another agent's own metrics, and the ones it shares, still count.
    expect(store.apply('b', delta(['x_2', 'm_0']))).toEqual([]);
    expect(store.sink('x_2')?.values(0, [])).toMatchObject({ count: 1 });
    expect(store.sink('m_0')?.values(0, [])).toMatchObject({ count: 3 });
  });
});

describe('issue 17.4: cumulative per-agent limits at the coordinator', () => {
  const checkDelta = (names: readonly string[], group = '') => ({
    metrics: [{ name: 'checks', type: 'rate' as const, contains: 'default' as const }],
    groups: group === '' ? [] : [group],
    series: [
      {
        kind: 'total' as const,
        metric: 'checks',
        sink: { t: 'rate' as const, trues: names.length, total: names.length },
      },
      ...names.map((name) => ({
        kind: 'check' as const,
        name,
        group,
        scenario: 'default',
        passes: 1,
        fails: 0,
      })),
    ],
  });
  const names = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => `${prefix} ${String(i)}`);

  it('keeps at most maxChecks distinct checks per agent over all its deltas; the totals stay exact', () => {
    const store = new MetricStore({ submetrics: [] });
    const max = METRIC_LIMITS.maxChecks;
    expect(store.apply('evil', checkDelta(names('a', max - 10)))).toEqual([]);
    expect(store.apply('evil', checkDelta(names('b', 50)))).toEqual([{ limit: 'checks', max }]);
    expect(store.apply('evil', checkDelta(names('c', 50)))).toEqual([]);
    // Checks it already has keep counting after the limit.
    store.apply('evil', checkDelta(['a 0']));
    expect([...store.checks]).toHaveLength(max);
    expect([...store.checks].find((c) => c.name === 'a 0')?.passes).toBe(2);
    expect(store.sink('checks')?.values(0, [])).toMatchObject({ passes: max - 10 + 100 + 1 });
    // An honest agent's own checks, new or shared, still count in full.
    expect(store.apply('honest', checkDelta(['a 0', 'status is 200']))).toEqual([]);
    expect([...store.checks].find((c) => c.name === 'status is 200')?.passes).toBe(1);
    expect([...store.checks].find((c) => c.name === 'a 0')?.passes).toBe(3);
  });

  it('bounds the merged series one agent feeds (metrics × parts) at maxSeriesPerDelta', () => {
    const store = new MetricStore({ submetrics: [] });
    const metrics = Array.from({ length: 60 }, (_, i) => `m_${String(i)}`);
    const delta = {
      metrics: metrics.map((name) => ({
        name,
        type: 'counter' as const,
        contains: 'default' as const,
      })),
      groups: [],
      series: Array.from({ length: METRIC_LIMITS.maxParts }, (_, g) =>
        metrics.map((metric) => ({
          kind: 'part' as const,
          metric,
          scenario: 'default',
          group: `::g${String(g)}`,
          sink: { t: 'counter' as const, sum: 1 },
        })),
      ).flat(),
    };
    expect(store.apply('evil', delta)).toEqual([
      { limit: 'series', max: METRIC_LIMITS.maxSeriesPerDelta },
    ]);
    const kept = [...store.parts].reduce((n, p) => n + p.sinks.size, 0);
    expect(kept).toBe(METRIC_LIMITS.maxSeriesPerDelta);
  });

  it('bounds groups, parts and series per agent the same way', () => {
    const store = new MetricStore({ submetrics: [] });
    const max = METRIC_LIMITS.maxParts;
    const partDelta = (groups: readonly string[]) => ({
      metrics: [{ name: 'iterations', type: 'counter' as const, contains: 'default' as const }],
      groups: [...groups],
      series: groups.map((group) => ({
        kind: 'part' as const,
        metric: 'iterations',
        scenario: 'default',
        group,
        sink: { t: 'counter' as const, sum: 1 },
      })),
    });
    const groups = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => `::${prefix}${String(i)}`);
    expect(store.apply('evil', partDelta(groups('g', max + 5)))).toEqual([
      { limit: 'groups', max },
      { limit: 'parts', max },
    ]);
    expect(store.groups).toHaveLength(max);
    expect([...store.parts]).toHaveLength(max);
    expect(store.apply('honest', partDelta(['::api']))).toEqual([]);
    expect(store.groups).toContain('::api');
    expect([...store.parts].some((p) => p.group === '::api')).toBe(true);
  });
});
