import { parseGoDuration, type PreparedTest } from '../k6/archive.js';

/** k6's defaults for setupTimeout and teardownTimeout (lib/options.go). */
const K6_STEP_TIMEOUT_MS = 60_000;

/**
 * Slack for what k6 does not count in its durations: VUs ramping down past
 * gracefulStop, the setup data reaching every agent, final metric deltas,
 * each k6 exiting on release (up to 30 s when it lingers).
 */
export const DEFAULT_DEADLINE_GRACE_MS = 60_000;

/**
 * The longest an honest run can take from setup() to its end: setup's
 * timeout, the start lead, the test's own longest duration as `k6 inspect
 * --execution-requirements` gives it (every scenario's duration or
 * maxDuration plus its gracefulStop), teardown's timeout, and grace.
 */
export function runDeadlineMs(
  test: Pick<PreparedTest, 'options' | 'totalDurationMs'>,
  run: { startLeadMs: number; graceMs: number },
): number {
  const { options } = test;
  const setupMs = options.noSetup === true ? 0 : stepTimeoutMs(options.setupTimeout);
  const teardownMs = options.noTeardown === true ? 0 : stepTimeoutMs(options.teardownTimeout);
  return setupMs + run.startLeadMs + test.totalDurationMs + teardownMs + run.graceMs;
}

function stepTimeoutMs(value: string | null | undefined): number {
  return typeof value === 'string' && value !== '' ? parseGoDuration(value) : K6_STEP_TIMEOUT_MS;
}
