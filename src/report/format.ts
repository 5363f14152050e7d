/** Formatters the Markdown and HTML reports share: the verdict's word, values and durations. */
import type { RunOutcome } from '../coordinator/outcome.js';
import { K6_EXIT_CODES } from '../k6/exit-codes.js';
import { humanizeValue } from '../summary/format.js';
import type { SummaryMetric } from '../summary/model.js';

export type Verdict = 'passed' | 'failed' | 'aborted';

export function verdictOf(result: Pick<RunOutcome, 'exitCode' | 'aborted'>): Verdict {
  if (result.exitCode === 0) return 'passed';
  return result.aborted ? 'aborted' : 'failed';
}

/** A threshold's aggregate as the summary shows it, e.g. `p(95)` of a trend. */
export function thresholdValue(metric: SummaryMetric, source: string, unit: string): string {
  const agg = (source.split(/[=><!]/)[0] ?? '').trim();
  const key = metric.type === 'gauge' ? 'value' : agg;
  const value = metric.values[key];
  if (value === undefined) return '-';
  if (metric.type === 'counter' && agg === 'rate') return `${round(value)}/s`;
  if (metric.type === 'counter') return String(value);
  return humanizeValue(value, metric, unit);
}

/** A metric's values on one line, as the reports' key metrics table shows them. */
export function metricValue(m: SummaryMetric, unit: string): string {
  const v = m.values;
  switch (m.type) {
    case 'counter':
      return m.contains === 'data'
        ? `${humanizeValue(v.count ?? 0, m, unit)} (${humanizeValue(v.rate ?? 0, m, unit)}/s)`
        : `${String(v.count ?? 0)} (${round(v.rate ?? 0)}/s)`;
    case 'rate':
      return `${humanizeValue(v.rate ?? 0, m, unit)} (${String(v.passes ?? 0)} of ${String((v.passes ?? 0) + (v.fails ?? 0))})`;
    case 'gauge':
      return `${humanizeValue(v.value ?? 0, m, unit)} (min ${humanizeValue(v.min ?? 0, m, unit)}, max ${humanizeValue(v.max ?? 0, m, unit)})`;
    case 'trend':
      return Object.entries(v)
        .map(
          ([stat, value]) =>
            `${stat}=${stat === 'count' ? String(value) : humanizeValue(value, m, unit)}`,
        )
        .join(' ');
  }
}

/** k6's name for an exit code, e.g. `thresholds-failed` for 99. */
export function exitName(code: number): string {
  const name = Object.entries(K6_EXIT_CODES).find(([, c]) => c === code)?.[0];
  return name ?? 'exit code';
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}
