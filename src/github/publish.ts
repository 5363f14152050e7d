import { createHash } from 'node:crypto';

import type { getOctokit } from '@actions/github';

import { errorMessage } from '../errors.js';
import type { Logger } from '../runtime/logger.js';

/** GitHub's limits (design.md §4): job summary bytes, comment and check-run characters. */
export const LIMITS = { jobSummaryBytes: 1024 * 1024, comment: 65_536, checkRun: 65_535 };

/** The hidden marker that finds this workflow's comment for this test again. */
export function markerFor(workflow: string, test: string): string {
  const key = createHash('sha256').update(`${workflow}\n${test}`).digest('hex').slice(0, 16);
  return `<!-- k6-distributed:report:${key} -->`;
}

export type Octokit = ReturnType<typeof getOctokit>;

/** What publishing needs of the workflow run (from @actions/github's context). */
export interface PublishContext {
  owner: string;
  repo: string;
  eventName: string;
  /** The webhook event. */
  payload: {
    pull_request?: {
      number: number;
      head: { sha: string; repo?: { full_name?: string } | null };
      /** The branch the pull request merges into: where its baseline comes from. */
      base?: { ref: string };
    };
    repository?: { full_name?: string };
  };
  /** GITHUB_SHA: on pull_request, the merge commit, not the PR head. */
  sha: string;
}

export interface PublishOptions {
  /** Without a token only the job summary is written. */
  octokit: Octokit | undefined;
  context: PublishContext;
  /** The job summary body (≤ 1 MiB). */
  summary: string;
  /** The PR comment body, without the marker (≤ 65,536 characters with it). */
  comment: string;
  /** The check run's output summary (≤ 65,535 characters). */
  checkSummary: string;
  marker: string;
  /** e.g. "k6-distributed (k6)". */
  checkName: string;
  checkTitle: string;
  conclusion: 'success' | 'failure' | 'cancelled';
  commentOnPr: boolean;
  checkRun: boolean;
  writeSummary: (markdown: string) => Promise<void>;
  /** Warnings and one notice (GitHub annotations in the action). */
  log: Pick<Logger, 'warning'> & { notice(message: string): void };
}

export interface Published {
  summary: 'written' | 'failed';
  comment: 'created' | 'updated' | 'skipped' | 'failed';
  check: 'created' | 'skipped' | 'failed';
}

/** The bot that writes with the workflow's GITHUB_TOKEN. */
const ACTIONS_BOT = 'github-actions[bot]';

/**
 * Posts the run where GitHub users look: the job summary always, then on a
 * pull request one comment (created once, then edited) and a check run on
 * the PR head. A fork PR (read-only token) keeps the job summary only, with
 * a notice. Every failure here warns and never changes the run's verdict.
 */
export async function publishReports(o: PublishOptions): Promise<Published> {
  const done: Published = { summary: 'written', comment: 'skipped', check: 'skipped' };
  try {
    await o.writeSummary(o.summary);
  } catch (error) {
    done.summary = 'failed';
    o.log.warning(`could not write the job summary: ${errorMessage(error)}`);
  }
  const pr = o.context.payload.pull_request;
  const wanted = (o.commentOnPr && pr !== undefined) || o.checkRun;
  if (!wanted) return done;
  const skipReason = !o.octokit
    ? 'no github-token was given'
    : pr && isFork(o.context)
      ? 'this pull request comes from a fork, whose workflows get a read-only token'
      : undefined;
  if (skipReason !== undefined) {
    o.log.notice(
      `k6-distributed: no PR comment or check run because ${skipReason}; the result is in the job summary and the job's status.`,
    );
    return done;
  }
  const octokit = o.octokit as Octokit;
  if (o.commentOnPr && pr) done.comment = await upsertComment(octokit, o, pr.number);
  if (o.checkRun) done.check = await createCheck(octokit, o, pr?.head.sha ?? o.context.sha);
  return done;
}

function isFork(context: PublishContext): boolean {
  const head = context.payload.pull_request?.head.repo?.full_name;
  const base = context.payload.repository?.full_name ?? `${context.owner}/${context.repo}`;
  return head !== undefined && head !== base;
}

async function upsertComment(
  octokit: Octokit,
  o: PublishOptions,
  issue: number,
): Promise<Published['comment']> {
  const { owner, repo } = o.context;
  const body = `${o.marker}\n${o.comment}`.slice(0, LIMITS.comment);
  try {
    const me = await authenticatedLogin(octokit);
    // Every page: on a busy PR our comment is rarely on the first one.
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: issue,
      per_page: 100,
    });
    const ours = comments.find((c) => c.user?.login === me && (c.body ?? '').includes(o.marker));
    if (ours) {
      await octokit.rest.issues.updateComment({ owner, repo, comment_id: ours.id, body });
      return 'updated';
    }
    await octokit.rest.issues.createComment({ owner, repo, issue_number: issue, body });
    return 'created';
  } catch (error) {
    o.log.warning(
      `could not post the PR comment (${errorMessage(error)}): give the job ` +
        '`permissions: pull-requests: write`, or set comment-on-pr: false',
    );
    return 'failed';
  }
}

/** The token's own login: a user's for a PAT; GITHUB_TOKEN may not read /user, so the Actions bot. */
async function authenticatedLogin(octokit: Octokit): Promise<string> {
  try {
    return (await octokit.rest.users.getAuthenticated()).data.login;
  } catch {
    return ACTIONS_BOT;
  }
}

async function createCheck(
  octokit: Octokit,
  o: PublishOptions,
  headSha: string,
): Promise<Published['check']> {
  try {
    await octokit.rest.checks.create({
      owner: o.context.owner,
      repo: o.context.repo,
      name: o.checkName,
      head_sha: headSha,
      status: 'completed',
      conclusion: o.conclusion,
      output: { title: o.checkTitle, summary: o.checkSummary.slice(0, LIMITS.checkRun) },
    });
    return 'created';
  } catch (error) {
    o.log.warning(
      `could not create the check run (${errorMessage(error)}): give the job ` +
        '`permissions: checks: write`, or set check-run: false',
    );
    return 'failed';
  }
}
