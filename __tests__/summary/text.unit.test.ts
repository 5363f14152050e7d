import { describe, expect, it } from '@jest/globals';

import type { MetricType, ValueType } from '../../src/metrics/types.js';
import type { SeriesView, SummarySource } from '../../src/summary/source.js';
import { renderTextSummary } from '../../src/summary/text.js';
import { captureNames, loadCapture, sourceOf } from './captures.js';
import { FakeSink } from './fake-sink.js';

describe('renderTextSummary on captured k6 v2.2.0 runs', () => {
  const names = captureNames();

  it('has the captures of compact, full, custom stats and color runs', () => {
    expect(names).toEqual([
      'basic-color',
      'basic-compact',
      'basic-full',
      'basic-stats',
      'scenarios-compact',
      'scenarios-full',
      'scenarios-full-color',
      'scenarios-full-stats',
    ]);
  });

  it.each(names)('prints what k6 printed for %s, byte for byte', (name) => {
    const capture = loadCapture(name);
    expect(capture.stdout.replaceAll('\x1b[1m', '')).toContain('█ TOTAL RESULTS');
    const source = sourceOf(capture);
    expect(renderTextSummary(source, { mode: capture.mode })).toBe(capture.stdout);
    expect(
      renderTextSummary(source, { mode: capture.mode, enableColors: capture.enableColors }),
    ).toBe(capture.stdout);
  });

  it.each(names)(
    '%s: its samples give exactly k6 totals, so they give k6 per-group values',
    (name) => {
      // The full summary's groups and scenarios come from the samples: check
      // on the totals that FakeSink.fromSamples computes as k6's sinks do.
      const { data, samples } = loadCapture(name);
      let compared = 0;
      for (const [key, metric] of Object.entries(data.metrics)) {
        if (key.includes('{')) continue;
        const values = samples.filter((s) => s.metric === key).map((s) => s.value);
        const sink = FakeSink.fromSamples(metric.type as MetricType, values);
        expect(sink.values(data.state.testRunDurationMs, data.options.summaryTrendStats)).toEqual(
          metric.values,
        );
        compared++;
      }
      expect(compared).toBeGreaterThan(10);
    },
  );

  it('without scenario totals shows a scenario block from its samples outside groups', () => {
    const source = sourceOf(loadCapture('scenarios-full'));
    const text = renderTextSummary({ ...source, scenarioTotals: undefined }, { mode: 'full' });
    const api = text.split('\n  █ ').find((s) => s.startsWith('SCENARIO: api'));
    const [own = '', v1 = ''] = (api ?? '').split('↳ GROUP: v1');
    expect(own).toContain('iterations....');
    expect(own).not.toContain('http_reqs');
    expect(v1).toContain('http_reqs....');
    expect(text).not.toBe(renderTextSummary(source, { mode: 'full' }));
  });
});

function series(type: MetricType, contains: ValueType, values: Record<string, number>): SeriesView {
  return { type, contains, sink: FakeSink.of(type, values) };
}

const trend = (avg: number, min: number, med: number, max: number, p90: number, p95: number) => ({
  avg,
  min,
  med,
  max,
  'p(90)': p90,
  'p(95)': p95,
});

function handBuilt(overrides: Partial<SummarySource> = {}): SummarySource {
  return {
    durationMs: 2000,
    metrics: new Map([
      ['vus', series('gauge', 'default', { value: 3, min: 1, max: 10 })],
      ['ws_sessions', series('counter', 'default', { count: 4, rate: 2 })],
      [
        'grpc_req_duration',
        series('trend', 'time', trend(3723000, 0.0005, 61000, 1500, 0.25, 999.999)),
      ],
      ['browser_web_vital_lcp', series('trend', 'time', trend(1, 1, 1, 1, 1, 1))],
      ['browser_data_received', series('counter', 'data', { count: 123456789, rate: 61728394.5 })],
      ['temperature', series('gauge', 'time', { value: -5, min: -5, max: 2 })],
      ['checks', series('rate', 'default', { rate: 0.5, passes: 1, fails: 1 })],
      ['group_duration', series('trend', 'time', trend(1, 1, 1, 1, 1, 1))],
      [
        'http_req_duration',
        series('trend', 'time', { ...trend(10, 1, 9, 30, 20, 25), 'p(99)': 29 }),
      ],
      ['http_req_waiting', series('trend', 'time', trend(8, 1, 7, 28, 18, 23))],
    ]),
    submetrics: new Map([
      [
        'http_req_duration{status:200}',
        {
          ...series('trend', 'time', { ...trend(9, 1, 8, 20, 15, 18), 'p(99)': 19.5 }),
          parent: 'http_req_duration',
        },
      ],
    ]),
    thresholds: new Map([
      [
        'http_req_duration',
        [
          { source: 'avg<100', ok: true },
          { source: 'count>1', ok: false },
        ],
      ],
      ['http_req_duration{status:200}', [{ source: ' p(99) < 500 ', ok: true }]],
      ['http_req_duration{status:500}', [{ source: 'max<1', ok: true }]],
      [
        'ws_sessions',
        [
          { source: 'rate>1', ok: true },
          { source: 'count>10', ok: false },
        ],
      ],
    ]),
    checks: [
      { name: 'a', group: '', scenario: 'default', passes: 1, fails: 0 },
      { name: 'b', group: '::g', scenario: 'default', passes: 0, fails: 1 },
    ],
    groups: ['::g'],
    parts: [],
    options: {
      summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'],
      summaryTimeUnit: '',
      noColor: false,
    },
    state: { isStdOutTTY: false, isStdErrTTY: false },
    ...overrides,
  };
}

describe('renderTextSummary on hand-built sources', () => {
  it('files metrics into k6 sections, custom first, and formats every kind of value', () => {
    const text = renderTextSummary(handBuilt(), { mode: 'compact' });
    expect(text).toMatchSnapshot();
    const sections = text.split('\n').filter((l) => /^ {4}[A-Z_]+$/.test(l));
    expect(sections.map((l) => l.trim())).toEqual([
      'CUSTOM',
      'HTTP',
      'EXECUTION',
      'BROWSER',
      'WEB_VITALS',
      'GRPC',
      'WEBSOCKET',
    ]);
    // One name column for the block: the longest name gets three dots.
    expect(text).toContain(
      'grpc_req_duration.......: avg=1h2m3s min=500ns med=1m1s max=1.5s p(90)=250µs p(95)=999.99ms\n',
    );
    // 123.5 MB rounds up, as JavaScript's toFixed does.
    expect(text).toContain('browser_data_received...: 124 MB     62 MB/s\n');
    expect(text).toContain('temperature.............: -5000000ns min=-5000000ns max=2ms\n');
    // A trend threshold on a stat the summary lacks shows no value, as in k6.
    expect(text).toContain("    ✗ 'count>1' count=\n");
    // A submetric threshold without samples shows zeros.
    expect(text).toContain("      ✓ 'max<1' max=0s\n");
    expect(text).not.toContain('http_req_waiting');
    expect(text).not.toContain('group_duration');
  });

  it('colors like k6 and writes a missing threshold value as undefined then', () => {
    const text = renderTextSummary(handBuilt(), { mode: 'compact', enableColors: true });
    expect(text).toMatchSnapshot();
    expect(text).toContain(
      "\x1b[31m✗\x1b[0m \x1b[37m'count>1'\x1b[0m \x1b[37mcount\x1b[0m=\x1b[36mundefined\x1b[0m",
    );
    expect(
      renderTextSummary(handBuilt({ state: { isStdOutTTY: true, isStdErrTTY: false } }), {
        mode: 'compact',
      }),
    ).toBe(text);
  });

  it('lists groups as a JavaScript object would, and leaves dots out with one metric only', () => {
    const iterations = series('counter', 'default', { count: 5, rate: 2.5 });
    const only = new Map([['iterations', iterations]]);
    const part = (scenario: string, group: string) => ({ scenario, group, metrics: only });
    const text = renderTextSummary(
      handBuilt({
        metrics: only,
        submetrics: new Map(),
        thresholds: new Map(),
        checks: [],
        parts: [
          part('default', '::b'),
          part('default', '::10'),
          part('', '::setup'),
          part('', '::teardown::x'),
          part('default', '::a'),
          part('default', '::2'),
          part('default', '::b::1'),
        ],
      }),
      { mode: 'full' },
    );
    expect(text).toMatchSnapshot();
    const titles = text.split('\n').filter((l) => l.includes('GROUP'));
    expect(titles.map((l) => l.trim())).toEqual([
      '█ GROUP: 2',
      '█ GROUP: 10',
      '█ GROUP: b',
      '↳ GROUP: 1',
      '█ GROUP: teardown',
      '↳ GROUP: x',
      '█ GROUP: a',
    ]);
    expect(text).toContain('    iterations: 5 2.5/s\n');
  });

  it.each(['compact', 'full'] as const)(
    'issue 16 (init error): no metric at all prints nothing, as k6 shows no summary (%s)',
    (mode) => {
      const empty = handBuilt({
        metrics: new Map(),
        submetrics: new Map(),
        thresholds: new Map(),
        checks: [],
      });
      // k6's summary.js throws on a reduce() of no names and k6 prints no summary.
      expect(renderTextSummary(empty, { mode })).toBe('');
      const oneMetric = handBuilt({
        metrics: new Map([['vus', series('gauge', 'default', { value: 1, min: 1, max: 1 })]]),
        submetrics: new Map(),
        thresholds: new Map(),
        checks: [],
      });
      expect(renderTextSummary(oneMetric, { mode })).toContain('vus');
    },
  );
});
