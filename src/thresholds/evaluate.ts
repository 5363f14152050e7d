import { k6Seconds } from '../metrics/sinks.js';
import type { ThresholdInput } from '../metrics/types.js';
import type { ThresholdDefinition, ThresholdSet } from './config.js';

export interface ThresholdResult {
  key: string;
  source: string;
  ok: boolean;
}

export interface Evaluation {
  /** Keys with a failed threshold, sorted as k6 lists them. */
  breached: string[];
  /** A failed threshold has abortOnFail and its delay has passed (sticky, as in k6). */
  abort: boolean;
}

/**
 * k6's threshold engine on merged sinks (metrics/thresholds.go Run,
 * internal/metrics/engine evaluateThresholds): during the run a key without
 * samples is skipped and keeps its last result; at the end every key is
 * evaluated, an empty sink reading as zero (a rate without samples has no
 * value, and a threshold without a value passes).
 */
export class ThresholdEvaluator {
  readonly #sets: readonly ThresholdSet[];
  readonly #lastFailed = new Map<ThresholdDefinition, boolean>();
  #abort = false;

  constructor(sets: readonly ThresholdSet[]) {
    this.#sets = sets;
  }

  /**
   * @param mayAbort whether a failed abortOnFail threshold with this
   *   delayAbortEval aborts now (default k6's: no delay, or the test has run
   *   longer than it).
   */
  evaluate(
    lookup: (key: string) => ThresholdInput | undefined,
    durationMs: number,
    final: boolean,
    mayAbort: (delayMs: number | undefined) => boolean = (delay) =>
      delay === undefined || delay < durationMs,
  ): Evaluation {
    const breached: string[] = [];
    for (const set of this.#sets) {
      const input = lookup(set.key);
      if (!final && (input === undefined || input.empty)) continue;
      const values = sinkValues(input, set, durationMs);
      let failed = false;
      for (const threshold of set.thresholds) {
        const ok = passes(threshold, values);
        this.#lastFailed.set(threshold, !ok);
        if (ok) continue;
        failed = true;
        if (!this.#abort && threshold.abortOnFail) {
          this.#abort = mayAbort(threshold.delayAbortEvalMs);
        }
      }
      if (failed) breached.push(set.key);
    }
    return { breached: breached.sort(), abort: this.#abort };
  }

  /** Each threshold's last result, in definition order (never evaluated: ok). */
  get results(): ThresholdResult[] {
    return this.#sets.flatMap((set) =>
      set.thresholds.map((t) => ({
        key: set.key,
        source: t.source,
        ok: !(this.#lastFailed.get(t) ?? false),
      })),
    );
  }
}

/** The values k6 puts in `ts.sinked` for a sink; a missing key means no value yet. */
export function sinkValues(
  input: ThresholdInput | undefined,
  set: ThresholdSet,
  durationMs: number,
): Map<string, number> {
  const values = new Map<string, number>();
  if (!input) return values;
  switch (input.type) {
    case 'counter':
      values.set('count', input.count);
      if (durationMs > 0) values.set('rate', input.count / k6Seconds(durationMs));
      break;
    case 'gauge':
      values.set('value', input.value);
      break;
    case 'rate':
      if (input.total > 0) values.set('rate', input.trues / input.total);
      break;
    case 'trend':
      values.set('min', input.min);
      values.set('max', input.max);
      values.set('avg', input.avg);
      values.set('med', input.percentile(0.5));
      for (const t of set.thresholds) {
        if (t.parsed.aggregation === 'p') {
          values.set(t.parsed.sinkKey, input.percentile((t.parsed.percentile ?? 0) / 100));
        }
      }
      break;
  }
  return values;
}

function passes(threshold: ThresholdDefinition, values: Map<string, number>): boolean {
  const lhs = values.get(threshold.parsed.sinkKey);
  if (lhs === undefined) return true;
  const rhs = threshold.parsed.value;
  switch (threshold.parsed.operator) {
    case '>':
      return lhs > rhs;
    case '>=':
      return lhs >= rhs;
    case '<':
      return lhs < rhs;
    case '<=':
      return lhs <= rhs;
    case '==':
    case '===':
      return lhs === rhs;
    case '!=':
      return lhs !== rhs;
  }
}
