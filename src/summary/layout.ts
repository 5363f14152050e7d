import {
  type Decorator,
  humanizeValue,
  metricDisplayName,
  sortMetricsByName,
  strWidth,
  trendValue,
} from './format.js';
import type { SummaryMetric } from './model.js';

/**
 * The metric lines of k6 v2.2.0's text summary (internal/js/summary.js
 * computeSummaryInfo, renderMetricLine and friends): shared column widths,
 * dotted names, trend columns and non-trend values.
 */

export interface LayoutOptions {
  readonly summaryTrendStats: readonly string[];
  readonly summaryTimeUnit: string;
}

/** k6's RenderContext: an indentation level, two spaces a level. */
export class Indent {
  constructor(readonly base = 0) {}

  level(level = 1): string {
    return ' '.repeat((this.base + level) * 2);
  }

  indent(text: string, level = 1): string {
    return this.level(level) + text;
  }

  deeper(increment = 1): Indent {
    return new Indent(this.base + increment);
  }
}

/**
 * The name column's width. k6 meant one width for the whole summary but its
 * reduce() has no initial value: with two metrics or more that width is NaN
 * and each block computes its own; with exactly one it is the metric's name,
 * and names get no dots at all.
 */
export type NameWidth = number | 'own' | 'none';

/** k6's SummaryInfo: every formatted value of a block of metrics and the column widths. */
export interface SummaryInfo {
  readonly trendStats: readonly string[];
  readonly maxNameWidth: number;
  readonly nonTrendValues: ReadonlyMap<string, string>;
  readonly nonTrendExtras: ReadonlyMap<string, readonly string[]>;
  readonly trendCols: ReadonlyMap<string, readonly string[]>;
  /** Trend values outside summaryTrendStats (threshold percentiles). */
  readonly trendKeys: ReadonlyMap<string, ReadonlyMap<string, string>>;
  readonly trendColMaxLens: readonly number[];
  readonly maxNonTrendValueLen: number;
  readonly nonTrendExtraMaxLens: readonly number[];
}

export function computeSummaryInfo(
  metrics: ReadonlyMap<string, SummaryMetric>,
  indent: Indent,
  options: LayoutOptions,
  width: NameWidth = 'own',
): SummaryInfo {
  const stats = options.summaryTrendStats;
  const unit = options.summaryTimeUnit;
  let maxNameWidth = typeof width === 'number' ? width : width === 'none' ? NaN : 0;
  const nonTrendValues = new Map<string, string>();
  const nonTrendExtras = new Map<string, string[]>();
  const trendCols = new Map<string, string[]>();
  const trendKeys = new Map<string, Map<string, string>>();
  const trendColMaxLens = stats.map(() => 0);
  let maxNonTrendValueLen = 0;
  const nonTrendExtraMaxLens: number[] = [];

  for (const [name, metric] of metrics) {
    if (width === 'own') {
      maxNameWidth = Math.max(maxNameWidth, strWidth(indent.indent(metricDisplayName(name))));
    }
    if (metric.type === 'trend') {
      const keys = new Map<string, string>();
      for (const [stat, value] of Object.entries(metric.values)) {
        if (!stats.includes(stat)) keys.set(stat, trendValue(value, stat, metric, unit));
      }
      const cols = stats.map((stat) => trendValue(metric.values[stat] ?? NaN, stat, metric, unit));
      cols.forEach((col, i) => {
        trendColMaxLens[i] = Math.max(trendColMaxLens[i] ?? 0, strWidth(col));
      });
      trendCols.set(name, cols);
      trendKeys.set(name, keys);
    } else {
      const [main = '', ...extras] = nonTrendValuesOf(metric, unit);
      nonTrendValues.set(name, main);
      maxNonTrendValueLen = Math.max(maxNonTrendValueLen, strWidth(main));
      nonTrendExtras.set(name, extras);
      extras.forEach((extra, i) => {
        nonTrendExtraMaxLens[i] = Math.max(nonTrendExtraMaxLens[i] ?? 0, strWidth(extra));
      });
    }
  }
  return {
    trendStats: stats,
    maxNameWidth,
    nonTrendValues,
    nonTrendExtras,
    trendCols,
    trendKeys,
    trendColMaxLens,
    maxNonTrendValueLen,
    nonTrendExtraMaxLens,
  };
}

/** A counter's, gauge's or rate's main value, then its extras (nonTrendMetricValueForSum). */
function nonTrendValuesOf(metric: SummaryMetric, unit: string): string[] {
  const v = (key: string) => metric.values[key] ?? NaN;
  const human = (key: string) => humanizeValue(v(key), metric, unit);
  switch (metric.type) {
    case 'counter':
      return [human('count'), `${human('rate')}/s`];
    case 'gauge':
      return [human('value'), `min=${human('min')}`, `max=${human('max')}`];
    case 'rate':
      return [human('rate'), `${String(v('passes'))} out of ${String(v('passes') + v('fails'))}`];
    default:
      return ['[no data]'];
  }
}

/** One line per metric, by name unless `sortByName` is false (renderMetrics). */
export function renderMetrics(
  metrics: ReadonlyMap<string, SummaryMetric>,
  info: SummaryInfo,
  fmt: Decorator,
  indent: Indent,
  sortByName = true,
): string[] {
  const names = sortByName ? sortMetricsByName(metrics.keys()) : [...metrics.keys()];
  return names.map((name) => {
    const metric = metrics.get(name);
    return metric ? renderMetricLine(name, metric, info, fmt, indent) : '';
  });
}

function renderMetricLine(
  name: string,
  metric: SummaryMetric,
  info: SummaryInfo,
  fmt: Decorator,
  indent: Indent,
): string {
  const displayed = metricDisplayName(name);
  const current = strWidth(displayed) + strWidth(indent.level());
  const dots = Math.max(3, info.maxNameWidth - current + 3);
  const dotted =
    displayed + fmt.decorate('.'.repeat(Number.isNaN(dots) ? 0 : dots) + ':', 'white', 'faint');
  const data = metric.type === 'trend' ? trendData(name, info, fmt) : nonTrendData(name, info, fmt);
  return indent.indent(`${dotted} ${data}`);
}

function trendData(name: string, info: SummaryInfo, fmt: Decorator): string {
  return (info.trendCols.get(name) ?? [])
    .map((col, i) => {
      const padding = ' '.repeat((info.trendColMaxLens[i] ?? 0) - strWidth(col));
      return `${String(info.trendStats[i])}=${fmt.decorate(col, 'cyan')}${padding}`;
    })
    .join(' ');
}

function nonTrendData(name: string, info: SummaryInfo, fmt: Decorator): string {
  const value = info.nonTrendValues.get(name) ?? '';
  const extras = info.nonTrendExtras.get(name) ?? [];
  let result = fmt.decorate(value, 'cyan') + ' '.repeat(info.maxNonTrendValueLen - strWidth(value));
  if (extras.length === 1) {
    result += ' ' + fmt.decorate(extras[0] ?? '', 'cyan', 'faint');
  } else if (extras.length > 1) {
    const parts = extras.map(
      (extra, i) =>
        fmt.decorate(extra, 'cyan', 'faint') +
        ' '.repeat((info.nonTrendExtraMaxLens[i] ?? 0) - strWidth(extra)),
    );
    result += ' ' + parts.join(' ');
  }
  return result;
}
