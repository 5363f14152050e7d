import type { MetricDelta } from './delta.js';

/** Metrics named one by one; past this, one last warning says there are more (an agent cannot flood the log). */
const MAX_NAMED = 16;

/**
 * Negative trend samples on the cloud transport (issue 18.4): k6's cloud
 * output counts a trend's samples below 0 in one "extra low" counter, without
 * their values (k6 v2.2.0 internal/ds/histogram: below the lowest trackable
 * value). count, sum, min, max and avg stay exact; a percentile that falls
 * among them can only be estimated. So each such trend is named once, with
 * the fix.
 */
export class NegativeTrendNotes {
  readonly #noted = new Map<string, string>();

  /** Warnings this delta raises for the first time (each metric once). */
  note(delta: MetricDelta): string[] {
    const out: string[] = [];
    for (const s of delta.series) {
      if (s.kind !== 'total' || s.sink.t !== 'trend' || !s.sink.h.k6low) continue;
      if (this.#noted.has(s.metric) || this.#noted.size > MAX_NAMED) continue;
      const message =
        this.#noted.size === MAX_NAMED
          ? `more than ${String(MAX_NAMED)} trends got negative samples; ${negativeTrendAdvice}`
          : negativeTrendWarning(s.metric);
      this.#noted.set(s.metric, message);
      out.push(message);
    }
    return out;
  }

  /** Every warning so far, for the run's result. */
  get warnings(): string[] {
    return [...this.#noted.values()];
  }
}

const negativeTrendAdvice =
  "k6's cloud output counts them without their values, so a percentile (med, p(N)) that " +
  'falls among them is an estimate between min and 0 (count, sum, min, max and avg stay ' +
  "exact). Run with --transport json (action input metric-transport: json) for k6's exact " +
  'percentiles.';

export function negativeTrendWarning(metric: string): string {
  return `trend ${metric} got negative samples: ${negativeTrendAdvice}`;
}
