import {
  Decorator,
  FAIL_MARK,
  localeCompare,
  objectKeyOrder,
  parentName,
  SUBTITLE_PREFIX,
  SUCCESS_MARK,
  sortMetricsByName,
  TITLE_PREFIX,
} from './format.js';
import {
  computeSummaryInfo,
  Indent,
  type LayoutOptions,
  type NameWidth,
  renderMetrics,
  type SummaryInfo,
} from './layout.js';
import {
  buildSummary,
  type EndOfTestSummary,
  type SummaryCheck,
  type SummaryChecks,
  type SummaryGroup,
  type SummaryMetric,
  type SummaryThreshold,
  SECTIONS,
  type Section,
  type SummaryMode,
} from './model.js';
import type { SummarySource } from './source.js';
import { printableName } from '../runtime/printable.js';

/**
 * k6 v2.2.0's end-of-test text summary (internal/js/summary.js
 * generateTextSummary), rendered from merged data.
 */

export interface TextSummaryOptions {
  readonly mode: SummaryMode;
  /**
   * Default as k6 decides (internal/cmd/run.go): colors unless --no-color,
   * and only when stdout is a terminal.
   */
  readonly enableColors?: boolean;
}

/**
 * What k6 writes to stdout at the end of a test without handleSummary():
 * `'\n' + textSummary + '\n\n'` (internal/js/summary-wrapper.js). Nothing
 * when the run has no metric at all (e.g. the script's init code threw):
 * k6's summary.js then fails on a reduce() of no names and prints nothing.
 */
export function renderTextSummary(source: SummarySource, options: TextSummaryOptions): string {
  const summary = buildSummary(source, options.mode);
  if (metricNames(summary).size === 0) return '';
  const enableColors =
    options.enableColors ?? (!source.options.noColor && source.state.isStdOutTTY);
  return `\n${textSummary(summary, { ...source.options, enableColors })}\n\n`;
}

/** k6's textSummary() of a summary; empty without a metric to show. */
export function textSummary(
  summary: EndOfTestSummary,
  options: LayoutOptions & { readonly enableColors: boolean },
): string {
  if (metricNames(summary).size === 0) return '';
  return new SummaryTextBuilder(summary, options).build();
}

interface Block {
  readonly title: string;
  readonly content: readonly string[];
}

class SummaryTextBuilder {
  readonly #fmt: Decorator;
  readonly #options: LayoutOptions;
  readonly #width: NameWidth;
  readonly #top = new Indent(0);
  readonly #sections: Block[] = [];

  constructor(
    summary: EndOfTestSummary,
    options: LayoutOptions & { readonly enableColors: boolean },
  ) {
    this.#fmt = new Decorator(options.enableColors);
    this.#options = options;
    this.#width = globalNameWidth(summary);
    if (summary.thresholds.size > 0) {
      this.#sections.push({
        title: 'THRESHOLDS',
        content: this.#thresholds(summary.thresholds, this.#top.deeper()),
      });
    }
    this.#sections.push({
      title: 'TOTAL RESULTS',
      content: [
        ...this.#checks(summary.root.checks, this.#top),
        ...this.#metrics(summary.root.metrics, this.#top),
      ],
    });
    for (const name of objectKeyOrder(summary.root.groups.keys())) {
      const group = summary.root.groups.get(name);
      if (group) {
        this.#sections.push({
          title: `GROUP: ${printableName(name)}`,
          content: this.#group(group),
        });
      }
    }
    for (const name of [...summary.scenarios.keys()].sort(localeCompare)) {
      const scenario = summary.scenarios.get(name);
      if (scenario) {
        this.#sections.push({
          title: `SCENARIO: ${printableName(name)}`,
          content: this.#group(scenario),
        });
      }
    }
  }

  build(): string {
    let out = '';
    for (const section of this.#sections) {
      for (const item of [this.#title(section.title, this.#top), ...section.content, '\n']) {
        out += item === '\n' ? item : `\n${item}`;
      }
    }
    return out;
  }

  #title(title: string, indent: Indent, prefix = TITLE_PREFIX): string {
    return indent.indent(`${prefix} ${this.#fmt.bold(title)} \n`);
  }

  #thresholds(thresholds: ReadonlyMap<string, SummaryThreshold>, indent: Indent): string[] {
    const metrics = new Map([...thresholds].map(([name, t]) => [name, t.metric]));
    const info = computeSummaryInfo(metrics, indent, this.#options);
    const lines: string[] = [];
    for (const name of sortMetricsByName(metrics.keys())) {
      const parent = parentName(name);
      const isSubmetric = name.length > parent.length;
      const nested = isSubmetric && metrics.has(parent);
      const inner = nested ? indent.deeper() : indent;
      lines.push(inner.indent(printableName(nested ? name.substring(parent.length) : name)));
      const threshold = thresholds.get(name);
      if (!threshold) continue;
      for (const { source, ok } of threshold.thresholds) {
        const status = ok
          ? this.#fmt.decorate(SUCCESS_MARK, 'green')
          : this.#fmt.decorate(FAIL_MARK, 'red');
        const text = this.#fmt.decorate(`'${printableName(source.trim())}'`, 'white');
        const value = this.#thresholdValue(threshold.metric, source, info);
        lines.push(inner.indent([status, text, value].join(' ')));
      }
      lines.push('\n');
    }
    return lines;
  }

  /** `agg=value`: the value the threshold's aggregation reads, as the summary shows it. */
  #thresholdValue(metric: SummaryMetric, source: string, info: SummaryInfo): string {
    const agg = (source.split(/[=><]/)[0] ?? '').trim();
    let value: string | undefined;
    switch (metric.type) {
      case 'trend': {
        const at = info.trendStats.indexOf(agg);
        value =
          at !== -1
            ? info.trendCols.get(metric.name)?.[at]
            : info.trendKeys.get(metric.name)?.get(agg);
        break;
      }
      case 'counter':
        value =
          agg === 'count'
            ? info.nonTrendValues.get(metric.name)
            : info.nonTrendExtras.get(metric.name)?.[0];
        break;
      default:
        value = info.nonTrendValues.get(metric.name);
    }
    // Array.join writes an undefined value as nothing.
    return `${this.#fmt.decorate(agg, 'white')}=${this.#fmt.decorate(value, 'cyan') ?? ''}`;
  }

  #checks(checks: SummaryChecks | undefined, indent: Indent): string[] {
    if (!checks) return [];
    const inner = indent.deeper();
    const metrics = new Map(checks.metrics.map((m) => [m.name, m]));
    const info = computeSummaryInfo(metrics, inner, this.#options);
    return [
      ...renderMetrics(metrics, info, this.#fmt, inner, false),
      '\n',
      ...checks.ordered.map((check) => this.#check(check, inner)),
      '\n',
    ];
  }

  #check(check: SummaryCheck, indent: Indent): string {
    if (check.fails === 0) {
      return indent.indent(
        this.#fmt.decorate(`${SUCCESS_MARK} ${printableName(check.name)}`, 'green'),
      );
    }
    const pct = Math.floor((100 * check.passes) / (check.passes + check.fails));
    const name = this.#fmt.decorate(`${FAIL_MARK} ${printableName(check.name)}`, 'red');
    const results = this.#fmt.decorate(
      `${SUBTITLE_PREFIX}  ${String(pct)}% — ${SUCCESS_MARK} ${String(check.passes)} / ${FAIL_MARK} ${String(check.fails)}`,
      'red',
    );
    return `${indent.indent(name)}\n${indent.indent(results, indent.base + 1)}`;
  }

  #metrics(
    sections: ReadonlyMap<Section, ReadonlyMap<string, SummaryMetric>>,
    at: Indent,
  ): string[] {
    const indent = at.deeper();
    const all = new Map<string, SummaryMetric>();
    for (const metrics of sections.values()) for (const [k, m] of metrics) all.set(k, m);
    const info = computeSummaryInfo(all, indent, this.#options, this.#width);
    const shown = SECTIONS.filter((s) => (sections.get(s)?.size ?? 0) > 0);
    const ordered = shown.includes('custom')
      ? ['custom' as const, ...shown.filter((s) => s !== 'custom')]
      : shown;
    return ordered.flatMap((section) => [
      indent.indent(this.#fmt.bold(section.toUpperCase())),
      ...renderMetrics(sections.get(section) ?? new Map(), info, this.#fmt, indent),
      '\n',
    ]);
  }

  #group(group: SummaryGroup, indent = this.#top): string[] {
    return [
      ...this.#checks(group.checks, indent),
      ...this.#metrics(group.metrics, indent),
      ...this.#nested(group.groups, indent.deeper()),
    ];
  }

  #nested(groups: ReadonlyMap<string, SummaryGroup>, indent: Indent): string[] {
    return objectKeyOrder(groups.keys()).flatMap((name) => {
      const group = groups.get(name);
      if (!group) return [];
      return [
        this.#title(`GROUP: ${printableName(name)}`, indent, SUBTITLE_PREFIX),
        ...this.#group(group, indent),
      ];
    });
  }
}

/**
 * The name width k6 computes once for the whole summary (see NameWidth):
 * over the names of every metric shown, in TOTAL RESULTS, groups and scenarios.
 */
function globalNameWidth(summary: EndOfTestSummary): NameWidth {
  return metricNames(summary).size === 1 ? 'none' : 'own';
}

function metricNames(summary: EndOfTestSummary): Set<string> {
  const names = new Set<string>();
  const collect = (group: SummaryGroup) => {
    for (const metrics of group.metrics.values())
      for (const name of metrics.keys()) names.add(name);
    for (const child of group.groups.values()) collect(child);
  };
  collect(summary.root);
  for (const scenario of summary.scenarios.values()) collect(scenario);
  return names;
}
