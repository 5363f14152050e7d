/**
 * Facts about the GitHub Actions run this job belongs to, from the
 * environment the entry point hands down (never process.env here).
 */

/** This run's attempt: 1, or n on the nth re-run. Artifacts are named per attempt. */
export function runAttempt(env: NodeJS.ProcessEnv): string {
  return env.GITHUB_RUN_ATTEMPT ?? '1';
}

/** The run's page, which lists its artifacts. */
export function runPageUrl(env: NodeJS.ProcessEnv): string {
  return (
    `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY ?? ''}` +
    `/actions/runs/${env.GITHUB_RUN_ID ?? ''}`
  );
}

/**
 * @actions/artifact's refusal on GitHub Enterprise Server, where artifacts v4
 * do not exist (matched by name: it is the toolkit's class, not ours).
 */
export function isGhesUnsupported(error: unknown): boolean {
  return error instanceof Error && error.name === 'GHESNotSupportedError';
}
