import { createHash } from 'node:crypto';

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
function id(path: string): string {
  return createHash('md5').update(path).digest('hex');
}

function group(name: string, path: string): LegacyGroup {
  return { name, path, id: id(path), groups: [], checks: [] };
}

/** The group tree from the group paths seen, in first-seen order. */
function groupTree(source: SummarySource): (path: string) => LegacyGroup {
  const root = group('', '');
  const byPath = new Map<string, LegacyGroup>([['', root]]);
  const ensure = (path: string): LegacyGroup => {
    const known = byPath.get(path);
    if (known) return known;
    const cut = path.lastIndexOf(SEPARATOR);
    const parent = ensure(cut <= 0 ? '' : path.slice(0, cut));
    const node = group(path.slice(cut + SEPARATOR.length), path);
    parent.groups.push(node);
    byPath.set(path, node);
    return node;
  };
  for (const path of source.groups) ensure(path);
  return ensure;
}

/** handleSummary()'s `data`, from merged data, in k6's exact shape. */
export function legacySummaryData(source: SummarySource): LegacySummaryData {
  const groupAt = groupTree(source);
  for (const check of source.checks) {
    const node = groupAt(check.group);
    const path = `${check.group}${SEPARATOR}${check.name}`;
    const known = node.checks.find((c) => c.name === check.name);
    if (known) {
      known.passes += check.passes;
      known.fails += check.fails;
    } else {
      node.checks.push({
        name: check.name,
        path,
        id: id(path),
        passes: check.passes,
        fails: check.fails,
      });
    }
  }
  const stats = source.options.summaryTrendStats;
  const metrics: Record<string, LegacyMetric> = {};
  const all = [...source.metrics, ...source.submetrics];
  for (const [key, series] of all) {
    const metric: LegacyMetric = {
      type: series.type,
      contains: series.contains,
      values: series.sink.values(source.durationMs, stats),
    };
    const thresholds = source.thresholds.get(key);
    if (thresholds?.length) {
      metric.thresholds = Object.fromEntries(thresholds.map((t) => [t.source, { ok: t.ok }]));
    }
    metrics[key] = metric;
  }
  const data: LegacySummaryData = {
    root_group: groupAt(''),
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
 * transformation in internal/js/summary-wrapper.js writes it.
 */
export function summaryExport(data: LegacySummaryData): string {
  const metrics: Record<string, Record<string, unknown>> = {};
  for (const [name, metric] of Object.entries(data.metrics)) {
    const values: Record<string, unknown> = { ...metric.values };
    if (metric.thresholds && Object.keys(metric.thresholds).length > 0) {
      values.thresholds = Object.fromEntries(
        Object.entries(metric.thresholds).map(([source, t]) => [source, !t.ok]),
      );
    }
    if (metric.type === 'rate' && 'rate' in values) {
      values.value = values.rate;
      delete values.rate;
    }
    metrics[name] = values;
  }
  const result: Record<string, unknown> = { root_group: exportGroup(data.root_group), metrics };
  if (data.setup_data !== undefined) result.setup_data = data.setup_data;
  return JSON.stringify(result, null, 4);
}

/** Legacy export keys groups and checks by name instead of listing them. */
function exportGroup(node: LegacyGroup): Record<string, unknown> {
  return {
    name: node.name,
    path: node.path,
    id: node.id,
    groups: Object.fromEntries(node.groups.map((g) => [g.name, exportGroup(g)])),
    checks: Object.fromEntries(node.checks.map((c) => [c.name, c])),
  };
}
