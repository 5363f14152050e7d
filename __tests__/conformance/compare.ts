import type { ConformanceCase } from './cases.js';
import type { Observation } from './runner.js';

/** One figure that differs between standalone k6 and the distributed run. */
export interface Difference {
  what: string;
  k6: string;
  agents: string;
}

/**
 * Everything the suite compares (README.md beside this file says why each
 * tolerance is what it is): exit code, the end-of-test text summary's
 * sections, k6's error and warning messages, the keys, counts and threshold
 * verdicts of --summary-export and handleSummary() data, and the test's
 * duration.
 */
export function compare(k6: Observation, agents: Observation, c: ConformanceCase): Difference[] {
  const relative = countTolerance(k6, c);
  const extraTick = gaugesOneTickApart(k6, agents);
  const shown = (o: Observation) => withoutGauges(summaryItems(o.stdout), extraTick);
  const data = { relative, c, extraTick };
  return [
    ...(k6.exitCode === agents.exitCode
      ? []
      : [{ what: 'exit code', k6: String(k6.exitCode), agents: String(agents.exitCode) }]),
    ...compareSets('summary', shown(k6), shown(agents)),
    ...compareOrder(summaryItems(k6.stdout), summaryItems(agents.stdout)),
    ...compareMessages(k6, agents),
    ...compareData('--summary-export', k6.summaryExport, agents.summaryExport, data),
    ...compareData('handleSummary()', k6.handleSummary, agents.handleSummary, data),
    ...compareDuration(k6, agents, c),
  ];
}

/** A readable table of one case's differences. */
export function formatTable(title: string, differences: readonly Difference[]): string {
  const rows = [
    { what: 'what differs', k6: 'k6 run', agents: 'run --agents 3' },
    ...differences.map((d) => ({ what: d.what, k6: clip(d.k6), agents: clip(d.agents) })),
  ];
  const width = (key: keyof Difference) => Math.max(...rows.map((r) => r[key].length));
  const [w1, w2] = [width('what'), width('k6')];
  const lines = rows.map((r) => `  ${r.what.padEnd(w1)}  ${r.k6.padEnd(w2)}  ${r.agents}`);
  return [`${title}: ${differences.length} difference(s)`, ...lines].join('\n');
}

function clip(s: string): string {
  return s.length > 110 ? `${s.slice(0, 107)}...` : s;
}

// ── the text summary ────────────────────────────────────────────────────────

/**
 * What the end-of-test text summary shows, as names: section headings (█ ...),
 * metric groups (HTTP, CUSTOM, ...), metric and submetric names, checks and
 * thresholds with their ✓/✗. Values are left out: they are compared from the
 * data. Our own "DISTRIBUTED RUN" section is an addition, not a difference.
 */
export function summaryItems(stdout: string): Set<string> {
  const items = new Set<string>();
  let section = '';
  for (const line of stdout.split('\n')) {
    const heading = /^\s*█ (.+?)\s*$/.exec(line);
    if (heading) section = heading[1] ?? '';
    if (section.startsWith('DISTRIBUTED RUN')) continue;
    const item =
      heading?.[1] ??
      /^\s{2,}([A-Z][A-Z ]+[A-Z])\s*$/.exec(line)?.[1] ??
      /^\s+(\S.*?)\.{2,}:/.exec(line)?.[1]?.replace(/^\{ /, '  { ') ??
      /^\s+([✓✗] .+?)\s*$/.exec(line)?.[1]?.replace(/^([✓✗] '[^']+').*$/, '$1');
    if (item !== undefined) items.add(section === item ? `█ ${item}` : `${section}: ${item}`);
  }
  return items;
}

/**
 * The order k6 lists checks and group sections in (first seen: issue 18.2),
 * when both show the same ones (else compareSets has said so already).
 * Thresholds and metrics are left out: their order is by name in both.
 */
function compareOrder(k6: Set<string>, agents: Set<string>): Difference[] {
  const ordered = (items: Set<string>) =>
    [...items].filter((i) => !i.startsWith('THRESHOLDS') && /^█ |: [✓✗] /.test(i));
  const [a, b] = [ordered(k6), ordered(agents)];
  if (a.length !== b.length || new Set([...a, ...b]).size !== a.length) return [];
  const at = a.findIndex((item, i) => item !== b[i]);
  if (at < 0) return [];
  return [
    { what: `summary: order at item ${String(at + 1)}`, k6: a[at] ?? '-', agents: b[at] ?? '-' },
  ];
}

function compareSets(what: string, k6: Set<string>, agents: Set<string>): Difference[] {
  const only = (a: Set<string>, b: Set<string>) => [...a].filter((x) => !b.has(x)).join(' | ');
  const [k6Only, agentsOnly] = [only(k6, agents), only(agents, k6)];
  if (!k6Only && !agentsOnly) return [];
  return [{ what: `${what}: shown by one only`, k6: k6Only || '-', agents: agentsOnly || '-' }];
}

// ── k6's messages ───────────────────────────────────────────────────────────

const K6_LOG = /level=(error|warning) msg="((?:[^"\\]|\\.)*)"(.*)$/;
/** A line an agent forwarded (`[local-2] ...`), as opposed to the coordinator's own. */
const FORWARDED = /^\[[^\]]+\] /;

/**
 * k6's error and warning messages (logfmt), without stack traces and paths,
 * keyed by text; the value says whether it is about the whole run (no
 * `source=`: crossed thresholds, test.abort()) rather than one VU's code.
 */
function k6Messages(lines: readonly string[]): Map<string, boolean> {
  const messages = new Map<string, boolean>();
  for (const line of lines) {
    const match = K6_LOG.exec(line);
    if (!match) continue;
    const text = (JSON.parse(`"${match[2] ?? ''}"`) as string).split('\n')[0] ?? '';
    const key = `${match[1] ?? ''}: ${text.replace(/ at [\w.$<>]*\s?\(?file:\/\/.*$/, '')}`;
    messages.set(key, !(match[3] ?? '').includes('source='));
  }
  return messages;
}

/**
 * Every message standalone k6 logs must reach the user of the distributed
 * run, in any form that contains its text: a message about the whole run
 * from the coordinator itself (an agent's log may be another machine's job),
 * one from VU code at least forwarded from an agent. Every message an agent's
 * k6 logs must be one standalone k6 logs too.
 */
function compareMessages(k6: Observation, agents: Observation): Difference[] {
  const lines = `${agents.stdout}\n${agents.stderr}`.split('\n');
  const everything = lines.join('\n');
  const coordinator = lines.filter((l) => !FORWARDED.test(l)).join('\n');
  const expected = k6Messages(k6.stderr.split('\n'));
  const missing = [...expected].filter(
    ([m, runLevel]) => !(runLevel ? coordinator : everything).includes(m.replace(/^\w+: /, '')),
  );
  const extra = [...k6Messages(lines.filter((l) => l.includes('[k6]'))).keys()].filter(
    (m) => !expected.has(m),
  );
  return [
    ...missing.map(([m, runLevel]) => ({
      what: runLevel ? 'k6 message, from the coordinator' : 'k6 message',
      k6: m,
      agents: 'missing',
    })),
    ...extra.map((m) => ({ what: 'k6 message on an agent', k6: 'not logged', agents: m })),
  ];
}

// ── --summary-export and handleSummary() data ───────────────────────────────

type Rule = 'count' | 'exact' | 'presence';

/** How a leaf of the data is compared, by its path. */
function ruleFor(path: readonly string[]): Rule {
  const last = path.at(-1) ?? '';
  if (path.includes('thresholds') || path[0] === 'setup_data') return 'exact';
  if (path[0] === 'metrics' && ['vus', 'vus_max'].includes(path[1] ?? '')) return 'exact';
  if (['count', 'passes', 'fails'].includes(last)) return 'count';
  // Values (durations, rates, bytes), ids and options: their keys are compared.
  return 'presence';
}

/**
 * vus value and max one apart: a VU caught busy, or not, by a tick that falls
 * on an iteration's start (ConformanceCase.busyVuAtTick).
 */
function isBusyVuSpread(path: readonly string[], x: unknown, y: unknown): boolean {
  const figure = path[2] ?? '';
  return (
    path[0] === 'metrics' &&
    path[1] === 'vus' &&
    ['value', 'max'].includes(figure) &&
    typeof x === 'number' &&
    typeof y === 'number' &&
    Math.abs(x - y) <= 1
  );
}

/**
 * A nested JSON value as path → leaf, objects included (as "{}") so a missing
 * metric is one difference, not one per value. Arrays of named things (groups,
 * checks) are keyed by name: their order is not part of the data.
 */
function flatten(
  value: unknown,
  path: string[] = [],
  out = new Map<string, unknown>(),
): Map<string, unknown> {
  const key = path.join(' › ');
  if (isNamedList(value)) {
    return flatten(Object.fromEntries(value.map((v) => [v.name, v])), path, out);
  }
  if (typeof value === 'object' && value !== null) {
    if (path.length > 0) out.set(key, '{}');
    for (const [k, v] of Object.entries(value)) flatten(v, [...path, k], out);
  } else {
    out.set(key, value);
  }
  return out;
}

function isNamedList(value: unknown): value is { name: string }[] {
  return (
    Array.isArray(value) &&
    value.every((v: unknown) => typeof (v as { name?: unknown } | null)?.name === 'string')
  );
}

function compareData(
  what: string,
  k6: unknown,
  agents: unknown,
  { relative, c, extraTick }: { relative: number; c: ConformanceCase; extraTick: Set<string> },
): Difference[] {
  if (k6 === undefined && agents === undefined) return [];
  if (k6 === undefined || agents === undefined) {
    const state = (v: unknown) => (v === undefined ? 'not written' : 'written');
    return [{ what, k6: state(k6), agents: state(agents) }];
  }
  const [a, b] = [flatten(k6), flatten(agents)];
  const out: Difference[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const path = key.split(' › ');
    if (path[0] === 'metrics' && extraTick.has(path[1] ?? '')) continue;
    const parent = path.slice(0, -1).join(' › ');
    const [x, y] = [a.get(key), b.get(key)];
    if (!a.has(key) || !b.has(key)) {
      if (parent && a.has(parent) !== b.has(parent)) continue;
      out.push({
        what: `${what} ${key}`,
        k6: a.has(key) ? 'present' : 'absent',
        agents: b.has(key) ? 'present' : 'absent',
      });
      continue;
    }
    const rule = ruleFor(key.split(' › '));
    if (rule === 'presence' || sameValue(rule, x, y, relative)) continue;
    if (c.busyVuAtTick && isBusyVuSpread(key.split(' › '), x, y)) continue;
    out.push({ what: `${what} ${key}`, k6: JSON.stringify(x), agents: JSON.stringify(y) });
  }
  return out;
}

function sameValue(rule: Rule, x: unknown, y: unknown, relative: number): boolean {
  if (rule === 'exact' || typeof x !== 'number' || typeof y !== 'number') {
    return JSON.stringify(x) === JSON.stringify(y);
  }
  // Zero and non-zero never match: a failure k6 never had is a difference.
  if ((x === 0) !== (y === 0)) return false;
  return Math.abs(x - y) <= Math.ceil(x * relative);
}

/**
 * Counts of time-based cases may differ by what k6 itself does differently
 * from run to run: each VU's iteration in flight at the end either completes
 * or not (vus_max iterations), plus 10 % of scheduling jitter on a loaded
 * machine. Iteration-based cases are exact.
 */
function countTolerance(k6: Observation, c: ConformanceCase): number {
  if (!c.timeBased) return 0;
  const metrics = metricsOf(k6);
  const vusMax = metrics?.vus_max?.max ?? 0;
  const iterations = metrics?.iterations?.count ?? 0;
  return 0.1 + (iterations > 0 ? vusMax / iterations : 0);
}

// ── vus and vus_max: a last tick at the run's end ───────────────────────────

/**
 * k6 samples vus and vus_max once a second, from before it initializes its
 * VUs (execution.Scheduler.Init); on a loaded machine its ticker fires late. A
 * run that ends within this long of a whole second has its last tick in some
 * k6 runs and not in others: k6's example jwt.js (one iteration of sleep(1),
 * ending 1.00x s in) showed vus and vus_max in most CI runs and none in one.
 */
const TICK_DOUBT_MS = 150;

/**
 * The gauges (vus, vus_max) whose figures differ by exactly one last tick
 * between the two runs, when one of them ended so near a whole second that
 * k6 itself takes that tick or not: the run with one more tick has it as its
 * value, and its min and max are the other's with that value added (or it is
 * its only tick). Any other difference is still one.
 */
function gaugesOneTickApart(k6: Observation, agents: Observation): Set<string> {
  const near = (d: number | undefined) => {
    if (d === undefined) return false;
    const past = d % 1000;
    return past < TICK_DOUBT_MS || past > 1000 - TICK_DOUBT_MS;
  };
  const out = new Set<string>();
  if (!near(durationMs(k6)) && !near(durationMs(agents))) return out;
  for (const gauge of ['vus', 'vus_max']) {
    const [a, b] = [gaugeOf(k6, gauge), gaugeOf(agents, gauge)];
    if (oneMoreTick(a, b) || oneMoreTick(b, a)) out.add(gauge);
  }
  return out;
}

interface GaugeFigures {
  value: number;
  min: number;
  max: number;
}

function oneMoreTick(more: GaugeFigures | undefined, fewer: GaugeFigures | undefined): boolean {
  if (!more) return false;
  if (!fewer) return more.min === more.value && more.max === more.value;
  return (
    more.min === Math.min(fewer.min, more.value) && more.max === Math.max(fewer.max, more.value)
  );
}

function gaugeOf(o: Observation, name: string): GaugeFigures | undefined {
  const g = metricsOf(o)?.[name];
  return g && [g.value, g.min, g.max].every((v) => typeof v === 'number')
    ? (g as unknown as GaugeFigures)
    : undefined;
}

/** The summary's items without the gauges excused above. */
function withoutGauges(items: Set<string>, excused: Set<string>): Set<string> {
  if (excused.size === 0) return items;
  return new Set([...items].filter((i) => !excused.has(/: (\S+)$/.exec(i)?.[1] ?? '')));
}

// ── the test's duration ─────────────────────────────────────────────────────

/**
 * state.testRunDurationMs from handleSummary() data; without it, the duration
 * k6 divided every counter's rate by (iterations.count / iterations.rate).
 * Equal within 5 % or 100 ms; time-based runs wait for the iterations in
 * flight at the end, which k6 itself does differently from run to run: one
 * more iteration's time (k6's iteration_duration max).
 */
function compareDuration(k6: Observation, agents: Observation, c: ConformanceCase): Difference[] {
  const [x, y] = [durationMs(k6), durationMs(agents)];
  if (c.randomDuration || (x === undefined && y === undefined)) return [];
  const inFlight = c.timeBased ? (metricsOf(k6)?.iteration_duration?.max ?? 0) : 0;
  if (x !== undefined && y !== undefined && Math.abs(x - y) <= Math.max(100, 0.05 * x) + inFlight) {
    return [];
  }
  const show = (v: number | undefined) => (v === undefined ? 'unknown' : `${Math.round(v)} ms`);
  return [{ what: 'testRunDurationMs', k6: show(x), agents: show(y) }];
}

function durationMs(o: Observation): number | undefined {
  const state = (o.handleSummary as { state?: { testRunDurationMs?: number } } | undefined)?.state;
  if (state?.testRunDurationMs !== undefined) return state.testRunDurationMs;
  const iterations = metricsOf(o)?.iterations;
  const [count, rate] = [iterations?.count ?? 0, iterations?.rate ?? 0];
  return rate > 0 ? (count / rate) * 1000 : undefined;
}

/** The export's metrics: name → figure → number (the legacy export is flat per metric). */
function metricsOf(o: Observation): Record<string, Record<string, number> | undefined> | undefined {
  return (o.summaryExport as { metrics?: Record<string, Record<string, number>> } | undefined)
    ?.metrics;
}
