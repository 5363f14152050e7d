import { DefaultArtifactClient } from '@actions/artifact';
import * as core from '@actions/core';
import * as github from '@actions/github';

import type { CoordinateResult } from '../coordinator/run.js';
import { artifactDownload, findBaseline, workflowFile } from '../github/baseline.js';
import { LIMITS, markerFor, type PublishContext, publishReports } from '../github/publish.js';
import type { BaselineLookup } from '../report/baseline-view.js';
import { renderRunMarkdown } from '../report/markdown.js';

import {
  mintIdToken,
  OIDC_AUDIENCE,
  OidcVerifier,
  oidcRegistrationAuth,
  runIdentityFromEnv,
} from '../github/oidc.js';
import { runPageUrl } from '../github/actions-run.js';
import { installCloudflared } from '../tunnel/install.js';
import { QuickTunnel } from '../tunnel/quick-tunnel.js';
import { actionsLogger } from './logger.js';
import type { PublishExtras } from './coordinator-role.js';
import type { CoordinatorInputs } from './inputs.js';
import type { ActionIo } from './io.js';
import type { ActionServices } from './main.js';

/** The GitHub-facing services of the action, wired to the real implementations. */
export function actionServices(io: ActionIo): ActionServices {
  return {
    oidcAuth(env) {
      return oidcRegistrationAuth(new OidcVerifier({ expected: runIdentityFromEnv(env) }));
    },
    async openTunnel(localUrl) {
      const binary = await installCloudflared({ env: io.env, log: actionsLogger });
      const tunnel = await QuickTunnel.start({ binary, localUrl, env: io.env, log: actionsLogger });
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
    async uploadArtifact(name, files, dir) {
      const { id } = await new DefaultArtifactClient().uploadArtifact(name, files, dir);
      const run = runPageUrl(io.env);
      // The run's page lists its artifacts when the service gives no id.
      return id === undefined ? run : `${run}/artifacts/${String(id)}`;
    },
    findBaseline: (inputs) => findRunBaseline(inputs, io.env),
    async publishReports(result, inputs, extras) {
      await publishRun(result, inputs, extras, io.env);
    },
    mintIdToken: () => mintIdToken(OIDC_AUDIENCE),
  };
}

/**
 * On a pull request: the base branch's last successful run of this workflow
 * that kept this test's report. Never throws; says why when none is found.
 */
async function findRunBaseline(
  inputs: CoordinatorInputs,
  env: NodeJS.ProcessEnv,
): Promise<BaselineLookup | undefined> {
  const payload = github.context.payload as PublishContext['payload'];
  const branch = payload.pull_request?.base?.ref;
  if (branch === undefined) return undefined;
  const { owner, repo } = github.context.repo;
  const workflow = workflowFile(env.GITHUB_WORKFLOW_REF);
  const none = (reason: string): BaselineLookup => ({ found: false, branch, reason, skipped: [] });
  if (inputs.githubToken === undefined) {
    return none(
      'no github-token was given (the default `${{ github.token }}` needs `actions: read`)',
    );
  }
  if (workflow === undefined) {
    return none(
      'GITHUB_WORKFLOW_REF does not name the workflow file (not a GitHub-hosted run?); ' +
        'set "compare-with-base: false"',
    );
  }
  return findBaseline({
    octokit: github.getOctokit(inputs.githubToken),
    owner,
    repo,
    workflow,
    branch,
    testName: inputs.testName,
    runId: github.context.runId,
    download: artifactDownload(inputs.githubToken, owner, repo),
  });
}

/** Job summary, PR comment and check run for a finished run (never throws for API errors). */
async function publishRun(
  result: CoordinateResult,
  inputs: CoordinatorInputs,
  extras: PublishExtras,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const repository = env.GITHUB_REPOSITORY ?? '';
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
      baseline: extras.baseline,
      reportUrl: extras.reportUrl,
    });
  const marker = markerFor(github.context.workflow, inputs.testName);
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
    checkTitle: extras.verdict.title,
    conclusion: extras.verdict.conclusion,
    commentOnPr: inputs.commentOnPr,
    checkRun: inputs.checkRun,
    writeSummary: async (markdown) => {
      await core.summary.addRaw(markdown).write();
    },
    log: { warning: (m) => core.warning(m), notice: (m) => core.notice(m) },
  });
}
