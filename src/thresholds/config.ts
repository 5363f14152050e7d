import { K6DistributedError, errorMessage } from '../errors.js';
import { parseGoDuration } from '../k6/archive.js';
import { parseMetricKey, parseThresholdExpression, type ThresholdExpression } from './parse.js';

export interface ThresholdDefinition {
  source: string;
  parsed: ThresholdExpression;
  abortOnFail: boolean;
  /** abortOnFail waits until the test has run longer than this (k6's delayAbortEval). */
  delayAbortEvalMs: number | undefined;
}

/** The thresholds of one metric or submetric key, in definition order. */
export interface ThresholdSet {
  key: string;
  metric: string;
  tags: Record<string, string>;
  thresholds: ThresholdDefinition[];
}

/**
 * Reads `options.thresholds` as k6 consolidated it (archive metadata or
 * `k6 inspect`): `{ key: [ "expr" | { threshold, abortOnFail, delayAbortEval } ] }`.
 * k6 has validated them already while archiving; every problem found here is
 * reported together all the same.
 */
export function parseThresholdsOption(raw: unknown): ThresholdSet[] {
  if (raw === null || raw === undefined) return [];
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw invalid(['thresholds must be an object']);
  const problems: string[] = [];
  const sets: ThresholdSet[] = [];
  for (const [key, list] of Object.entries(raw as Record<string, unknown>)) {
    try {
      const { metric, tags } = parseMetricKey(key);
      if (!Array.isArray(list)) throw new Error(`thresholds of ${key} must be an array`);
      sets.push({ key, metric, tags, thresholds: list.map((entry) => definition(key, entry)) });
    } catch (error) {
      problems.push(errorMessage(error));
    }
  }
  if (problems.length > 0) throw invalid(problems);
  return sets;
}

function definition(key: string, entry: unknown): ThresholdDefinition {
  if (typeof entry === 'string') {
    return {
      source: entry,
      parsed: parseThresholdExpression(entry),
      abortOnFail: false,
      delayAbortEvalMs: undefined,
    };
  }
  const config = entry as { threshold?: unknown; abortOnFail?: unknown; delayAbortEval?: unknown };
  if (typeof entry !== 'object' || entry === null || typeof config.threshold !== 'string') {
    throw new Error(`a threshold of ${key} is neither a string nor { threshold: "..." }`);
  }
  const delay = config.delayAbortEval;
  return {
    source: config.threshold,
    parsed: parseThresholdExpression(config.threshold),
    abortOnFail: config.abortOnFail === true,
    delayAbortEvalMs:
      typeof delay === 'string' && delay !== ''
        ? parseGoDuration(delay)
        : typeof delay === 'number'
          ? delay / 1e6
          : undefined,
  };
}

function invalid(problems: string[]): K6DistributedError {
  return new K6DistributedError('INVALID_OPTION', `invalid thresholds: ${problems.join('; ')}`);
}
