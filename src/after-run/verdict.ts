import type { RunOutcome } from '../coordinator/outcome.js';
import { K6_EXIT_CODES } from '../k6/exit-codes.js';
import { type Comparison, type ComparisonRow, formatChange } from '../report/compare.js';
import { verdictOf } from '../report/format.js';

/** How a run ends for its caller once it has been compared with its baseline. */
export interface FinalVerdict {
  /**
   * The process's exit code: k6's, or 99 (as for crossed thresholds: the
   * fail-on-regression limits are thresholds on the change) when a run that
   * otherwise passed is worse than a limit.
   */
  exitCode: number;
  /** The check run's conclusion. */
  conclusion: 'success' | 'failure' | 'cancelled';
  /** The check run's title: the verdict, k6's exit code and what regressed. */
  title: string;
  /** The regressions that fail the run: none when k6 already failed it. */
  failures: readonly ComparisonRow[];
}

/**
 * The one place that decides how a run ends after the comparison: a
 * regression past a fail-on-regression limit fails only a run that otherwise
 * passed (k6's own failure, and its exit code, come first). Pure.
 */
export function finalVerdict(
  result: Pick<RunOutcome, 'exitCode' | 'aborted'>,
  comparison?: Comparison,
): FinalVerdict {
  const regressions = comparison?.failures ?? [];
  const failures = result.exitCode === 0 ? regressions : [];
  return {
    exitCode: failures.length > 0 ? K6_EXIT_CODES['thresholds-failed'] : result.exitCode,
    conclusion: conclusionOf(result.exitCode, failures),
    title:
      `${verdictOf(result)}: k6 exit code ${String(result.exitCode)}` +
      (regressions.length > 0
        ? `; regressed: ${regressions.map((r) => `${r.label} ${formatChange(r)}`).join(', ')}`
        : ''),
    failures,
  };
}

function conclusionOf(
  exitCode: number,
  failures: readonly ComparisonRow[],
): FinalVerdict['conclusion'] {
  if (exitCode === K6_EXIT_CODES['external-abort']) return 'cancelled';
  return exitCode === 0 && failures.length === 0 ? 'success' : 'failure';
}
