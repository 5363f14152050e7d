/** Issue 17 items 2, 5 and 11, below the HTTP edge: names, values and charts. */
import { describe, expect, it } from '@jest/globals';
import { pack } from 'tar-stream';

import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';

import { endOfTest } from '../../src/coordinator/end-of-test.js';
import { markOutliers } from '../../src/coordinator/outliers.js';
import { BUILTIN_METRIC_NAMES, builtinMetric } from '../../src/metrics/builtin.js';
import { PlausibilityGuard } from '../../src/metrics/plausibility.js';
import { createSink, wireSinkSchema } from '../../src/metrics/sinks.js';
import { parseRunFlags } from '../../src/k6/run-flags.js';
import { builtinMetricWrites } from '../../src/k6/script-scan.js';
import type { MetricDelta } from '../../src/protocol/messages.js';
import { svgLineChart } from '../../src/report/svg-chart.js';
import { legacySummaryData } from '../../src/summary/legacy.js';
import type { Sink } from '../../src/metrics/types.js';
import type { SummarySource } from '../../src/summary/source.js';
import { CapturingLogger } from '../helpers/distributed.js';
import { tempDir } from '../helpers/fs.js';
import { fakeAgent, fakeRunOutcome } from '../helpers/run-outcome.js';

/** A k6 archive holding `script` as its entry (`data`), as `k6 archive` writes it. */
async function archiveOf(script: string): Promise<string> {
  const path = join(await tempDir(), 'archive.tar');
  const tar = pack();
  tar.entry({ name: 'data' }, script);
  tar.finalize();
  await pipeline(tar, createWriteStream(path));
  return path;
}

function sourceOf(name: string, sink: Sink): SummarySource {
  return {
    durationMs: 1_000,
    metrics: new Map([[name, { type: sink.type, contains: 'default', sink }]]),
    submetrics: new Map(),
    thresholds: new Map(),
    checks: [],
    groups: [],
    parts: [],
    options: { summaryTrendStats: ['avg'], summaryTimeUnit: '', noColor: true },
    state: { isStdOutTTY: false, isStdErrTTY: false },
    setupData: undefined,
  };
}

describe('issue 17.11: names from a script are never Object.prototype properties', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'issue 17.11: %s is not a built-in metric',
    (name) => {
      expect(builtinMetric(name)).toBeUndefined();
    },
  );

  it('issue 17.11: a metric named __proto__ is a key of the handleSummary() data', () => {
    const sink = createSink('counter');
    sink.add(3, 0);
    const data = legacySummaryData(sourceOf('__proto__', sink));
    expect(Object.hasOwn(data.metrics, '__proto__')).toBe(true);
    expect(JSON.parse(JSON.stringify(data.metrics))).toEqual(
      JSON.parse(
        '{"__proto__":{"type":"counter","contains":"default","values":{"count":3,"rate":3}}}',
      ),
    );
  });
});

describe('issue 17.2: charts and reports never fail the run', () => {
  it('issue 17.2: a chart of extreme values ends, with finite axes', () => {
    const huge = [1.6e308, -1.6e308, Infinity, -Infinity, NaN, 1e300, 5e-324];
    const svg = svgLineChart({
      title: 'p(95)',
      unit: 'ms',
      xs: [0, 1, 2, 3, 4, 5, Number.MAX_VALUE],
      series: [{ name: 'p95', values: huge }],
    });
    expect(svg).not.toMatch(/Infinity|NaN/);
    // At most 13 ticks on each axis, whatever the values.
    expect(svg.match(/class="tick"/g)?.length).toBeLessThanOrEqual(26);
    expect(svgLineChart({ title: 't', unit: 'u', xs: [0, 1e-320], series: [] })).toContain(
      '</svg>',
    );
  });

  it('issue 17.2: the result file carries the verdict when the summary data cannot be built', async () => {
    const dir = await tempDir();
    const log = new CapturingLogger();
    const broken = createSink('trend');
    broken.add(1, 0);
    broken.values = () => {
      throw new Error('no values today');
    };
    await endOfTest({
      k6: { path: '/nonexistent/k6', version: '2.2.0' },
      script: 'script.js',
      flags: parseRunFlags(['--summary-mode=disabled']),
      source: sourceOf('http_req_duration', broken),
      result: fakeRunOutcome({ exitCode: 99, message: 'thresholds crossed' }),
      summaryJson: join(dir, 'result.json'),
      stdout: () => undefined,
      stderr: () => undefined,
      enableColors: false,
      env: process.env,
      log,
    });
    const file = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as {
      exitCode: number;
      message: string;
      data: unknown;
    };
    expect(file).toMatchObject({ exitCode: 99, message: 'thresholds crossed', data: null });
    expect(log.text()).toContain(
      'failed to handle the end-of-test summary (building the summary data): no values today',
    );
  });
});

describe('issue 17.5: what no honest k6 reports', () => {
  const guard = () => new PlausibilityGuard();
  const ctx = { submetricParent: () => 'http_req_duration', ageMs: 1_000 };
  const delta = (series: unknown[]): MetricDelta =>
    ({ metrics: [], groups: [], series }) as MetricDelta;
  const trend = (value: number, count: number) => ({
    t: 'trend',
    h: {
      count,
      sum: value * count,
      min: value,
      max: value,
      pos: [],
      neg: [],
      exact: [value, count],
    },
  });

  it('issue 17.5: what k6 emits per request and per iteration passes, whatever the cut', () => {
    const g = guard();
    // One request and one iteration, cut between the request's samples.
    const first = delta([
      { kind: 'total', metric: 'http_reqs', sink: { t: 'counter', sum: 1 } },
      { kind: 'total', metric: 'http_req_duration', sink: trend(12, 1) },
    ]);
    const second = delta([
      { kind: 'total', metric: 'http_req_waiting', sink: trend(10, 1) },
      { kind: 'total', metric: 'http_req_failed', sink: { t: 'rate', trues: 0, total: 1 } },
      { kind: 'total', metric: 'iterations', sink: { t: 'counter', sum: 1 } },
      { kind: 'total', metric: 'iteration_duration', sink: trend(13, 1) },
      { kind: 'total', metric: 'items', sink: { t: 'counter', sum: -5 } },
    ]);
    g.check('a', first, ctx)();
    expect(() => g.check('a', second, ctx)()).not.toThrow();
  });

  it.each([
    ['negative-count', [{ kind: 'total', metric: 'data_sent', sink: { t: 'counter', sum: -1 } }]],
    ['negative-duration', [{ kind: 'total', metric: 'group_duration', sink: trend(-1, 1) }]],
    [
      'sample-rate',
      [{ kind: 'total', metric: 'work', sink: { t: 'rate', trues: 0, total: 1e12 } }],
    ],
    [
      'subset',
      [
        { kind: 'total', metric: 'http_req_duration', sink: trend(20, 0) },
        { kind: 'sub', key: 'k', sink: trend(20, 1) },
      ],
    ],
  ])('issue 17.5: refuses %s', (rule, series) => {
    expect(() => guard().check('a', delta(series), ctx)).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', data: { rule } }),
    );
  });

  it('issue 17.5: a sum outside count×min … count×max is refused by the wire schema', () => {
    const wire = trend(5, 10);
    expect(wireSinkSchema.safeParse(wire).success).toBe(true);
    expect(wireSinkSchema.safeParse({ ...wire, h: { ...wire.h, sum: 51 } }).success).toBe(false);
    expect(wireSinkSchema.safeParse({ ...wire, h: { ...wire.h, sum: 49 } }).success).toBe(false);
    expect(wireSinkSchema.safeParse({ t: 'counter', sum: 1e300 }).success).toBe(false);
  });

  it('issue 17.5: no rule holds for a built-in metric the script adds to itself', async () => {
    const written = await builtinMetricWrites(
      await archiveOf(
        "import { Counter } from 'k6/metrics';\n" +
          "const reqs = new Counter('http_reqs');\n" +
          "const mine = new Counter('mine');\n" +
          'export default function () { reqs.add(-400); }\n',
      ),
      BUILTIN_METRIC_NAMES,
    );
    expect([...written]).toEqual(['http_reqs']);
    const g = new PlausibilityGuard({ writtenBuiltins: written });
    const negative = delta([
      { kind: 'total', metric: 'http_reqs', sink: { t: 'counter', sum: -400 } },
    ]);
    expect(() => g.check('a', negative, ctx)).not.toThrow();
    const computed = await builtinMetricWrites(
      await archiveOf("import * as m from 'k6/metrics';\nconst c = new m.Counter(__ENV.NAME);\n"),
      BUILTIN_METRIC_NAMES,
    );
    expect(computed.has('iterations')).toBe(true);
  });

  it('issue 17.5: marks the agent far above its share of VUs, and only it', () => {
    const agents = [0, 1, 2].map((i) =>
      fakeAgent(i, 3, {
        totals: { iterations: [100, 110, 5_000][i] ?? 0, httpReqs: 0, httpReqFailures: 0 },
      }),
    );
    markOutliers(agents, () => 2);
    expect(agents.map((a) => a.notes)).toEqual([
      undefined,
      undefined,
      ['outlier: 47.6× the iterations per VU of the other agents (5000 iterations)'],
    ]);
    // One VU for three agents: the agent that has it does all the work, and is not marked.
    const small = [0, 1, 2].map((i) =>
      fakeAgent(i, 3, {
        totals: { iterations: i === 0 ? 500 : 0, httpReqs: 0, httpReqFailures: 0 },
      }),
    );
    markOutliers(small, (id) => (id === small[0]?.id ? 1 : 0));
    expect(small.every((a) => a.notes === undefined)).toBe(true);
  });
});
