import { humanizeValue } from '../summary/format.js';
import type { SeriesMap, SummarySource } from '../summary/source.js';

/**
 * The HTML report's groups (issue 20.9): one row per scenario and group of
 * the merged run, whatever the summary mode. Agents split the samples taken
 * inside a group by scenario and group tag (MetricsPlan.parts), so k6's
 * compact summary, which shows no group, leaves the report its groups.
 */
export interface GroupsTable {
  readonly header: readonly string[];
  /** Plain text cells, in k6's order: by scenario, then groups as first seen. */
  readonly rows: readonly (readonly string[])[];
}

/** `::outer::inner` → `outer › inner`, split as k6 splits a group tag. */
function groupName(tag: string): string {
  return tag.split('::').slice(1).join(' › ');
}

function trendCell(series: SeriesMap, metric: string, durationMs: number, unit: string): string {
  const view = series.get(metric);
  if (view?.type !== 'trend') return '-';
  const v = view.sink.values(durationMs, ['avg', 'p(95)']);
  const show = (x: number | undefined) => humanizeValue(x ?? 0, view, unit);
  return `avg ${show(v.avg)}, p(95) ${show(v['p(95)'])}`;
}

function counterCell(series: SeriesMap, metric: string, durationMs: number): string {
  const view = series.get(metric);
  return view?.type === 'counter' ? String(view.sink.values(durationMs, []).count ?? 0) : '-';
}

function rateCell(series: SeriesMap, metric: string, durationMs: number, unit: string): string {
  const view = series.get(metric);
  return view?.type === 'rate'
    ? humanizeValue(view.sink.values(durationMs, []).rate ?? 0, view, unit)
    : '-';
}

/** Each group's checks, requests and durations; undefined when the test has no group. */
export function groupsTable(source: SummarySource): GroupsTable | undefined {
  // k6's full summary leaves setup()'s and teardown()'s own samples out of its groups.
  const parts = source.parts.filter((p) => !['', '::setup', '::teardown'].includes(p.group));
  if (parts.length === 0) return undefined;
  const scenarios = [...new Set(parts.map((p) => p.scenario))];
  const seen = (group: string) => {
    const at = source.groups.indexOf(group);
    return at === -1 ? source.groups.length : at;
  };
  const ordered = parts
    .map((part, index) => ({ part, index }))
    .sort(
      (a, b) =>
        scenarios.indexOf(a.part.scenario) - scenarios.indexOf(b.part.scenario) ||
        seen(a.part.group) - seen(b.part.group) ||
        a.index - b.index,
    )
    .map(({ part }) => part);
  const { durationMs } = source;
  const unit = source.options.summaryTimeUnit;
  // setup()'s and teardown()'s groups have no scenario.
  const several = scenarios.filter((name) => name !== '').length > 1;
  const rows = ordered.map(({ scenario, group, metrics }) => {
    const checks = source.checks.filter((c) => c.group === group && c.scenario === scenario);
    const passes = checks.reduce((n, c) => n + c.passes, 0);
    const total = checks.reduce((n, c) => n + c.passes + c.fails, 0);
    return [
      groupName(group),
      ...(several ? [scenario || '-'] : []),
      total === 0 ? '-' : `${String(passes)} of ${String(total)} passed`,
      trendCell(metrics, 'group_duration', durationMs, unit),
      counterCell(metrics, 'http_reqs', durationMs),
      trendCell(metrics, 'http_req_duration', durationMs, unit),
      rateCell(metrics, 'http_req_failed', durationMs, unit),
    ];
  });
  const header = [
    'Group',
    ...(several ? ['Scenario'] : []),
    'Checks',
    'group_duration',
    'http_reqs',
    'http_req_duration',
    'http_req_failed',
  ];
  return { header, rows };
}
