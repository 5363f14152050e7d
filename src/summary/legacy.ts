import { createHash } from 'node:crypto';

import { stringifyLikeK6 } from './json.js';
import { observedSeries } from './series.js';
import type { SummarySource } from './source.js';

/** k6's group in the legacy data (lib/models.go Group; internal/js/summary.go exportGroup). */
export interface LegacyGroup {
  name: string;
  path: string;
  id: string;
  groups: LegacyGroup[];
  checks: { name: string; path: string; id: string; passes: number; fails: number }[];
}

export interface LegacyMetric {
  type: string;
  contains: string;
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}

/** The object k6 passes to handleSummary() (internal/js/summary.go summarizeMetricsToObject). */
export interface LegacySummaryData {
  root_group: LegacyGroup;
  options: { summaryTrendStats: string[]; summaryTimeUnit: string; noColor: boolean };
  state: { isStdOutTTY: boolean; isStdErrTTY: boolean; testRunDurationMs: number };
  metrics: Record<string, LegacyMetric>;
  setup_data?: unknown;
}

const SEPARATOR = '::';

/** k6's group and check ids: the hex MD5 of the path (lib/models.go). */
export function legacyId(path: string): string {
  return createHash('md5').update(path).digest('hex');
}

function group(name: string, path: string): LegacyGroup {
  return { name, path, id: legacyId(path), groups: [], checks: [] };
}

type LegacyCheck = LegacyGroup['checks'][number];

/**
 * k6's group tree (lib.GroupSummary): a group tag's node, created with its
 * ancestors on first use. Like k6 (buildGroup) it splits the tag at every
 * `::` from the left and joins paths as NewGroupPath does. Children and
 * checks are found through maps: an agent may report thousands of them
 * (issue 17.4), and a linear search per one made the summary quadratic.
 */
function groupTree(): {
  root: LegacyGroup;
  at(tag: string): LegacyGroup;
  check(node: LegacyGroup, name: string): LegacyCheck;
} {
  const root = group('', '');
  const children = new Map<LegacyGroup, Map<string, LegacyGroup>>();
  const checks = new Map<LegacyGroup, Map<string, LegacyCheck>>();
  const at = (tag: string): LegacyGroup => {
    let node = root;
    for (const name of tag.split(SEPARATOR).slice(1)) {
      const byName = inner(children, node);
      let child = byName.get(name);
      if (!child) {
        child = group(name, node.path === '' && name === '' ? '' : node.path + SEPARATOR + name);
        node.groups.push(child);
        byName.set(name, child);
      }
      node = child;
    }
    return node;
  };
  const check = (node: LegacyGroup, name: string): LegacyCheck => {
    const byName = inner(checks, node);
    let known = byName.get(name);
    if (!known) {
      const path = node.path + SEPARATOR + name;
      known = { name, path, id: legacyId(path), passes: 0, fails: 0 };
      node.checks.push(known);
      byName.set(name, known);
    }
    return known;
  };
  return { root, at, check };
}

function inner<K, V>(outer: Map<LegacyGroup, Map<K, V>>, key: LegacyGroup): Map<K, V> {
  let map = outer.get(key);
  if (!map) {
    map = new Map();
    outer.set(key, map);
  }
  return map;
}

/** handleSummary()'s `data`, from merged data, in k6's exact shape. */
export function legacySummaryData(source: SummarySource): LegacySummaryData {
  const tree = groupTree();
  for (const path of source.groups) tree.at(path);
  for (const check of source.checks) {
    const known = tree.check(tree.at(check.group), check.name);
    known.passes += check.passes;
    known.fails += check.fails;
  }
  const stats = source.options.summaryTrendStats;
  // Entries, not `metrics[key] = …`: a metric named `__proto__` must stay a key (issue 17.11).
  const entries: [string, LegacyMetric][] = [];
  for (const [key, series] of observedSeries(source)) {
    const metric: LegacyMetric = {
      type: series.type,
      contains: series.contains,
      values: series.sink.values(source.durationMs, stats),
    };
    const thresholds = source.thresholds.get(key);
    if (thresholds?.length) {
      metric.thresholds = Object.fromEntries(thresholds.map((t) => [t.source, { ok: t.ok }]));
    }
    entries.push([key, metric]);
  }
  const metrics: Record<string, LegacyMetric> = Object.fromEntries(entries);
  const data: LegacySummaryData = {
    root_group: tree.root,
    options: {
      summaryTrendStats: [...stats],
      summaryTimeUnit: source.options.summaryTimeUnit,
      noColor: source.options.noColor,
    },
    state: {
      isStdOutTTY: source.state.isStdOutTTY,
      isStdErrTTY: source.state.isStdErrTTY,
      testRunDurationMs: source.durationMs,
    },
    metrics,
  };
  if (source.setupData !== undefined) data.setup_data = source.setupData;
  return data;
}

/**
 * The --summary-export file: k6's legacy JSON summary, as the oldJSONSummary
 * transformation in internal/js/summary-wrapper.js writes it (4-space
 * indentation with k6's runtime's quirk, see stringifyLikeK6).
 */
export function summaryExport(data: LegacySummaryData): string {
  const copy = JSON.parse(JSON.stringify(data)) as LegacySummaryData;
  const entries: [string, Record<string, unknown>][] = [];
  for (const [name, metric] of Object.entries(copy.metrics)) {
    const values: Record<string, unknown> = metric.values;
    if (metric.thresholds && Object.keys(metric.thresholds).length > 0) {
      values.thresholds = Object.fromEntries(
        Object.entries(metric.thresholds).map(([source, t]) => [source, !t.ok]),
      );
    }
    if (metric.type === 'rate' && Object.hasOwn(values, 'rate')) {
      values.value = values.rate;
      delete values.rate;
    }
    entries.push([name, values]);
  }
  const result: Record<string, unknown> = {
    root_group: exportGroup(copy.root_group),
    metrics: Object.fromEntries(entries),
  };
  if (copy.setup_data !== undefined) result.setup_data = copy.setup_data;
  return stringifyLikeK6(result, '    ') ?? '';
}

/** The legacy export keys groups and checks by name instead of listing them (transformGroup). */
function exportGroup(node: LegacyGroup): Record<string, unknown> {
  return {
    name: node.name,
    path: node.path,
    id: node.id,
    groups: Object.fromEntries(node.groups.map((g) => [g.name, exportGroup(g)])),
    checks: Object.fromEntries(node.checks.map((c) => [c.name, c])),
  };
}
