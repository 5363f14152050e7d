import { agentStarts, type RunOutcome } from '../coordinator/outcome.js';
import type { Bands, Timeline, TimelinePoint } from '../metrics/timeline.js';
import { buildSummary, type SummaryMetric } from '../summary/model.js';
import type { SummarySource } from '../summary/source.js';
import type { BaselineView } from './baseline-view.js';
import { FIGURE_NAMES, formatChange, formatFigure, formatLimit } from './compare.js';
import { exitName, metricValue, seconds, thresholdValue, verdictOf } from './format.js';
import { groupsTable } from './groups-table.js';
import { agentTable } from './run-report.js';
import { type ChartSeries, escapeXml as esc, svgLineChart } from './svg-chart.js';

export interface HtmlReportInput {
  result: RunOutcome;
  source: SummarySource;
  timeline?: Timeline;
  /** The comparison with the base branch's last successful run (the action, on a PR). */
  baseline?: BaselineView;
  /** What was tested, e.g. the script path. */
  title: string;
  /** Shown in the footer; the caller's clock (tests pass a fixed one). */
  generatedAt: Date;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1320px;color:#1f2328;padding:0 16px}
h1{font-size:22px;margin:0 0 4px;overflow-wrap:anywhere}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.verdict{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600}
.passed{background:#1a7f37}.failed{background:#cf222e}.aborted{background:#9a6700}.live{background:#0969da}
.meta{color:#59636e}table{border-collapse:collapse;margin:4px 0;display:block;max-width:100%;overflow-x:auto}
th,td{border:1px solid #d0d7de;padding:4px 10px;text-align:left;vertical-align:top}th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums}.ok{color:#1a7f37}.bad{color:#cf222e}
.warning{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 10px;margin:8px 0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,540px),1fr));gap:12px}
svg.chart{width:100%;height:auto;border:1px solid #d0d7de;border-radius:6px;background:#fff}
svg .grid{stroke:#eaeef2}svg .point{fill:transparent;stroke:none}svg .point:hover{fill:#1f2328;fill-opacity:.35}svg .tick,svg .unit,svg .legend{font-size:11px;fill:#59636e}svg .title{font-size:13px;font-weight:600;fill:#1f2328}
footer{margin-top:32px;color:#59636e;font-size:12px}`;

function table(header: readonly string[], rows: readonly string[][], numeric: number[] = []) {
  const head = header.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows
    .map(
      (row) =>
        `<tr>${row.map((cell, i) => `<td${numeric.includes(i) ? ' class="num"' : ''}>${cell}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function figureName(label: string): string {
  const figure = FIGURE_NAMES[label];
  return figure ? `${esc(figure.name)} <code>${esc(figure.metric)}</code>` : esc(label);
}

/** "Compared with main": each figure then and now, regressions marked; or why there is none. */
function baselineSection(baseline: BaselineView | undefined): string[] {
  if (baseline === undefined) return [];
  const { lookup, comparison } = baseline;
  const head = `<h2>Compared with <code>${esc(lookup.branch)}</code></h2>`;
  const skipped = lookup.skipped.length
    ? [`<p class="meta">Passed over: ${esc(lookup.skipped.join('; '))}.</p>`]
    : [];
  if (!lookup.found || comparison === undefined) {
    return [
      head,
      `<p>No baseline: ${esc(lookup.found ? 'nothing to compare' : lookup.reason)}.</p>`,
      ...skipped,
    ];
  }
  const rows = comparison.rows.map((row) => [
    figureName(row.label),
    esc(formatFigure(row, row.base)),
    esc(formatFigure(row, row.current)),
    row.regressed
      ? `<span class="bad"><strong>${esc(formatChange(row))}</strong> ${row.enforced ? `✗ over ${esc(formatLimit(row))}` : '▲ regression'}</span>`
      : esc(formatChange(row)),
  ]);
  return [
    head,
    `<p>Baseline: run #${String(lookup.run.number)} (<code>${esc(lookup.run.sha.slice(0, 7))}</code>), the last successful run on <code>${esc(lookup.branch)}</code>.</p>`,
    table(['', lookup.branch, 'This run', 'Change'], rows, [1, 2, 3]),
    ...skipped,
  ];
}

/** What the charts know of an agent: its line's name, and when its k6 started. */
export type ChartAgent = Pick<RunOutcome['agents'][number], 'id' | 'name' | 'startedAt'>;

/** The start instant on the coordinator's clock: the first agent to unpause its k6. */
function runStart(agents: readonly ChartAgent[]): number | undefined {
  const starts = agentStarts(agents);
  return starts.length > 0 ? Math.min(...starts) : undefined;
}

/** "started 2026-12-03 04:49:37 UTC · ", or nothing for a run that never started. */
function startedText(agents: readonly ChartAgent[]): string {
  const start = runStart(agents);
  if (start === undefined) return '';
  const iso = new Date(start).toISOString();
  return `started ${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC · `;
}

/** Beyond this many agents the per-agent chart draws their spread, not a line each. */
const MAX_AGENT_LINES = 8;

/**
 * Each agent's request rate, a line each in name order; beyond
 * MAX_AGENT_LINES the highest, median and lowest agent of each interval
 * (issue 20.9: forty lines and a "+33 more" legend said nothing).
 */
function agentRateSeries(
  timeline: Timeline,
  chartAgents: readonly ChartAgent[],
  xs: readonly number[],
): { title: string; series: ChartSeries[] } {
  const names = new Map(chartAgents.map((a) => [a.id, a.name]));
  const agents = Object.entries(timeline.agents)
    .map(([id, points]) => ({
      name: names.get(id) ?? id,
      values: xs.map((_, i) => points[i]?.rps ?? null),
    }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  if (agents.length <= MAX_AGENT_LINES) {
    return { title: 'Requests per second by agent', series: agents };
  }
  const at = (i: number) =>
    agents.flatMap((a) => (a.values[i] === null || a.values[i] === undefined ? [] : [a.values[i]]));
  const spread = (name: string, pick: (sorted: number[]) => number) => ({
    name,
    values: xs.map((_, i) => {
      const values = at(i).sort((x, y) => x - y);
      return values.length === 0 ? null : pick(values);
    }),
  });
  return {
    title: `Requests per second by agent (${String(agents.length)} agents)`,
    series: [
      spread('highest agent', (v) => v[v.length - 1] ?? 0),
      spread('median agent', (v) => v[Math.floor((v.length - 1) / 2)] ?? 0),
      spread('lowest agent', (v) => v[0] ?? 0),
    ],
  };
}

/**
 * A trend's bands over time, as k6's web dashboard draws them (issue 20.9):
 * avg, p(90), p(95), p(99); a gap where an interval had no sample. None when
 * no interval has the trend.
 */
function bandSeries(
  points: readonly TimelinePoint[],
  of: (p: TimelinePoint) => Bands | undefined,
): ChartSeries[] {
  if (!points.some((p) => of(p))) return [];
  return (['avg', 'p90', 'p95', 'p99'] as const).map((band) => ({
    name: band === 'avg' ? 'avg' : `p(${band.slice(1)})`,
    values: points.map((p) => of(p)?.[band] ?? null),
  }));
}

/** Data received and sent per second, kB (k6's data_received and data_sent). */
function transferSeries(points: readonly TimelinePoint[]): ChartSeries[] {
  if (!points.some((p) => p.received !== undefined || p.sent !== undefined)) return [];
  return [
    { name: 'received', values: points.map((p) => (p.received ?? 0) / 1000) },
    { name: 'sent', values: points.map((p) => (p.sent ?? 0) / 1000) },
  ];
}

function charts(timeline: Timeline | undefined, agents: readonly ChartAgent[]): string {
  const merged = timeline?.merged ?? [];
  if (merged.length < 2 || !timeline) {
    return '<p class="meta">The run was too short to chart (fewer than two intervals).</p>';
  }
  const xs = merged.map((p) => p.t);
  const startEpochMs = runStart(agents);
  const line = (title: string, unit: string, f: (p: TimelinePoint) => number | null) =>
    svgLineChart({
      title,
      unit,
      xs,
      startEpochMs,
      series: [{ name: title, values: merged.map(f) }],
    });
  const perAgent = agentRateSeries(timeline, agents, xs);
  const several = (title: string, unit: string, series: ChartSeries[]) =>
    series.length === 0 ? [] : [svgLineChart({ title, unit, xs, startEpochMs, series })];
  return [
    '<div class="charts">',
    line('Requests per second', 'req/s', (p) => p.rps),
    ...(merged.some((p) => p.latency)
      ? several(
          'http_req_duration',
          'ms',
          bandSeries(merged, (p) => p.latency),
        )
      : [line('http_req_duration p(95)', 'ms', (p) => p.p95)]),
    line('Active VUs', 'VUs', (p) => p.vus),
    line('Failed requests', '%', (p) => (p.errorRate === null ? null : p.errorRate * 100)),
    ...several(
      'iteration_duration',
      'ms',
      bandSeries(merged, (p) => p.iterationDuration),
    ),
    ...several('Data transferred per second', 'kB/s', transferSeries(merged)),
    svgLineChart({
      title: perAgent.title,
      unit: 'req/s',
      xs,
      startEpochMs,
      series: perAgent.series,
    }),
    '</div>',
  ].join('\n');
}

/**
 * The run as one self-contained HTML page (`--report-html`, the action's
 * artifact): verdict, charts over time (inline SVG), thresholds, checks, groups, key
 * metrics, and per-agent and per-scenario tables. No script, no external
 * resource. Pure: the caller writes it.
 */
export function renderHtmlReport(input: HtmlReportInput): string {
  const { result, source, timeline, title } = input;
  const verdict = verdictOf(result);
  const report = buildSummary(source, 'compact');
  const unit = source.options.summaryTimeUnit;
  const skew = result.startSkewMs === undefined ? 'n/a' : `${result.startSkewMs.toFixed(1)} ms`;

  const thresholds = [...report.thresholds].flatMap(([key, t]) =>
    t.thresholds.map((th) => [
      `<code>${esc(key)}</code>`,
      `<code>${esc(th.source)}</code>`,
      esc(thresholdValue(t.metric, th.source, unit)),
      th.ok ? '<span class="ok">✓ passed</span>' : '<span class="bad">✗ failed</span>',
    ]),
  );
  const checks = [...(report.root.checks?.ordered ?? [])].map((c) => [
    `${c.fails === 0 ? '<span class="ok">✓</span>' : '<span class="bad">✗</span>'} ${esc(c.name)}`,
    String(c.passes),
    String(c.fails),
  ]);
  const metrics: string[][] = [];
  for (const section of report.root.metrics.values()) {
    for (const m of section.values())
      metrics.push([`<code>${esc(m.name)}</code>`, esc(metricValue(m, unit))]);
  }
  const { header, rows } = agentTable(result);
  // Per scenario, as k6's full summary splits it (agents split by scenario with --summary-mode=full).
  const scenarios = [...buildSummary(source, 'full').scenarios].map(([name, group]) => {
    const all = new Map<string, SummaryMetric>();
    for (const section of group.metrics.values()) for (const [k, m] of section) all.set(k, m);
    const value = (metric: string) => {
      const m = all.get(metric);
      return m ? esc(metricValue(m, unit)) : '-';
    };
    return [esc(name), value('iterations'), value('http_reqs'), value('http_req_duration')];
  });
  // Without --summary-mode=full only checks are split by scenario: a row of dashes says nothing.
  const scenarioRows = scenarios.filter((row) => row.slice(1).some((v) => v !== '-'));

  const sections = [
    `<h1>k6-distributed: <code>${esc(title)}</code> <span class="verdict ${verdict}">${verdict}</span></h1>`,
    `<p><strong>exit code ${String(result.exitCode)}</strong> (${esc(exitName(result.exitCode))}): ${esc(result.message)}</p>`,
    `<p class="meta">${startedText(result.agents)}${String(result.agents.length)} agents · test run ${esc(seconds(source.durationMs))} · start skew ${esc(skew)} · setup() ${result.setupRan ? 'ran once' : 'did not run'} · teardown() ${result.teardownRan ? 'ran once' : 'did not run'}</p>`,
    ...(result.warnings ?? []).map((w) => `<p class="warning">⚠ ${esc(w)}</p>`),
    ...baselineSection(input.baseline),
    '<h2>Over time</h2>',
    charts(timeline, result.agents),
  ];
  if (thresholds.length) {
    sections.push(
      '<h2>Thresholds</h2>',
      table(['Metric', 'Threshold', 'Value', 'Result'], thresholds),
    );
  }
  if (checks.length)
    sections.push('<h2>Checks</h2>', table(['Check', 'Passes', 'Fails'], checks, [1, 2]));
  const groups = groupsTable(source);
  if (groups) {
    const numeric = groups.header.indexOf('http_reqs');
    sections.push(
      '<h2>Groups</h2>',
      table(
        groups.header,
        groups.rows.map((r) => r.map(esc)),
        [numeric],
      ),
    );
  }
  sections.push('<h2>Metrics</h2>', table(['Metric', 'Value'], metrics));
  sections.push(
    '<h2>Agents</h2>',
    table(
      header,
      rows.map((r) => r.map(esc)),
      [5, 6, 7],
    ),
  );
  if (scenarioRows.length) {
    sections.push(
      '<h2>Scenarios</h2>',
      table(['Scenario', 'iterations', 'http_reqs', 'http_req_duration'], scenarioRows),
    );
  } else if (scenarios.length > 1) {
    sections.push(
      '<h2>Scenarios</h2>',
      `<p class="meta">${String(scenarios.length)} scenarios: run with <code>--summary-mode=full</code> for their metrics.</p>`,
    );
  }
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>k6-distributed: ${esc(title)} (${verdict})</title>`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<style>${STYLE}</style></head><body>`,
    ...sections,
    `<footer>Generated by k6-distributed at ${esc(input.generatedAt.toISOString())}.</footer>`,
    '</body></html>',
    '',
  ].join('\n');
}

export interface LivePageInput {
  /** What is tested, e.g. the script path. */
  title: string;
  /** The merged run so far. */
  timeline: Timeline | undefined;
  agents: readonly ChartAgent[];
  /** Where the run is, e.g. `running · 3 of 3 agents · test run 12.0 s`. */
  status: string;
  /** How often the page reloads itself. */
  refreshS: number;
  generatedAt: Date;
}

/**
 * The coordinator's live page of the merged run (issue 20.8, for
 * K6_WEB_DASHBOARD): the HTML report's charts so far, reloaded by the
 * browser every `refreshS` seconds. Still no script and nothing external.
 */
export function renderLivePage(input: LivePageInput): string {
  const { title } = input;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="refresh" content="${String(Math.max(1, Math.round(input.refreshS)))}">`,
    `<title>k6-distributed: ${esc(title)} (live)</title>`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<style>${STYLE}</style></head><body>`,
    `<h1>k6-distributed: <code>${esc(title)}</code> <span class="verdict live">live</span></h1>`,
    `<p class="meta">${startedText(input.agents)}${esc(input.status)}</p>`,
    charts(input.timeline, input.agents),
    `<footer>The merged run as of ${esc(input.generatedAt.toISOString())}; this page reloads every ${esc(seconds(input.refreshS * 1000))}. The full report is written at the end (<code>--report-html</code>, <code>K6_WEB_DASHBOARD_EXPORT</code>).</footer>`,
    '</body></html>',
    '',
  ].join('\n');
}
