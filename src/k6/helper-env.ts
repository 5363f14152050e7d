/**
 * k6 options read from the environment that would make a helper `k6 run` of
 * the coordinator's (the threshold-metric probe, handleSummary()'s wrapper)
 * hang (K6_PAUSED, K6_LINGER), bind a port the run may use (K6_ADDRESS, the
 * web dashboard's K6_WEB_DASHBOARD*), or send its samples or summary somewhere
 * (K6_OUT, K6_SUMMARY_EXPORT, K6_WEB_DASHBOARD_EXPORT). They are meant for the
 * test run, never for these.
 */
const TEST_RUN_ONLY = new Set([
  'K6_OUT',
  'K6_ADDRESS',
  'K6_PAUSED',
  'K6_LINGER',
  'K6_SUMMARY_EXPORT',
]);

/** The environment for a helper k6 run: the user's, without TEST_RUN_ONLY. */
export function helperRunEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(
      ([name]) => !TEST_RUN_ONLY.has(name) && !name.startsWith('K6_WEB_DASHBOARD'),
    ),
  );
}
