/**
 * k6's process exit codes, named once (k6 errext/exitcodes/codes.go, v2.2.0),
 * and the typed outcome a k6 process ended with.
 */
export const K6_EXIT_CODES = {
  success: 0,
  'cloud-test-run-failed': 97,
  'cloud-failed-to-get-progress': 98,
  'thresholds-failed': 99,
  'setup-timeout': 100,
  'teardown-timeout': 101,
  'generic-timeout': 102,
  'stopped-via-rest-api': 103,
  'invalid-config': 104,
  'external-abort': 105,
  'cannot-start-rest-api': 106,
  'script-exception': 107,
  'script-aborted': 108,
  'go-panic': 109,
  'marked-as-failed': 110,
  /** An error k6 did not type: Go's os.Exit(-1), seen as 255. */
  'generic-error': 255,
} as const;

/**
 * Exit code for a distributed run that failed for a reason k6 on one machine
 * cannot have: an agent lost under the `abort` policy, too few agents joined,
 * an agent could not run its share. k6 uses 97 for exactly this kind of
 * failure of a remote run ("cloud test run failed", errext/exitcodes), so a
 * CI script that already handles k6's codes reads it correctly.
 */
export const DISTRIBUTED_RUN_FAILED = K6_EXIT_CODES['cloud-test-run-failed'];

export type K6ExitReason = keyof typeof K6_EXIT_CODES;

const DESCRIPTIONS: Record<K6ExitReason, string> = {
  success: 'the test passed',
  'cloud-test-run-failed': 'the cloud test run failed',
  'cloud-failed-to-get-progress': 'k6 could not get the test progress from the cloud',
  'thresholds-failed': 'one or more thresholds failed',
  'setup-timeout': 'setup() timed out',
  'teardown-timeout': 'teardown() timed out',
  'generic-timeout': 'a timeout occurred',
  'stopped-via-rest-api': 'the test was stopped through the REST API',
  'invalid-config': 'the configuration is invalid',
  'external-abort': 'the test was aborted by a signal',
  'cannot-start-rest-api': 'the REST API server could not start (is the --address port free?)',
  'script-exception': 'the script threw an exception',
  'script-aborted': 'the script called test.abort()',
  'go-panic': 'k6 panicked',
  'marked-as-failed': 'the script called exec.test.fail()',
  'generic-error': 'k6 reported an error',
};

const REASON_BY_CODE = new Map<number, K6ExitReason>(
  Object.entries(K6_EXIT_CODES).map(([reason, code]) => [code, reason as K6ExitReason]),
);

/** How a k6 process ended. `exitCode` is what a wrapper should exit with to mean the same. */
export type K6Outcome =
  | { kind: 'exited'; reason: K6ExitReason; exitCode: number; description: string }
  | { kind: 'exited'; reason: 'unknown'; exitCode: number; description: string }
  | { kind: 'signaled'; signal: NodeJS.Signals; exitCode: number; description: string };

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGTERM: 15,
};

/** Maps a child's (code, signal) pair, as Node reports it, to a typed outcome. */
export function k6Outcome(code: number | null, signal: NodeJS.Signals | null): K6Outcome {
  if (code === null) {
    const sig = signal ?? 'SIGKILL';
    return {
      kind: 'signaled',
      signal: sig,
      exitCode: 128 + (SIGNAL_NUMBERS[sig] ?? 0),
      description: `k6 was killed by ${sig}`,
    };
  }
  const reason = REASON_BY_CODE.get(code);
  if (reason === undefined) {
    return {
      kind: 'exited',
      reason: 'unknown',
      exitCode: code,
      description: `k6 exited with ${code}`,
    };
  }
  return { kind: 'exited', reason, exitCode: code, description: DESCRIPTIONS[reason] };
}
