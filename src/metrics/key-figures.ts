import { z } from 'zod';

/**
 * The three figures a run is compared on with an earlier one, and a progress
 * line shows for the last seconds: null when the run made no HTTP request.
 */
export interface KeyFigures {
  /** p(95) of http_req_duration, in ms. */
  p95Ms: number | null;
  /** http_req_failed's rate, 0 to 1. */
  errorRate: number | null;
  /** http_reqs per second of test run. */
  requestRate: number | null;
}

export const keyFiguresSchema = z.object({
  p95Ms: z.number().nonnegative().nullable(),
  errorRate: z.number().min(0).max(1).nullable(),
  requestRate: z.number().nonnegative().nullable(),
});

/**
 * What a progress line shows: the key figures of the last few seconds (an
 * idle window's rate is 0, not null), the VUs now and the iterations so far.
 */
export interface RunProgress extends KeyFigures {
  requestRate: number;
  /** Sum of every agent's latest `vus` value. */
  vus: number;
  /** Completed iterations so far. */
  iterations: number;
  /** Completed iterations so far, by scenario name; unknown without --summary-mode=full and several scenarios. */
  scenarioIterations: Map<string, number> | undefined;
}
