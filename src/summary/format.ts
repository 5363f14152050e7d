import type { MetricType, ValueType } from '../metrics/types.js';
import { printableName } from '../runtime/printable.js';

/**
 * The value formatting of k6 v2.2.0's end-of-test summary (internal/js/summary.js):
 * numbers, durations, bytes, rates, display widths, name sorting and ANSI
 * decoration, with the same JavaScript number semantics k6's runtime has.
 */

/** What formatting needs to know of a metric. */
export interface FormattedMetric {
  readonly type: MetricType;
  readonly contains: ValueType;
}

export const TITLE_PREFIX = '█';
export const SUBTITLE_PREFIX = '↳';
export const SUCCESS_MARK = '✓';
export const FAIL_MARK = '✗';

/** A metric's value as k6 prints it (humanizeValue). */
export function humanizeValue(value: number, metric: FormattedMetric, timeUnit: string): string {
  if (metric.type === 'rate') {
    // Truncated, not rounded, to two decimals.
    return (Math.trunc(value * 100 * 100) / 100).toFixed(2) + '%';
  }
  switch (metric.contains) {
    case 'data':
      return humanizeBytes(value);
    case 'time':
      return humanizeDuration(value, timeUnit);
    default:
      return toFixedNoTrailingZeros(value, 6);
  }
}

/** A trend column: `count` as a plain number, any other stat humanized. */
export function trendValue(
  value: number,
  stat: string,
  metric: FormattedMetric,
  timeUnit: string,
): string {
  return stat === 'count' ? String(value) : humanizeValue(value, metric, timeUnit);
}

/** Bytes in decimal units: `9 B`, `9.5 kB`, `714 kB`, `1.1 MB`. */
export function humanizeBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  if (bytes < 10) return `${String(bytes)} B`;
  const e = Math.floor(Math.log(bytes) / Math.log(1000));
  const suffix = String(units[e | 0]);
  const value = Math.floor((bytes / Math.pow(1000, e)) * 10 + 0.5) / 10;
  return `${value.toFixed(value < 10 ? 1 : 0)} ${suffix}`;
}

const TIME_UNITS: Readonly<Record<string, { unit: string; coef: number }>> = {
  s: { unit: 's', coef: 0.001 },
  ms: { unit: 'ms', coef: 1 },
  us: { unit: 'µs', coef: 1000 },
};

/** A duration in ms: in summaryTimeUnit (s, ms, us) with two decimals, else humanized. */
export function humanizeDuration(ms: number, timeUnit: string): string {
  const fixed = Object.hasOwn(TIME_UNITS, timeUnit) ? TIME_UNITS[timeUnit] : undefined;
  if (fixed) return (ms * fixed.coef).toFixed(2) + fixed.unit;
  return humanizeGenericDuration(ms);
}

function humanizeGenericDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 0.001) return `${String(Math.trunc(ms * 1000000))}ns`;
  if (ms < 1) return `${toFixedNoTrailingZerosTrunc(ms * 1000, 2)}µs`;
  if (ms < 1000) return `${toFixedNoTrailingZerosTrunc(ms, 2)}ms`;
  let result = `${toFixedNoTrailingZerosTrunc((ms % 60000) / 1000, ms > 60000 ? 0 : 2)}s`;
  let rest = Math.trunc(ms / 60000);
  if (rest < 1) return result;
  result = `${String(rest % 60)}m${result}`;
  rest = Math.trunc(rest / 60);
  if (rest < 1) return result;
  return `${String(rest)}h${result}`;
}

function toFixedNoTrailingZeros(value: number, precision: number): string {
  return String(parseFloat(value.toFixed(precision)));
}

function toFixedNoTrailingZerosTrunc(value: number, precision: number): string {
  const mult = Math.pow(10, precision);
  return toFixedNoTrailingZeros(Math.trunc(mult * value) / mult, precision);
}

/**
 * A string's width on a terminal as k6 counts it (strWidth): code points of
 * its NFKC form, ANSI escape sequences left out.
 */
export function strWidth(s: string): number {
  let inEsc = false;
  let inLongEsc = false;
  let width = 0;
  for (const char of s.normalize('NFKC')) {
    const code = char.charCodeAt(0);
    if (char === '\x1b') {
      inEsc = true;
      continue;
    }
    if (inEsc && char === '[') {
      inLongEsc = true;
      continue;
    }
    if (inEsc && inLongEsc && code >= 0x40 && code <= 0x7e) {
      inEsc = false;
      inLongEsc = false;
      continue;
    }
    if (inEsc && !inLongEsc && code >= 0x40 && code <= 0x5f) {
      inEsc = false;
      continue;
    }
    if (!inEsc && !inLongEsc) width++;
  }
  return width;
}

/** `metric{a:b}` shows as `  { a:b }` under its parent; a metric shows as its name. */
export function metricDisplayName(name: string): string {
  const at = name.indexOf('{');
  // A submetric's tag values come from the script: one printable line (issue 17.9).
  return at >= 0 ? `  { ${printableName(name.substring(at + 1, name.length - 1))} }` : name;
}

/** The part of a metric key before `{`. */
export function parentName(name: string): string {
  const at = name.indexOf('{');
  return at >= 0 ? name.slice(0, at) : name;
}

/**
 * k6's JavaScript runtime compares with String.prototype.localeCompare: the
 * root collation on NFD forms.
 */
const collator = new Intl.Collator('und');
export function localeCompare(a: string, b: string): number {
  return collator.compare(a.normalize('NFD'), b.normalize('NFD'));
}

/** Metric keys by name, each submetric right after its parent (sortMetricsByName). */
export function sortMetricsByName(names: Iterable<string>): string[] {
  return [...names].sort((lhs, rhs) => {
    const l = parentName(lhs);
    const r = parentName(rhs);
    return localeCompare(l, r) || localeCompare(lhs.substring(l.length), rhs.substring(r.length));
  });
}

/**
 * The order in which a JavaScript object lists keys inserted in `keys`'
 * order: array indices first, ascending, then the others as inserted.
 */
export function objectKeyOrder(keys: Iterable<string>): string[] {
  const indices: string[] = [];
  const others: string[] = [];
  for (const key of keys) (isArrayIndex(key) ? indices : others).push(key);
  indices.sort((a, b) => Number(a) - Number(b));
  return [...indices, ...others];
}

function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 2 ** 32 - 1;
}

const COLORS = { red: '31', green: '32', white: '37', cyan: '36' } as const;
const STYLES = { faint: '2' } as const;
export type Color = keyof typeof COLORS;

/** k6's ANSIFormatter: decoration only with colors enabled. */
export class Decorator {
  constructor(readonly enableColors: boolean) {}

  /**
   * `text` in a color; as in k6, an undefined text stays undefined without
   * colors and reads `undefined` with them.
   */
  decorate(text: string, color: Color, faint?: 'faint'): string;
  decorate(text: string | undefined, color: Color, faint?: 'faint'): string | undefined;
  decorate(text: string | undefined, color: Color, faint?: 'faint'): string | undefined {
    if (!this.enableColors) return text;
    const codes = faint ? `${STYLES[faint]};${COLORS[color]}` : COLORS[color];
    return `\x1b[${codes}m${String(text)}\x1b[0m`;
  }

  bold(text: string): string {
    return this.enableColors ? `\x1b[1m${text}\x1b[0m` : text;
  }
}
