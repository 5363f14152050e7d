import { readdirSync, readFileSync } from 'node:fs';

import type { MetricType, ValueType } from '../../src/metrics/types.js';
import type { LegacySummaryData } from '../../src/summary/legacy.js';
import type { SeriesView, SummarySource } from '../../src/summary/source.js';
import { FakeSink } from './fake-sink.js';

/**
 * The k6 v2.2.0 runs captured by __tests__/fixtures/summary/capture.sh, and
 * the SummarySource each one amounts to: totals are k6's own values from the
 * run's handleSummary() data; what that data lacks (per-group and
 * per-scenario values, threshold percentiles outside summaryTrendStats) is
 * computed from the same run's samples.
 */

const DIR = new URL('../fixtures/summary/', import.meta.url);

export interface Sample {
  readonly metric: string;
  readonly value: number;
  readonly tags: Readonly<Record<string, string>>;
}

export interface Capture {
  readonly name: string;
  /** k6's stdout, terminal line clearing (`ESC[0K`, added by k6's tty writer) removed. */
  readonly stdout: string;
  readonly data: LegacySummaryData;
  /** Each metric key's thresholds, in definition order. */
  readonly thresholdOrder: Readonly<Record<string, readonly string[]>>;
  readonly summaryExport: string;
  readonly samples: readonly Sample[];
  readonly mode: 'compact' | 'full';
  readonly enableColors: boolean;
}

export function captureNames(): string[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.stdout.txt'))
    .map((f) => f.slice(0, -'.stdout.txt'.length))
    .sort();
}

function read(name: string, kind: string): string {
  return readFileSync(new URL(`${name}.${kind}.txt`, DIR), 'utf8');
}

export function loadCapture(name: string): Capture {
  const [dataLine = '', thresholdLine = ''] = read(name, 'handle-summary').split('\n');
  const data = JSON.parse(dataLine) as LegacySummaryData;
  const samples = read(name, 'samples')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const point = JSON.parse(line) as {
        metric: string;
        data: { value: number; tags?: Record<string, string> };
      };
      return { metric: point.metric, value: point.data.value, tags: point.data.tags ?? {} };
    });
  return {
    name,
    stdout: read(name, 'stdout').replaceAll('\x1b[0K', ''),
    data,
    thresholdOrder: JSON.parse(thresholdLine) as Record<string, string[]>,
    summaryExport: read(name, 'summary-export'),
    samples,
    mode: name.includes('full') ? 'full' : 'compact',
    // How k6 decides (internal/cmd/run.go): no --no-color, and stdout a terminal.
    enableColors: !data.options.noColor && data.state.isStdOutTTY,
  };
}

/** `metric{a:b,c:d}`'s tags. */
function submetricTags(key: string): Record<string, string> {
  const inner = key.slice(key.indexOf('{') + 1, -1);
  return Object.fromEntries(
    inner.split(',').map((pair) => {
      const at = pair.indexOf(':');
      return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    }),
  );
}

function matches(sample: Sample, tags: Readonly<Record<string, string>>): boolean {
  return Object.entries(tags).every(([k, v]) => sample.tags[k] === v);
}

function firstSeen<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

/** The SummarySource the coordinator would build for this run. */
export function sourceOf(capture: Capture): SummarySource {
  const { data, samples } = capture;
  const info = (name: string) => {
    const m = data.metrics[name];
    if (!m) throw new Error(`${capture.name}: no metric ${name} in the data`);
    return { type: m.type as MetricType, contains: m.contains as ValueType };
  };
  const valuesOf = (key: string, tags: Readonly<Record<string, string>>): number[] => {
    const parent = key.split('{')[0];
    return samples.filter((s) => s.metric === parent && matches(s, tags)).map((s) => s.value);
  };

  const metrics = new Map<string, SeriesView>();
  const submetrics = new Map<string, SeriesView & { parent: string }>();
  for (const [key, metric] of Object.entries(data.metrics)) {
    const { type, contains } = info(key);
    if (key.includes('{')) {
      const tags = submetricTags(key);
      const sink = new FakeSink(type, metric.values, valuesOf(key, tags));
      submetrics.set(key, { type, contains, sink, parent: key.split('{')[0] ?? key });
    } else {
      metrics.set(key, {
        type,
        contains,
        sink: new FakeSink(type, metric.values, valuesOf(key, {})),
      });
    }
  }

  const thresholds = new Map<string, { source: string; ok: boolean }[]>();
  for (const [key, sources] of Object.entries(capture.thresholdOrder)) {
    const results = data.metrics[key]?.thresholds ?? {};
    thresholds.set(
      key,
      sources.map((source) => {
        const result = results[source];
        if (!result) throw new Error(`${capture.name}: no result for ${key}: ${source}`);
        return { source, ok: result.ok };
      }),
    );
  }

  const checks = new Map<
    string,
    { name: string; group: string; scenario: string; passes: number; fails: number }
  >();
  const groups = new Set<string>();
  const parts = new Map<
    string,
    { scenario: string; group: string; samples: Map<string, number[]> }
  >();
  const scenarios = new Map<string, Map<string, number[]>>();
  for (const s of samples) {
    const group = s.tags.group ?? '';
    const scenario = s.tags.scenario ?? '';
    if ((s.metric === 'checks' || s.metric === 'group_duration') && group !== '') groups.add(group);
    if (s.metric === 'checks') {
      const name = s.tags.check ?? '';
      const check = firstSeen(checks, `${group}\0${scenario}\0${name}`, () => ({
        name,
        group,
        scenario,
        passes: 0,
        fails: 0,
      }));
      if (s.value === 0) check.fails++;
      else check.passes++;
    }
    const part = firstSeen(parts, `${scenario}\0${group}`, () => ({
      scenario,
      group,
      samples: new Map<string, number[]>(),
    }));
    const none = (): number[] => [];
    firstSeen(part.samples, s.metric, none).push(s.value);
    if (scenario !== '') {
      const byMetric = firstSeen(scenarios, scenario, () => new Map<string, number[]>());
      firstSeen(byMetric, s.metric, none).push(s.value);
    }
  }
  const views = (byMetric: Map<string, number[]>) =>
    new Map(
      [...byMetric].map(([metric, values]) => {
        const { type, contains } = info(metric);
        return [metric, { type, contains, sink: FakeSink.fromSamples(type, values) }] as const;
      }),
    );

  return {
    durationMs: data.state.testRunDurationMs,
    metrics,
    submetrics,
    thresholds,
    checks: [...checks.values()],
    groups: [...groups],
    parts: [...parts.values()].map((p) => ({
      scenario: p.scenario,
      group: p.group,
      metrics: views(p.samples),
    })),
    scenarioTotals: [...scenarios].map(([scenario, byMetric]) => ({
      scenario,
      metrics: views(byMetric),
    })),
    options: data.options,
    state: { isStdOutTTY: data.state.isStdOutTTY, isStdErrTTY: data.state.isStdErrTTY },
    ...(data.setup_data !== undefined && { setupData: data.setup_data }),
  };
}
