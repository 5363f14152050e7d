import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import { errorMessage } from '../errors.js';
import type { K6Binary } from '../k6/binary.js';
import { type HandleSummaryOutcome, runHandleSummary } from '../k6/handle-summary.js';
import type { RunFlags } from '../k6/run-flags.js';
import type { Timeline } from '../metrics/timeline.js';
import type { Logger } from '../runtime/logger.js';
import type { ReservedFile } from '../runtime/reserved-file.js';
import { type LegacySummaryData, legacySummaryData, summaryExport } from '../summary/legacy.js';
import type { SummarySource } from '../summary/source.js';
import { renderTextSummary } from '../summary/text.js';
import type { RunOutcome } from './outcome.js';
import type { KeyFigures } from '../metrics/key-figures.js';
import { keyFigures, type ResultFile } from './result-file.js';

export interface EndOfTestOptions {
  k6: K6Binary;
  script: string;
  flags: RunFlags;
  source: SummarySource;
  result: RunOutcome;
  /** The run over time, for the merged result file. */
  timeline?: Timeline;
  /** --summary-json: the machine-readable merged result. */
  summaryJson?: string;
  /**
   * Keep setup()'s data in the --summary-json file. Off by default: it often
   * carries tokens (from -e or a login in setup()), and the action uploads
   * that file as an artifact anyone with read access can download.
   */
  summaryJsonSetupData?: boolean;
  /** The output files, opened before the load (else written by path). */
  files?: { summaryJson?: ReservedFile; summaryExport?: ReservedFile };
  cwd?: string;
  env: NodeJS.ProcessEnv;
  stdout: (text: string | Buffer) => void;
  stderr: (text: string | Buffer) => void;
  enableColors: boolean;
  log: Logger;
}

/**
 * What k6 does at the end of a run, on merged data (internal/cmd/run.go):
 * the script's handleSummary() if it exports one, else k6's text summary;
 * --summary-export beside either. As in k6, none of it changes the exit
 * code: a failure here is logged. Where k6 would print its default summary
 * (no handleSummary(), or one that returned nothing or threw), the merged
 * one is printed; so it is when handleSummary() could not run at all, which
 * cannot happen in `k6 run`: the summary is never lost.
 */
export async function endOfTest(o: EndOfTestOptions): Promise<void> {
  // The result file carries the verdict: it is written even when the summary data cannot be built.
  const data = await logFailure(o, () => legacySummaryData(o.source), 'building the summary data');
  if (o.summaryJson !== undefined) {
    await logFailure(o, () => writeResultFile(o, data ?? null), `writing ${o.summaryJson}`);
  }
  const mode = o.flags.summaryMode;
  if (mode === 'disabled' || data === undefined) return;
  const outcome = await logFailure(o, () => handleSummaryOf(o, data));
  if (outcome?.status === 'failed') {
    o.log.error(
      `failed to handle the end-of-test summary: k6 could not run handleSummary() ` +
        `(${outcome.description}, exit code ${String(outcome.exitCode)}; its output is ` +
        "above); printing the default summary instead. The exit code is the run's.",
    );
  }
  if (outcome?.status !== 'written') {
    const printed = await logFailure(o, () => printDefaultSummary(o, mode));
    if (printed === false) return;
  }
  const exported = outcome?.status !== 'written' || outcome.exported;
  if (o.flags.summaryExport !== undefined && exported) {
    const path = resolve(o.cwd ?? '.', o.flags.summaryExport);
    const file = o.files?.summaryExport;
    const content = () => summaryExport(data);
    await logFailure(
      o,
      () => (file ? file.write(content()) : writeFile(path, content())),
      `writing ${path}`,
    );
  }
}

/**
 * k6's default text summary of the merged data. Without a metric at all
 * (e.g. every VU's init code threw) k6's summary.js fails on it: k6 logs
 * that, prints no summary and writes no --summary-export; so does the run
 * (false).
 */
function printDefaultSummary(o: EndOfTestOptions, mode: 'compact' | 'full'): boolean {
  const text = renderTextSummary(o.source, { mode, enableColors: o.enableColors });
  if (text === '') {
    o.log.error(
      'failed to handle the end-of-test summary: there is no metric to decideOutcome ' +
        "(k6's own summary fails the same way and prints none)",
    );
    return false;
  }
  o.stdout(text);
  return true;
}

/**
 * The script's handleSummary(), run by k6 on the merged data; after an init
 * error in every VU too, as k6 calls it then (with no samples).
 */
async function handleSummaryOf(
  o: EndOfTestOptions,
  data: unknown,
): Promise<HandleSummaryOutcome | undefined> {
  return runHandleSummary({
    k6: o.k6,
    script: o.script,
    data,
    flags: o.flags.archiveFlags,
    cwd: o.cwd,
    env: o.env,
    stdout: o.stdout,
    stderr: o.stderr,
    warn: (message) => o.log.warning(message),
    initFailed: o.result.initFailed,
  });
}

/**
 * Runs one step of the end of the test; a failure is logged as k6 logs its
 * own ("failed to handle the end-of-test summary"), never thrown: the run's
 * exit code is already decided and must stay as k6 would give it.
 */
async function logFailure<T>(
  o: EndOfTestOptions,
  step: () => T | Promise<T>,
  what?: string,
): Promise<T | undefined> {
  try {
    return await step();
  } catch (error) {
    const where = what === undefined ? '' : ` (${what})`;
    o.log.error(`failed to handle the end-of-test summary${where}: ${errorMessage(error)}`);
    return undefined;
  }
}

function withoutSetupData(data: LegacySummaryData): LegacySummaryData {
  const rest = { ...data };
  delete rest.setup_data;
  return rest;
}

/** Figures of a run whose figures could not be computed: nothing to compare a later run with. */
const NO_FIGURES: KeyFigures = { p95Ms: null, errorRate: null, requestRate: null };

/** `data` null: the summary data could not be built; the verdict is written all the same. */
async function writeResultFile(o: EndOfTestOptions, data: LegacySummaryData | null): Promise<void> {
  const figures = await logFailure(o, () => keyFigures(o.source), 'computing the key figures');
  const body: ResultFile = {
    k6Distributed: 1,
    exitCode: o.result.exitCode,
    message: o.result.message,
    agents: o.result.agents,
    startSkewMs: o.result.startSkewMs,
    ...(o.result.warnings && { warnings: o.result.warnings }),
    ...(o.result.coordinatorLoad && { coordinatorLoad: o.result.coordinatorLoad }),
    figures: figures ?? NO_FIGURES,
    timeline: o.timeline,
    data: data === null || o.summaryJsonSetupData === true ? data : withoutSetupData(data),
  };
  const text = `${JSON.stringify(body, null, 2)}\n`;
  const file = o.files?.summaryJson;
  await (file ? file.write(text) : writeFile(resolve(o.cwd ?? '.', o.summaryJson ?? ''), text));
}
