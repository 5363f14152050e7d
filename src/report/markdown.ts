import type { RunOutcome } from '../coordinator/outcome.js';
import type { Timeline } from '../metrics/timeline.js';
import { buildSummary, type SummaryMetric } from '../summary/model.js';
import type { SummarySource } from '../summary/source.js';
import type { BaselineView } from './baseline-view.js';
import { mermaidCharts } from './charts.js';
import { FIGURE_NAMES, formatChange, formatFigure, formatLimit } from './compare.js';
import {
  exitName,
  metricValue,
  seconds,
  thresholdValue,
  type Verdict,
  verdictOf,
} from './format.js';
import { codeSpan, markdownText } from './markdown-text.js';
import { agentTable } from './run-report.js';

export interface RunMarkdownInput {
  result: RunOutcome;
  source: SummarySource;
  /** What was tested, e.g. the script path. */
  title: string;
  /** Largest output: characters, or UTF-8 bytes with `bytes: true`. */
  limit: number;
  bytes?: boolean;
  /** Where the full result lives, named in the trimming note. */
  fullResultHint?: string;
  /** The run over time: charted when it has two intervals or more. */
  timeline?: Timeline;
  /** The uploaded HTML report and result JSON (an artifact's page). */
  reportUrl?: string;
  /** The comparison with the base branch's last successful run (pull requests). */
  baseline?: BaselineView;
}

const ICON: Record<Verdict, string> = { passed: '✅', failed: '❌', aborted: '⛔' };

/**
 * The run as GitHub Markdown (job summary, PR comment, check run): verdict,
 * thresholds, key metrics, checks and the per-agent table. Pure. Past `limit`
 * it drops agent rows, then check rows, and says so in a visible note.
 */
export function renderRunMarkdown(input: RunMarkdownInput): string {
  const parts = sections(input);
  const size = (text: string) => (input.bytes ? Buffer.byteLength(text) : text.length);
  let agents = parts.agents.length;
  let checks = parts.checks.length;
  for (;;) {
    const text = assemble(parts, agents, checks, input);
    if (size(text) <= input.limit) return text;
    if (agents > 0) agents = Math.floor(agents / 2);
    else if (checks > 0) checks = Math.floor(checks / 2);
    else return cut(text, input.limit, size);
  }
}

interface Sections {
  head: string[];
  baseline: string[];
  thresholds: string[];
  chart: string[];
  metrics: string[];
  checks: string[];
  agents: string[];
}

function sections(input: RunMarkdownInput): Sections {
  const { result, source, title, timeline } = input;
  const verdict = verdictOf(result);
  const report = buildSummary(source, 'compact');
  const unit = source.options.summaryTimeUnit;
  const skew = result.startSkewMs === undefined ? 'n/a' : `${result.startSkewMs.toFixed(1)} ms`;
  const head = [
    `### ${ICON[verdict]} k6-distributed: ${codeSpan(title)} ${verdict}`,
    '',
    `**exit code ${String(result.exitCode)}** (${exitName(result.exitCode)}): ${markdownText(result.message)}`,
    '',
    `${String(result.agents.length)} agents · test run ${seconds(source.durationMs)} · start skew ${skew} · ` +
      `setup() ${result.setupRan ? 'ran once' : 'did not run'} · teardown() ${result.teardownRan ? 'ran once' : 'did not run'}`,
    ...(result.warnings ?? []).flatMap((w) => ['', `⚠️ ${markdownText(w)}`]),
    ...(input.reportUrl === undefined
      ? []
      : ['', `📊 [HTML report and result JSON](${input.reportUrl}) (artifact)`]),
  ];
  const thresholds = [...report.thresholds].flatMap(([key, t]) =>
    t.thresholds.map(
      (th) =>
        `| ${codeSpan(key, TABLE)} | ${codeSpan(th.source.trim(), TABLE)} | ${thresholdValue(t.metric, th.source, unit)} | ${th.ok ? '✅' : '❌'} |`,
    ),
  );
  const all = new Map<string, SummaryMetric>();
  for (const section of report.root.metrics.values()) for (const [k, m] of section) all.set(k, m);
  const metrics = KEY_METRICS.flatMap((name) => {
    const metric = all.get(name);
    return metric ? [`| \`${name}\` | ${metricValue(metric, unit)} |`] : [];
  });
  const checks = [...(report.root.checks?.ordered ?? [])].map(
    (c) =>
      `| ${c.fails === 0 ? '✅' : '❌'} ${codeSpan(c.name, TABLE)} | ${String(c.passes)} | ${String(c.fails)} |`,
  );
  const agents = agentTable(result).rows.map((row) => `| ${row.map(agentCell).join(' | ')} |`);
  return {
    head,
    baseline: input.baseline ? baselineLines(input.baseline) : [],
    thresholds,
    chart: mermaidCharts(timeline),
    metrics,
    checks,
    agents,
  };
}

export const KEY_METRICS = [
  'http_reqs',
  'http_req_failed',
  'http_req_duration',
  'iterations',
  'iteration_duration',
  'vus_max',
  'data_received',
  'data_sent',
  'dropped_iterations',
];

/** A column title as a heading: `iterations` → `Iterations` (`k6 exit` stays). */
function capitalize(text: string): string {
  return text.startsWith('k6') ? text : text.charAt(0).toUpperCase() + text.slice(1);
}

function assemble(s: Sections, agents: number, checks: number, input: RunMarkdownInput): string {
  const { result } = input;
  const header = agentTable(result).header;
  const lines = [...s.head];
  if (s.baseline.length) lines.push('', ...s.baseline);
  if (s.thresholds.length) {
    lines.push(
      '',
      '#### Thresholds',
      '',
      '| Metric | Threshold | Value | |',
      '| --- | --- | --- | --- |',
    );
    lines.push(...s.thresholds);
  }
  if (s.chart.length) lines.push('', '#### Load and latency over time', '', ...s.chart);
  if (s.metrics.length) {
    lines.push('', '#### Key metrics', '', '| Metric | Value |', '| --- | --- |', ...s.metrics);
  }
  if (s.checks.length) {
    lines.push('', '#### Checks', '', '| Check | Passes | Fails |', '| --- | ---: | ---: |');
    lines.push(...s.checks.slice(0, checks));
  }
  lines.push(
    '',
    '#### Agents (\\* ran setup and teardown)',
    '',
    `| ${header.map(capitalize).join(' | ')} |`,
    `| ${header.map((h) => (NUMERIC_COLUMNS.has(h) ? '---:' : '---')).join(' | ')} |`,
    ...s.agents.slice(0, agents),
  );
  const hidden = [
    s.agents.length > agents ? `${String(s.agents.length - agents)} agents` : '',
    s.checks.length > checks ? `${String(s.checks.length - checks)} checks` : '',
  ].filter((x) => x !== '');
  if (hidden.length) lines.push('', trimNote(hidden.join(' and '), input.fullResultHint));
  return `${lines.join('\n')}\n`;
}

function trimNote(what: string, hint = 'the merged result JSON'): string {
  return `> **Trimmed to fit GitHub's size limit:** ${what} not shown; see ${hint}.`;
}

function cut(text: string, limit: number, size: (t: string) => number): string {
  const note = `\n\n${trimNote('the rest')}\n`;
  let end = Math.max(0, limit - size(note));
  while (end > 0 && size(text.slice(0, end)) > limit - size(note)) end--;
  return text.slice(0, end) + note;
}

/**
 * "Compared with `main`": the baseline run, each figure then and now, its
 * change, regressions in bold with 🔺 and ❌ past a fail-on-regression limit;
 * or why there is no baseline.
 */
function baselineLines({ lookup, comparison }: BaselineView): string[] {
  const branch = codeSpan(lookup.branch);
  const lines = [`#### Compared with ${branch}`, ''];
  if (!lookup.found || comparison === undefined) {
    lines.push(`No baseline: ${cell(lookup.found ? 'nothing to compare' : lookup.reason)}.`);
  } else {
    lines.push(
      `Baseline: [run #${String(lookup.run.number)}](${lookup.run.url}) (\`${lookup.run.sha.slice(0, 7)}\`), ` +
        `the last successful run on ${branch}.`,
      '',
      `| | ${codeSpan(lookup.branch, TABLE)} | This run | Change |`,
      '| --- | ---: | ---: | ---: |',
      ...comparison.rows.map((row) => {
        const change = formatChange(row);
        const flagged = !row.regressed
          ? change
          : `**${change}** ${row.enforced ? `❌ over ${formatLimit(row)}` : '🔺'}`;
        return `| ${figureName(row.label)} | ${formatFigure(row, row.base)} | ${formatFigure(row, row.current)} | ${flagged} |`;
      }),
    );
    const highlighted = comparison.rows.filter((r) => r.regressed && !r.enforced);
    if (highlighted.length > 0) {
      lines.push(
        '',
        `🔺 worse than ${highlighted.map(formatLimit).join(', ')}; set \`fail-on-regression\` to fail the check on it.`,
      );
    }
  }
  if (lookup.skipped.length > 0) {
    lines.push('', `Passed over: ${cell(lookup.skipped.join('; '))}.`);
  }
  return lines;
}

function figureName(label: string): string {
  const figure = FIGURE_NAMES[label];
  return figure ? `${figure.name} \`${figure.metric}\`` : label;
}

const TABLE = { table: true };

/** The agent table's columns of figures, aligned right. */
const NUMERIC_COLUMNS = new Set([
  'share',
  'start',
  'iterations',
  'requests',
  'failed',
  'peak cpu',
  'peak memory',
]);

/** The agent table's name and tags columns (report/run-report.ts agentTable). */
const AGENT_NAME_COLUMNS = new Set([1, 8]);

/**
 * One cell of the agent table: the name, tags and loss reason the agent
 * gave in a code span, our own figures as they are (issue 17.10).
 */
function agentCell(text: string, column: number): string {
  if (text === '-') return text;
  if (AGENT_NAME_COLUMNS.has(column)) return codeSpan(text, TABLE);
  if (text.startsWith('LOST: ')) return `LOST: ${codeSpan(text.slice('LOST: '.length), TABLE)}`;
  return markdownText(text);
}

/** Our own text (the baseline lookup's, from GitHub's API) safe inside a table cell. */
function cell(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/([|*])/g, '\\$1')
    .replace(/</g, '&lt;')
    .trim();
}
