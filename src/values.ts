/**
 * Parsers for the values both front ends take (a duration, a weight, a tag),
 * shared by the action's inputs and the CLI's options and knowing neither:
 * each throws INVALID_OPTION with a message naming a valid value, and the
 * caller says which input or option it was.
 */
import { K6DistributedError } from './errors.js';
import { parseGoDuration } from './k6/archive.js';
import { parseWeight } from './k6/segments.js';
import { parseRegressionLimits, type RegressionLimits } from './report/compare.js';

function invalid(message: string): K6DistributedError {
  return new K6DistributedError('INVALID_OPTION', message);
}

/** Parses "30s", "5m", "1m30s", "250ms" or a bare number of seconds into milliseconds. */
export function durationMs(value: string): number {
  const ms = /^\d+(\.\d+)?$/.test(value) ? Number(value) * 1000 : tryGoDuration(value);
  if (ms === undefined || !(ms > 0)) {
    throw invalid(`"${value}" is not a duration: use e.g. 30s, 5m or 250ms.`);
  }
  return ms;
}

function tryGoDuration(value: string): number | undefined {
  try {
    return parseGoDuration(value);
  } catch {
    return undefined;
  }
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw invalid(`"${value}" is not a positive whole number.`);
  }
  return n;
}

export function agentLossPolicy(value: string): 'abort' | 'continue' {
  if (value === 'abort' || value === 'continue') return value;
  throw invalid(`"${value}" is not a policy: use abort or continue.`);
}

/** A load weight (k6/segments.ts), kept as given: the coordinator splits by it. */
export function weight(value: string): string {
  parseWeight(value);
  return value;
}

/** Adds one `key=value` tag to `previous` (repeated options and lists collect this way). */
export function tag(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const match = /^([A-Za-z_][A-Za-z0-9_.-]{0,63})=(.{0,256})$/.exec(value);
  if (!match?.[1]) {
    throw invalid(`"${value}" is not a tag: use key=value, e.g. region=eu.`);
  }
  return { ...previous, [match[1]]: match[2] ?? '' };
}

/** `p95=10%,error-rate=1%,request-rate=15%`. */
export function regressionLimits(value: string): RegressionLimits {
  return parseRegressionLimits(value);
}
