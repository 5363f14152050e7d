import * as core from '@actions/core';
import * as github from '@actions/github';

import type { CoordinateResult } from '../coordinator/run.js';
import { type PublishContext, publishReports } from '../github/publish.js';
import { LIMITS, markerFor, renderRunMarkdown, verdictOf } from '../github/report-markdown.js';
import { K6_EXIT_CODES } from '../k6/exit-codes.js';

import { mintIdToken, OIDC_AUDIENCE, OidcVerifier, runIdentityFromEnv } from '../github/oidc.js';
import { installCloudflared } from '../tunnel/install.js';
import { QuickTunnel } from '../tunnel/quick-tunnel.js';
import { actionsLogger } from './logger.js';
import type { CoordinatorInputs } from './inputs.js';
import type { ActionServices } from './main.js';

/** The GitHub-facing services of the action, wired to the real implementations. */
export function actionServices(): ActionServices {
  return {
    oidcAuth(env) {
      const verifier = new OidcVerifier({ expected: runIdentityFromEnv(env) });
      return {
        async verify(credential) {
          await verifier.verify(credential);
        },
      };
    },
    async openTunnel(localUrl) {
      const binary = await installCloudflared({ env: process.env, log: actionsLogger });
      const tunnel = await QuickTunnel.start({ binary, localUrl, log: actionsLogger });
      let closing = false;
      void tunnel.exited.then((exit) => {
        if (closing) return;
        actionsLogger.error(
          `cloudflared exited mid-run (${exit.signal ?? `exit code ${String(exit.code)}`}): ` +
            'agents can no longer reach the coordinator and will stop on their dead-man deadline',
        );
      });
      return {
        url: tunnel.url,
        close: () => {
          closing = true;
          return tunnel.close();
        },
      };
    },
    async publishReports(result, inputs) {
      await publishRun(result, inputs);
    },
    mintIdToken: () => mintIdToken(OIDC_AUDIENCE),
  };
}

/** Job summary, PR comment and check run for a finished run (never throws for API errors). */
async function publishRun(result: CoordinateResult, inputs: CoordinatorInputs): Promise<void> {
  const repository = process.env.GITHUB_REPOSITORY ?? '';
  const [owner = '', repo = ''] = repository.split('/');
  const render = (limit: number, bytes = false) =>
    renderRunMarkdown({
      result,
      source: result.summary,
      timeline: result.timeline,
      title: inputs.script,
      limit,
      bytes,
      fullResultHint: 'the merged result JSON (the "summary-json" output)',
    });
  const marker = markerFor(github.context.workflow, inputs.testName);
  const verdict = verdictOf(result);
  await publishReports({
    octokit: inputs.githubToken && repository ? github.getOctokit(inputs.githubToken) : undefined,
    context: {
      owner,
      repo,
      eventName: github.context.eventName,
      payload: github.context.payload as PublishContext['payload'],
      sha: github.context.sha,
    },
    summary: render(LIMITS.jobSummaryBytes, true),
    comment: render(LIMITS.comment - marker.length - 1),
    checkSummary: render(LIMITS.checkRun),
    marker,
    checkName: `k6-distributed (${inputs.testName})`,
    checkTitle: `${verdict}: k6 exit code ${String(result.exitCode)}`,
    conclusion:
      result.exitCode === 0
        ? 'success'
        : result.exitCode === K6_EXIT_CODES['external-abort']
          ? 'cancelled'
          : 'failure',
    commentOnPr: inputs.commentOnPr,
    checkRun: inputs.checkRun,
    writeSummary: async (markdown) => {
      await core.summary.addRaw(markdown).write();
    },
    log: { warning: (m) => core.warning(m), notice: (m) => core.notice(m) },
  });
}
