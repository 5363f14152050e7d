import { writeFile } from 'node:fs/promises';

import type { RunOutcome } from '../coordinator/outcome.js';
import { keyFigures } from '../coordinator/result-file.js';
import type { KeyFigures } from '../metrics/key-figures.js';
import type { CoordinateResult } from '../coordinator/run.js';
import { errorMessage } from '../errors.js';
import type { BaselineLookup, BaselineView } from '../report/baseline-view.js';
import { type Comparison, compareFigures, type RegressionLimits } from '../report/compare.js';
import { renderHtmlReport } from '../report/html.js';
import { renderRunReport } from '../report/run-report.js';
import type { Logger } from '../runtime/logger.js';
import { type ReservedFile, reserveFiles } from '../runtime/reserved-file.js';
import { type FinalVerdict, finalVerdict } from './verdict.js';

/** Where the HTML report goes: its path, and the file opened for it before the load. */
export interface HtmlReportFile {
  path: string;
  /** Undefined when it could not be opened before the load: it is then written by path. */
  file?: ReservedFile;
}

/**
 * Opens the HTML report's file before the load (issue 17.7: sockets cannot
 * take its descriptor); undefined when no report is asked for.
 */
export async function reserveHtmlReport(
  path: string | undefined,
): Promise<HtmlReportFile | undefined> {
  if (path === undefined) return undefined;
  const { html } = await reserveFiles({ html: path });
  return { path, file: html };
}

/** Closes the HTML report's file if the run never wrote it. */
export async function releaseHtmlReport(report: HtmlReportFile | undefined): Promise<void> {
  await report?.file?.release();
}

/**
 * What this run is compared with: an earlier run's figures (the CLI's
 * --baseline file) or the base branch's run that GitHub was searched for
 * (the action on a pull request; the reports say why when none was found).
 */
export type AfterRunBaseline = { limits?: RegressionLimits } & (
  { figures: KeyFigures } | { lookup: BaselineLookup }
);

export interface AfterRunOptions {
  /** The run: its verdict, the merged summary data and the timeline the reports are made from. */
  result: Pick<CoordinateResult, keyof RunOutcome | 'summary' | 'timeline'>;
  /** What was tested, e.g. the script path. */
  title: string;
  html?: HtmlReportFile;
  baseline?: AfterRunBaseline;
  log: Logger;
  /** Shown in the HTML report's footer. */
  generatedAt: Date;
}

export interface AfterRun {
  /** This run against the baseline; undefined without a baseline's figures. */
  comparison?: Comparison;
  /** The GitHub lookup and the comparison, as the HTML and Markdown reports show them. */
  view?: BaselineView;
  verdict: FinalVerdict;
}

/**
 * What both front ends (the action's coordinator job, the CLI's `run` and
 * `coordinator`) do once the run has ended: compare it with the baseline,
 * write the HTML report, and decide the final verdict. A report that cannot
 * be written is logged: the verdict stands.
 */
export async function afterRun(o: AfterRunOptions): Promise<AfterRun> {
  const base = o.baseline === undefined ? undefined : baselineFigures(o.baseline);
  const comparison =
    base === undefined
      ? undefined
      : compareFigures(keyFigures(o.result.summary), base, o.baseline?.limits);
  const view =
    o.baseline !== undefined && 'lookup' in o.baseline
      ? { lookup: o.baseline.lookup, comparison }
      : undefined;
  if (o.html !== undefined) await writeHtmlReport(o, o.html, view);
  return { comparison, view, verdict: finalVerdict(o.result, comparison) };
}

function baselineFigures(baseline: AfterRunBaseline): KeyFigures | undefined {
  if ('figures' in baseline) return baseline.figures;
  return baseline.lookup.found ? baseline.lookup.figures : undefined;
}

async function writeHtmlReport(
  o: AfterRunOptions,
  report: HtmlReportFile,
  baseline: BaselineView | undefined,
): Promise<void> {
  try {
    const page = renderHtmlReport({
      result: o.result,
      source: o.result.summary,
      timeline: o.result.timeline,
      baseline,
      title: o.title,
      generatedAt: o.generatedAt,
    });
    await (report.file ? report.file.write(page) : writeFile(report.path, page));
    o.log.info(`HTML report: ${report.path}`);
  } catch (error) {
    o.log.error(
      `could not write the HTML report to ${report.path}: ${errorMessage(error)}; ` +
        "the run's verdict stands",
    );
  }
}

/**
 * The distributed run's section after k6's summary (agents, shares, start
 * skew, how each k6 ended), as the CLI and the action print it; a failure
 * to render it is logged, never the verdict.
 */
export function printRunReport(
  write: (text: string) => void,
  log: Logger,
  result: RunOutcome,
): void {
  try {
    write(renderRunReport(result));
  } catch (error) {
    log.error(`could not render the run report: ${errorMessage(error)}`);
  }
}
