import { HTTP_REQ_TRENDS } from '../metrics/builtin.js';
import { k6Seconds } from '../metrics/sinks.js';
import type { MetricType, ValueType } from '../metrics/types.js';
import { observedSeries } from './series.js';
import type { SeriesMap, SeriesView, SummarySource } from './source.js';

/**
 * The end-of-test summary k6 v2.2.0 renders its text from (internal/lib/summary
 * Summary, built by internal/output/summary), here built from merged data.
 */

export type SummaryMode = 'compact' | 'full';

export interface SummaryMetric {
  readonly name: string;
  readonly type: MetricType;
  readonly contains: ValueType;
  readonly values: Readonly<Record<string, number>>;
}

export interface SummaryCheck {
  readonly name: string;
  passes: number;
  fails: number;
}

export interface SummaryChecks {
  /** checks_total, checks_succeeded and checks_failed, in that order. */
  readonly metrics: readonly SummaryMetric[];
  readonly ordered: readonly SummaryCheck[];
}

/** k6's metric sections, in the order of its summary.Metrics fields. */
export const SECTIONS = [
  'http',
  'execution',
  'network',
  'browser',
  'web_vitals',
  'grpc',
  'websocket',
  'custom',
] as const;
export type Section = (typeof SECTIONS)[number];

export interface SummaryGroup {
  /** Present when the group has `checks` samples. */
  readonly checks?: SummaryChecks;
  readonly metrics: ReadonlyMap<Section, ReadonlyMap<string, SummaryMetric>>;
  /** Nested groups by name, in the order they were first seen. */
  readonly groups: ReadonlyMap<string, SummaryGroup>;
}

export interface SummaryThreshold {
  readonly metric: SummaryMetric;
  readonly thresholds: ReadonlyArray<{ readonly source: string; readonly ok: boolean }>;
}

export interface EndOfTestSummary {
  readonly thresholds: ReadonlyMap<string, SummaryThreshold>;
  /** TOTAL RESULTS, and in full mode the groups outside named scenarios. */
  readonly root: SummaryGroup;
  /** Full mode: one group per named scenario. */
  readonly scenarios: ReadonlyMap<string, SummaryGroup>;
}

/** Where k6 files a metric (internal/output/summary/data.go); undefined: not shown. */
export function sectionOf(name: string, mode: SummaryMode): Section | undefined {
  const oneOf = (...prefixes: string[]) => prefixes.some((p) => name.startsWith(p));
  const hidden =
    mode === 'compact'
      ? oneOf(
          'checks',
          'group_duration',
          'http_req_blocked',
          'http_req_connecting',
          'http_req_receiving',
          'http_req_sending',
          'http_req_tls_handshaking',
          'http_req_waiting',
        )
      : oneOf('checks', 'group_duration');
  if (hidden) return undefined;
  if (oneOf('http_reqs', 'http_req_failed', ...HTTP_REQ_TRENDS)) return 'http';
  if (oneOf('vus', 'vus_max', 'iterations', 'iteration_duration', 'dropped_iterations'))
    return 'execution';
  if (oneOf('data_sent', 'data_received')) return 'network';
  if (name.startsWith('browser_web_vital_')) return 'web_vitals';
  if (name.startsWith('browser_')) return 'browser';
  if (name.startsWith('grpc_')) return 'grpc';
  if (name.startsWith('ws_')) return 'websocket';
  return 'custom';
}

const PERCENTILE_SOURCE = /^p\((\d+(?:\.\d+)?)\)\s*[<>=]/;

/** The end-of-test summary of a run in `mode`. */
export function buildSummary(source: SummarySource, mode: SummaryMode): EndOfTestSummary {
  const all = observedSeries(source);
  const { summaryTrendStats: stats } = source.options;
  const metric = (name: string, series: SeriesView, extra: readonly string[] = []) => ({
    name,
    type: series.type,
    contains: series.contains,
    values: series.sink.values(source.durationMs, [...stats, ...extra]),
  });

  const thresholds = new Map<string, SummaryThreshold>();
  for (const [key, list] of source.thresholds) {
    const series = all.get(key);
    if (!series || list.length === 0) continue;
    // A percentile threshold outside summaryTrendStats gets its value too.
    const extra =
      series.type === 'trend'
        ? list.flatMap((t) => {
            const match = PERCENTILE_SOURCE.exec(t.source.trim());
            return match ? [`p(${String(match[1])})`] : [];
          })
        : [];
    thresholds.set(key, { metric: metric(key, series, extra), thresholds: list });
  }

  const tree = new GroupTree(source, mode);
  const toSummaryGroup = (node: Omit<Node, 'metrics'> & { metrics: SeriesMap }): SummaryGroup => {
    const metrics = new Map<Section, Map<string, SummaryMetric>>(
      SECTIONS.map((s) => [s, new Map()]),
    );
    for (const [name, series] of node.metrics) {
      const section = sectionOf(name, mode);
      if (section) metrics.get(section)?.set(name, metric(name, series));
    }
    const checksSeries = node.metrics.get('checks');
    return {
      ...(checksSeries && {
        checks: summaryChecks(checksSeries, [...node.checks.values()], source.durationMs, stats),
      }),
      metrics,
      groups: new Map([...node.groups].map(([name, child]) => [name, toSummaryGroup(child)])),
    };
  };
  const root = toSummaryGroup({ ...tree.root, metrics: all });
  const scenarios = new Map(
    [...tree.scenarios].map(([name, node]) => [name, toSummaryGroup(node)]),
  );
  return { thresholds, root, scenarios };
}

/** The checks block of a group, from its `checks` rate (populateSummaryChecks). */
function summaryChecks(
  checks: SeriesView,
  ordered: readonly SummaryCheck[],
  durationMs: number,
  stats: readonly string[],
): SummaryChecks {
  const values = checks.sink.values(durationMs, stats);
  const passes = values.passes ?? 0;
  const total = passes + (values.fails ?? 0);
  const seconds = k6Seconds(durationMs);
  const of = (type: MetricType, name: string, v: Record<string, number>): SummaryMetric => ({
    name,
    type,
    contains: 'default',
    values: v,
  });
  return {
    metrics: [
      of('counter', 'checks_total', { count: total, rate: seconds === 0 ? 0 : total / seconds }),
      of('rate', 'checks_succeeded', values),
      of('rate', 'checks_failed', {
        passes: total - passes,
        fails: passes,
        rate: total > 0 ? (total - passes) / total : 0,
      }),
    ],
    ordered,
  };
}

interface Node {
  readonly metrics: Map<string, SeriesView>;
  readonly checks: Map<string, SummaryCheck>;
  readonly groups: Map<string, Node>;
}

function node(): Node {
  return { metrics: new Map(), checks: new Map(), groups: new Map() };
}

/**
 * The groups of the full summary (flushSample): samples of a named scenario
 * go to that scenario's tree, others (`default`, or none as in setup) to the
 * root's; each part goes to the group its tag names, setup's and teardown's
 * own samples left out.
 */
class GroupTree {
  readonly root = node();
  readonly scenarios = new Map<string, Node>();

  constructor(source: SummarySource, mode: SummaryMode) {
    for (const check of source.checks) countCheck(this.root, check);
    if (mode !== 'full') return;
    const totals = new Map(source.scenarioTotals?.map((t) => [t.scenario, t.metrics]));
    for (const [name, metrics] of totals) {
      for (const [metric, series] of metrics) this.#top(name).metrics.set(metric, series);
    }
    for (const part of source.parts) {
      const top = this.#top(part.scenario);
      const target = this.#group(top, part.group);
      // The root shows every sample; a scenario its totals, or else (a
      // fallback) its samples outside groups.
      if (!target || (target === top && (top === this.root || totals.has(part.scenario)))) {
        continue;
      }
      for (const [name, series] of part.metrics) addSeries(target, name, series);
    }
    for (const check of source.checks) {
      const top = this.#top(check.scenario);
      if (top !== this.root) countCheck(top, check);
      const target = this.#group(top, check.group);
      if (target && target !== top) countCheck(target, check);
    }
  }

  #top(scenario: string): Node {
    if (scenario === '' || scenario === 'default') return this.root;
    let top = this.scenarios.get(scenario);
    if (!top) {
      top = node();
      this.scenarios.set(scenario, top);
    }
    return top;
  }

  /** The node of a group tag under `top`, created on first use; undefined for setup/teardown. */
  #group(top: Node, tag: string): Node | undefined {
    if (tag === '') return top;
    const path = tag.startsWith('::') ? tag.slice(2) : tag;
    if (path === 'setup' || path === 'teardown') return undefined;
    let current = top;
    for (const name of path.split('::')) {
      let child = current.groups.get(name);
      if (!child) {
        child = node();
        current.groups.set(name, child);
      }
      current = child;
    }
    return current;
  }
}

function addSeries(target: Node, name: string, series: SeriesView): void {
  // Two parts meet in one group only for the root's `default` and untagged
  // samples in the same group: k6 would merge them; the first one is kept.
  if (!target.metrics.has(name)) target.metrics.set(name, series);
}

function countCheck(target: Node, check: { name: string; passes: number; fails: number }): void {
  const known = target.checks.get(check.name);
  if (known) {
    known.passes += check.passes;
    known.fails += check.fails;
  } else {
    target.checks.set(check.name, { name: check.name, passes: check.passes, fails: check.fails });
  }
}
