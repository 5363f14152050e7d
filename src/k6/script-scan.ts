import type { Token } from 'acorn';

import type { MetricInfo, MetricType } from '../metrics/types.js';
import type { SourceOrder } from '../protocol/messages.js';
import {
  type ArchivedModule,
  forEachModule,
  type ModuleReader,
  tokensOf,
} from './archive-modules.js';
import { sourceOrderReader } from './source-order.js';

/**
 * What the coordinator learns from the test's source before the run, from
 * one pass over the archive's modules (each untarred and tokenized once).
 */
export interface ScriptScan {
  /** The warning for a script that reads `__VU` (vuNumberWarning), if it does. */
  vuWarning: string | undefined;
  /** Custom metrics declared as times (see timeMetricsReader). */
  timeMetrics: MetricInfo[];
  /** Built-in metrics the script adds samples to itself (see builtinWritesReader). */
  builtinWrites: Set<string>;
  /** Custom metrics declared with a literal name, and their types (see metricTypesReader). */
  metricTypes: MetricInfo[];
  /** Check and group names in source order (k6/source-order.ts). */
  sourceOrder: SourceOrder;
}

/**
 * Scans a k6 archive once for everything in ScriptScan.
 *
 * @param o.entry what to call the entry script in warnings (the user's path)
 * @param o.builtins the names of k6's built-in metrics
 */
export async function scanScript(
  archivePath: string,
  o: { entry: string; builtins: readonly string[] },
): Promise<ScriptScan> {
  const vu = globalUsesReader('__VU');
  const time = timeMetricsReader();
  const builtin = builtinWritesReader(o.builtins);
  const types = metricTypesReader();
  const order = sourceOrderReader();
  const readers: ModuleReader<unknown>[] = [vu, time, builtin, types, order];
  await forEachModule(archivePath, o.entry, (module) => {
    for (const reader of readers) reader.visit(module);
  });
  return {
    vuWarning: vuNumberWarning(vu.result()),
    timeMetrics: time.result(),
    builtinWrites: builtin.result(),
    metricTypes: types.result(),
    sourceOrder: order.result(),
  };
}

/** Where a script reads a global: the module as the user knows it, and the 1-based line. */
export interface GlobalUse {
  module: string;
  line: number;
}

/**
 * Every use of the global `name` (e.g. `__VU`) in the modules of a k6
 * archive. Comments, strings and property names (`obj.__VU`) do not count.
 */
function globalUsesReader(name: string): ModuleReader<GlobalUse[]> {
  const uses: GlobalUse[] = [];
  return {
    visit: (module) => {
      for (const line of useLines(module, name)) uses.push({ module: module.name, line });
    },
    result: () => uses,
  };
}

/**
 * The built-in metrics a k6 archive's modules may add samples to themselves:
 * `new Counter('http_reqs')` is k6's own http_reqs (its registry returns the
 * existing metric), so what k6 emits per request no longer bounds it. A
 * metric constructor called with anything but a plain string (a variable, a
 * template) may name any of them: then all are (`'*'`). Source the tokenizer
 * cannot read (TypeScript) is searched as text.
 */
function builtinWritesReader(builtins: readonly string[]): ModuleReader<Set<string>> {
  const written = new Set<string>();
  return {
    visit: (module) => {
      for (const name of metricConstructorNames(module)) {
        if (name === '*' || builtins.includes(name)) written.add(name);
      }
    },
    result: () => (written.has('*') ? new Set(['*', ...builtins]) : written),
  };
}

/** builtinWritesReader's result for one archive on its own. */
export async function builtinMetricWrites(
  archivePath: string,
  builtins: readonly string[],
): Promise<Set<string>> {
  const reader = builtinWritesReader(builtins);
  await forEachModule(archivePath, 'data', (module) => {
    reader.visit(module);
  });
  return reader.result();
}

const METRIC_CONSTRUCTORS = new Set(['Counter', 'Gauge', 'Rate', 'Trend']);

/** The first argument of every `new X(…)`: a string literal's value, or `*` for anything else. */
function metricConstructorNames({ source, tokens }: ArchivedModule): string[] {
  if (tokens) {
    const names: string[] = [];
    const text = (t: Token | undefined) => (t ? source.slice(t.start, t.end) : '');
    const label = (i: number) => tokens[i]?.type.label;
    tokens.forEach((token, i) => {
      if (token.type.label !== 'new') return;
      // `new Counter(…)` or `new metrics.Counter(…)`
      let j = i + 1;
      while (label(j) === 'name' && label(j + 1) === '.') j += 2;
      if (label(j) !== 'name' || label(j + 1) !== '(') return;
      const argument = tokens[j + 2];
      if (argument?.type.label === 'string') names.push(text(argument).slice(1, -1));
      else if (METRIC_CONSTRUCTORS.has(text(tokens[j]))) names.push('*');
    });
    return names;
  }
  const call = /\bnew\s+(?:[\w$]+\.)*([\w$]+)\s*\(\s*(?:(['"])(\w+)\2)?/g;
  return [...source.matchAll(call)].flatMap((m) =>
    m[3] !== undefined ? [m[3]] : METRIC_CONSTRUCTORS.has(m[1] ?? '') ? ['*'] : [],
  );
}

const METRIC_CLASSES: Record<string, MetricType> = {
  Counter: 'counter',
  Gauge: 'gauge',
  Rate: 'rate',
  Trend: 'trend',
};

/**
 * Custom metrics declared as times in the archive's modules: `new Trend('name', true)`
 * (or Counter, Gauge, Rate) with a literal name. k6's cloud output does not say
 * which metrics hold times; this lets the summary format them as k6 does. A
 * name built at run time, or a renamed import, is not found (its values then
 * show as plain numbers).
 */
function timeMetricsReader(): ModuleReader<MetricInfo[]> {
  const found = new Map<string, MetricInfo>();
  return {
    visit: (module) => {
      for (const info of timeDeclarationsIn(module.source, module.tokens)) {
        found.set(info.name, info);
      }
    },
    result: () => [...found.values()],
  };
}

/**
 * Custom metrics the archive's modules declare with a literal name and a class
 * imported from k6/metrics (`new Trend('x', true)`): the script's own word on
 * their types, so no agent can define one otherwise before the honest ones
 * (issue 17: an agent decides nothing for the run). A name declared with two
 * types is left out (k6 refuses such a script itself), as is source the
 * tokenizer cannot read.
 */
function metricTypesReader(): ModuleReader<MetricInfo[]> {
  const found = new Map<string, MetricInfo | null>();
  return {
    visit: (module) => {
      for (const info of metricDeclarationsIn(module.source, module.tokens)) {
        const seen = found.get(info.name);
        const same = seen && seen.type === info.type && seen.contains === info.contains;
        found.set(info.name, seen === undefined || same ? info : null);
      }
    },
    result: () => [...found.values()].filter((info): info is MetricInfo => info !== null),
  };
}

/** `new X('name')`, `new X('name', true|false)` where X is imported from k6/metrics. */
export function metricDeclarations(source: string): MetricInfo[] {
  return metricDeclarationsIn(source, tokensOf(source));
}

function metricDeclarationsIn(source: string, tokens: readonly Token[] | undefined): MetricInfo[] {
  if (!tokens) return [];
  const text = (t: Token | undefined) => (t ? source.slice(t.start, t.end) : '');
  const classes = k6MetricImports(tokens, text);
  const out: MetricInfo[] = [];
  for (let i = 0; i + 4 < tokens.length; i++) {
    if (tokens[i]?.type.label !== 'new') continue;
    const type = classes.get(text(tokens[i + 1]));
    const name = tokens[i + 3];
    if (type === undefined || text(tokens[i + 2]) !== '(' || name?.type.label !== 'string') {
      continue;
    }
    const after = [text(tokens[i + 4]), text(tokens[i + 5]), text(tokens[i + 6])];
    const isTime =
      after[0] === ')' ? false : after[0] === ',' && after[2] === ')' ? after[1] : undefined;
    if (isTime !== false && isTime !== 'true' && isTime !== 'false') continue;
    const literal = text(name).slice(1, -1);
    if (!METRIC_NAME.test(literal)) continue;
    out.push({ name: literal, type, contains: isTime === 'true' ? 'time' : 'default' });
  }
  return out;
}

/** `import { Trend, Counter as C } from 'k6/metrics'`: local name → metric type. */
function k6MetricImports(
  tokens: readonly Token[],
  text: (t: Token | undefined) => string,
): Map<string, MetricType> {
  const classes = new Map<string, MetricType>();
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i]?.type.label !== 'import' || text(tokens[i + 1]) !== '{') continue;
    let end = i + 2;
    while (end < tokens.length && text(tokens[end]) !== '}') end++;
    const from = tokens[end + 2];
    if (text(tokens[end + 1]) !== 'from' || !/^['"]k6\/metrics['"]$/.test(text(from))) continue;
    for (let j = i + 2; j < end; j++) {
      const imported = text(tokens[j]);
      if (!Object.hasOwn(METRIC_CLASSES, imported)) continue;
      const local = text(tokens[j + 1]) === 'as' ? text(tokens[j + 2]) : imported;
      const type = METRIC_CLASSES[imported];
      if (type !== undefined) classes.set(local, type);
    }
  }
  return classes;
}

/** `new <Class> ( '<name>' , true )` token by token; unreadable source yields nothing. */
export function timeDeclarations(source: string): MetricInfo[] {
  return timeDeclarationsIn(source, tokensOf(source));
}

function timeDeclarationsIn(source: string, tokens: readonly Token[] | undefined): MetricInfo[] {
  const out: MetricInfo[] = [];
  if (!tokens) return out;
  const text = (t: Token | undefined) => (t ? source.slice(t.start, t.end) : '');
  for (let i = 0; i + 5 < tokens.length; i++) {
    if (tokens[i]?.type.label !== 'new') continue;
    const cls = text(tokens[i + 1]);
    const type = Object.hasOwn(METRIC_CLASSES, cls) ? METRIC_CLASSES[cls] : undefined;
    const name = tokens[i + 3];
    if (type === undefined || text(tokens[i + 2]) !== '(' || name?.type.label !== 'string')
      continue;
    if (text(tokens[i + 4]) !== ',' || text(tokens[i + 5]) !== 'true') continue;
    // The token's text is the quoted literal: JSON-compatible for a plain name.
    const literal = text(name).slice(1, -1);
    if (METRIC_NAME.test(literal)) out.push({ name: literal, type, contains: 'time' });
  }
  return out;
}

/** k6's rule for metric names (metrics/registry.go). */
const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Lines where `name` is read as an identifier. JavaScript is tokenized (so
 * comments and strings are skipped, template expressions are not); source
 * the tokenizer cannot read (TypeScript) is searched as text.
 */
export function globalUseLines(source: string, name: string): number[] {
  return useLines({ source, tokens: tokensOf(source) }, name);
}

function useLines(
  { source, tokens }: Pick<ArchivedModule, 'source' | 'tokens'>,
  name: string,
): number[] {
  if (tokens) return identifierLines(source, tokens, name);
  const word = new RegExp(`(?<![\\w$.])${name}(?![\\w$])`);
  return source.split('\n').flatMap((text, i) => (word.test(text) ? [i + 1] : []));
}

function identifierLines(source: string, tokens: readonly Token[], name: string): number[] {
  const lines = new Set<number>();
  let previous: Token | undefined;
  for (const token of tokens) {
    const property = previous?.type.label === '.' || previous?.type.label === '?.';
    const text = source.slice(token.start, token.end);
    if (token.type.label === 'name' && text === name && !property && token.loc) {
      lines.add(token.loc.start.line);
    }
    previous = token;
  }
  return [...lines];
}

/**
 * The warning for scripts that read `__VU` in a run of several k6 instances:
 * k6 numbers `__VU` per instance (internal/js/bundle.go sets it to the local
 * VU id) and has no option to change that, so each value repeats on every
 * agent; `exec.vu.idInTest` is numbered across execution segments.
 */
function vuNumberWarning(uses: readonly GlobalUse[]): string | undefined {
  if (uses.length === 0) return undefined;
  const where = uses.slice(0, 5).map((u) => `${u.module}:${String(u.line)}`);
  const more = uses.length > where.length ? ` and ${String(uses.length - where.length)} more` : '';
  return (
    `the script reads __VU (${where.join(', ')}${more}): k6 numbers __VU per k6 instance, so ` +
    'every agent has its own VU 1, 2, …, and data picked by __VU (e.g. users[__VU - 1]) is ' +
    "used by every agent at once. Use exec.vu.idInTest from 'k6/execution' instead: it is " +
    'unique across the whole test.'
  );
}
