import { isMemoryHigh, isSaturated, loadCells } from '../coordinator/generator-load.js';
import type { RunOutcome } from '../coordinator/outcome.js';
import { MAX_LISTED_AGENTS } from '../defaults.js';
import { printableName } from '../runtime/printable.js';

/**
 * The distributed part of the end-of-test report, as plain text: who ran
 * which share, how close together they started, how each k6 ended, and the
 * verdict. Pure: the caller decides where it goes.
 */
export function renderRunReport(result: RunOutcome): string {
  const { header, rows } = agentTable(result);
  const listed = listedAgents(result);
  const skew = result.startSkewMs === undefined ? 'n/a' : `${result.startSkewMs.toFixed(1)} ms`;
  const unlisted = result.agents.length - listed.length;
  const unlistedProblems = result.agents.filter(
    (_, i) => !listed.includes(i) && hasProblem(result, i),
  ).length;
  return [
    `  █ DISTRIBUTED RUN: ${String(result.agents.length)} agents, start skew ${skew}` +
      ` (* ran setup and teardown)`,
    '',
    ...table(
      header,
      listed.map((i) => rows[i] ?? []),
    ).map((l) => `    ${l}`),
    ...(unlisted > 0
      ? [
          `    … ${String(unlisted)} more agents, not listed: ` +
            (unlistedProblems > 0
              ? `${String(unlistedProblems)} of them lost, marked, saturated or with a k6 exit other than 0 `
              : 'each ran its share and its k6 exited 0 ') +
            '(every agent is in the result file, --summary-json, and the HTML report)',
        ]
      : []),
    '',
    `  setup() ${result.setupRan ? 'ran once' : 'did not run'}, teardown() ${
      result.teardownRan ? 'ran once' : 'did not run'
    }`,
    `  result: exit code ${String(result.exitCode)}: ${printableName(result.message)}`,
    ...(result.warnings ?? []).map((w) => `  warning: ${printableName(w)}`),
    '',
  ].join('\n');
}

/** How many of the latest starters are listed among them. */
const LATEST_STARTERS = 3;

/**
 * Which agents' rows the text shows: all of them up to MAX_LISTED_AGENTS;
 * beyond, agent 1 (it ran setup() and teardown()), every agent lost, marked
 * or whose k6 did not exit 0, and the latest starters, in agent order.
 */
function listedAgents(result: RunOutcome): number[] {
  const all = result.agents.map((_, i) => i);
  if (result.agents.length <= MAX_LISTED_AGENTS) return all;
  const worth = new Set<number>([0]);
  const latest = all
    .filter((i) => result.agents[i]?.startedAt !== undefined)
    .sort((x, y) => (result.agents[y]?.startedAt ?? 0) - (result.agents[x]?.startedAt ?? 0))
    .slice(0, LATEST_STARTERS);
  // Problems first, then the latest starters, up to the limit (300 saturated agents stay readable).
  for (const i of [...all.filter((i) => hasProblem(result, i)), ...latest]) {
    if (worth.size >= MAX_LISTED_AGENTS) break;
    worth.add(i);
  }
  return [...worth].sort((x, y) => x - y);
}

/** Lost, marked, saturated, or its k6 did not exit 0. */
function hasProblem(result: RunOutcome, i: number): boolean {
  const a = result.agents[i];
  if (a === undefined) return false;
  return (
    a.lost !== undefined ||
    (a.notes?.length ?? 0) > 0 ||
    a.k6Exit?.code !== 0 ||
    isSaturated(a.load) ||
    isMemoryHigh(a.load)
  );
}

/**
 * The per-agent table, one row of plain-text cells per agent (`*`: ran setup
 * and teardown), shared by the text, Markdown and HTML reports; a `notes`
 * column when an agent is marked (issue 17.5). Names, tags and loss reasons
 * come from agents: one line each, printable (issue 17.9).
 */
export function agentTable(result: RunOutcome): { header: string[]; rows: string[][] } {
  const firstStart = Math.min(...result.agents.map((a) => a.startedAt ?? Infinity));
  const rows = result.agents.map((a) => [
    `${String(a.index + 1)}${a.leader ? '*' : ''}`,
    printableName(a.name),
    a.segment ?? '-',
    a.share === undefined ? '-' : `${(a.share * 100).toFixed(1)}%`,
    a.startedAt === undefined ? '-' : `+${(a.startedAt - firstStart).toFixed(1)} ms`,
    a.totals ? String(a.totals.iterations) : '-',
    a.totals ? String(a.totals.httpReqs) : '-',
    a.totals ? String(a.totals.httpReqFailures) : '-',
    Object.entries(a.tags)
      .map(([k, v]) => `${k}=${printableName(v)}`)
      .join(' ') || '-',
    a.lost ? `LOST: ${printableName(a.lost)}` : a.k6Exit ? exitText(a.k6Exit) : '-',
  ]);
  // Its machine's peaks (issue 20.7), when agents reported them.
  const load = result.agents.some((a) => a.load);
  if (load) {
    result.agents.forEach((a, i) => rows[i]?.push(...loadCells(a.load)));
  }
  // Only when there is something to say: what an agent reported that cannot be, or an outlier share.
  const notes = result.agents.some((a) => a.notes?.length);
  if (notes) result.agents.forEach((a, i) => rows[i]?.push(a.notes?.join('; ') || '-'));
  const header = [
    'agent',
    'name',
    'segment',
    'share',
    'start',
    'iterations',
    'requests',
    'failed',
    'tags',
    'k6 exit',
    ...(load ? ['peak cpu', 'peak memory'] : []),
    ...(notes ? ['notes'] : []),
  ];
  return { header, rows };
}

function exitText(exit: { code: number | null; signal: string | null; description: string }) {
  return exit.code === null ? (exit.signal ?? 'signal') : String(exit.code);
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
