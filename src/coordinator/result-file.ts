/*
 * The merged result file (--summary-json, the action's result.json): what the
 * end of the test writes, and what a later run reads back as its baseline.
 */

import { z } from 'zod';

import { type KeyFigures, keyFiguresSchema } from '../metrics/key-figures.js';
import type { Timeline } from '../metrics/timeline.js';
import type { SummarySource } from '../summary/source.js';
import type { RunOutcome } from './outcome.js';

/** The merged result file: the run's verdict, its agents and k6's summary data. */
export interface ResultFile {
  k6Distributed: 1;
  exitCode: number;
  message: string;
  agents: RunOutcome['agents'];
  startSkewMs: number | undefined;
  /** What the run warned about its accuracy (e.g. negative trend samples on the cloud transport). */
  warnings?: readonly string[];
  /** How busy the coordinator's machine was while the test ran (issue 20.7). */
  coordinatorLoad?: RunOutcome['coordinatorLoad'];
  /** p(95), error rate and request rate: what a later run is compared on. */
  figures: KeyFigures;
  /** Per-interval request rate, VUs, p(95), error rate and iterations, merged and per agent. */
  timeline?: Timeline;
  data: unknown;
}

/** The key figures, read from the merged sinks (not from the summary's trend stats, which a script may have changed). */
export function keyFigures(source: SummarySource): KeyFigures {
  const value = (metric: string, stat: string): number | null => {
    const sink = source.metrics.get(metric)?.sink;
    if (sink === undefined || sink.isEmpty()) return null;
    return sink.values(source.durationMs, [stat])[stat] ?? null;
  };
  return {
    p95Ms: value('http_req_duration', 'p(95)'),
    errorRate: value('http_req_failed', 'rate'),
    requestRate: value('http_reqs', 'rate'),
  };
}

/** A baseline: an earlier run's merged result file (`--summary-json`, the action's result.json). */
export const baselineFileSchema = z.object({
  k6Distributed: z.literal(1),
  exitCode: z.number().int(),
  figures: keyFiguresSchema,
});
