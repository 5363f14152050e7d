import type { KeyFigures } from '../metrics/key-figures.js';

/**
 * How much worse a figure may get: p(95) may rise and the request rate fall
 * by a fraction of the baseline's; the error rate may rise by an absolute
 * amount (0.01 is one percentage point).
 */
export interface RegressionLimits {
  p95?: number;
  errorRate?: number;
  requestRate?: number;
}

/** What is highlighted as a regression when no fail-on-regression limit says otherwise. */
export const DEFAULT_HIGHLIGHT: Required<RegressionLimits> = {
  p95: 0.1,
  errorRate: 0.01,
  requestRate: 0.1,
};

const LIMIT_KEYS = {
  p95: 'p95',
  'error-rate': 'errorRate',
  'request-rate': 'requestRate',
} as const;

const LIMITS_HELP =
  'use e.g. "p95=10%, error-rate=1%, request-rate=15%": p95 may rise and request-rate fall ' +
  'by that much of the baseline, error-rate may rise by that many percentage points';

/**
 * The fail-on-regression input: `key=N%` pairs separated by commas, spaces or
 * newlines; '' means none. Throws a message naming the bad part and the form.
 */
export function parseRegressionLimits(text: string): RegressionLimits {
  const limits: RegressionLimits = {};
  for (const part of text.split(/[\s,]+/).filter((p) => p !== '')) {
    const match = /^([a-z0-9-]+)=(\d+(?:\.\d+)?)%$/.exec(part);
    const key = match ? LIMIT_KEYS[match[1] as keyof typeof LIMIT_KEYS] : undefined;
    if (!match || key === undefined) {
      throw new Error(`"${part}" is not a regression limit: ${LIMITS_HELP}`);
    }
    if (limits[key] !== undefined) throw new Error(`"${match[1]}" is given twice`);
    limits[key] = Number(match[2]) / 100;
  }
  return limits;
}

export interface ComparisonRow {
  label: string;
  base: number | null;
  current: number | null;
  /** Relative change (p95, request rate) or difference (error rate); null when not comparable. */
  change: number | null;
  /** Worse than the limit (or the default highlight). */
  regressed: boolean;
  /** The limit it was judged against, and whether it came from fail-on-regression. */
  limit: number;
  enforced: boolean;
}

export interface Comparison {
  rows: ComparisonRow[];
  /** Rows worse than a fail-on-regression limit: these fail the check. */
  failures: ComparisonRow[];
}

/** This run against a baseline: each figure's change, and which are regressions. */
export function compareFigures(
  current: KeyFigures,
  base: KeyFigures,
  limits: RegressionLimits = {},
): Comparison {
  const relative = (b: number | null, c: number | null) =>
    b === null || c === null || b <= 0 ? null : (c - b) / b;
  const row = (
    label: string,
    key: keyof RegressionLimits,
    b: number | null,
    c: number | null,
    change: number | null,
    worse: (change: number) => number,
  ): ComparisonRow => {
    const enforced = limits[key] !== undefined;
    const limit = limits[key] ?? DEFAULT_HIGHLIGHT[key];
    // A tiny margin so a change of exactly the limit, read back from JSON, is not a regression.
    // A figure the baseline had and this run lacks (no HTTP request made) is one too.
    const regressed = change !== null ? worse(change) > limit + 1e-9 : b !== null && c === null;
    return { label, base: b, current: c, change, regressed, limit, enforced };
  };
  const rows = [
    row(
      'p95',
      'p95',
      base.p95Ms,
      current.p95Ms,
      relative(base.p95Ms, current.p95Ms),
      (change) => change,
    ),
    row(
      'error-rate',
      'errorRate',
      base.errorRate,
      current.errorRate,
      base.errorRate === null || current.errorRate === null
        ? null
        : current.errorRate - base.errorRate,
      (change) => change,
    ),
    row(
      'request-rate',
      'requestRate',
      base.requestRate,
      current.requestRate,
      relative(base.requestRate, current.requestRate),
      (change) => -change,
    ),
  ];
  return { rows, failures: rows.filter((r) => r.regressed && r.enforced) };
}

/** Each compared figure as a report names it: what it is, and the k6 metric it is read from. */
export const FIGURE_NAMES: Record<string, { name: string; metric: string }> = {
  p95: { name: 'p(95)', metric: 'http_req_duration' },
  'error-rate': { name: 'Error rate', metric: 'http_req_failed' },
  'request-rate': { name: 'Request rate', metric: 'http_reqs' },
};

/** "+25.0 %" or "+1.20 pp": a row's change as a reader wants it. */
export function formatChange(row: ComparisonRow): string {
  if (row.change === null) return 'n/a';
  const sign = row.change > 0 ? '+' : row.change < 0 ? '−' : '±';
  const size = Math.abs(row.change) * 100;
  return row.label === 'error-rate'
    ? `${sign}${size.toFixed(2)} pp`
    : `${sign}${size.toFixed(1)} %`;
}

/** A figure in its unit: "123.45 ms", "1.20 %", "512.3/s". */
export function formatFigure(row: Pick<ComparisonRow, 'label'>, value: number | null): string {
  if (value === null) return '–';
  if (row.label === 'p95') return `${value.toFixed(2)} ms`;
  if (row.label === 'error-rate') return `${(value * 100).toFixed(2)} %`;
  return `${value.toFixed(1)}/s`;
}

/** The limit as written in fail-on-regression, e.g. "p95=10%". */
export function formatLimit(row: ComparisonRow): string {
  return `${row.label}=${String(Math.round(row.limit * 1e4) / 100)}%`;
}

/** "p95 +30.0 % (over p95=20%), …": what crossed a fail-on-regression limit. */
export function describeFailures(failures: readonly ComparisonRow[]): string {
  return failures
    .map((row) => `${row.label} ${formatChange(row)} (over ${formatLimit(row)})`)
    .join(', ');
}

/** The comparison as plain text lines for a terminal, e.g. after the CLI's run report. */
export function renderComparisonText(name: string, comparison: Comparison): string {
  const rows = comparison.rows.map((row) => {
    const mark = !row.regressed ? '' : row.enforced ? `✗ over ${formatLimit(row)}` : '▲ regression';
    return [
      row.label,
      formatFigure(row, row.base),
      formatFigure(row, row.current),
      formatChange(row),
      mark,
    ];
  });
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const pad = (text: string, i: number) =>
    i === 0 ? text.padEnd(widths[0] ?? 0) : text.padStart(widths[i] ?? 0);
  const lines = rows.map((r) =>
    `  ${pad(r[0] ?? '', 0)}  ${pad(r[1] ?? '', 1)} → ${pad(r[2] ?? '', 2)}  ${pad(r[3] ?? '', 3)}  ${r[4] ?? ''}`.trimEnd(),
  );
  return `COMPARED WITH ${name}\n${lines.join('\n')}\n`;
}
