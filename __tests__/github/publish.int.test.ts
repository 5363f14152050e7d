/**
 * Publishing against a recording FAKE GitHub API on loopback (the real one
 * cannot be reached from tests), through the real Octokit of @actions/github.
 */
import { describe, expect, it } from '@jest/globals';
import { getOctokit } from '@actions/github';

import { markerFor, publishReports, type PublishOptions } from '../../src/github/publish.js';
import { FakeGitHub } from '../helpers/fake-github.js';

const PR = 7;
const HEAD_SHA = 'a'.repeat(40);
const MERGE_SHA = 'b'.repeat(40);

function prEvent(headRepo = 'acme/shop') {
  return {
    pull_request: { number: PR, head: { sha: HEAD_SHA, repo: { full_name: headRepo } } },
    repository: { full_name: 'acme/shop' },
  };
}

function options(fake: FakeGitHub, overrides: Partial<PublishOptions> = {}) {
  const notices: string[] = [];
  const warnings: string[] = [];
  const summaries: string[] = [];
  const o: PublishOptions = {
    octokit: getOctokit('ghs_fake-token', { baseUrl: fake.url }),
    context: {
      owner: 'acme',
      repo: 'shop',
      eventName: 'pull_request',
      payload: prEvent(),
      sha: MERGE_SHA,
    },
    summary: '### summary',
    comment: '### comment v1',
    checkSummary: '### check',
    marker: markerFor('load', 'k6'),
    checkName: 'k6-distributed (k6)',
    checkTitle: 'passed: k6 exit code 0',
    conclusion: 'success',
    commentOnPr: true,
    checkRun: true,
    writeSummary: (markdown) => {
      summaries.push(markdown);
      return Promise.resolve();
    },
    log: { warning: (m) => warnings.push(m), notice: (m) => notices.push(m) },
    ...overrides,
  };
  return { o, notices, warnings, summaries };
}

describe('publishReports (recording fake GitHub API)', () => {
  it('creates the PR comment once, then edits it, found on page 2 of a busy PR', async () => {
    const fake = await FakeGitHub.start();
    const marker = markerFor('load', 'k6');
    for (let i = 0; i < 150; i++) fake.addComment(PR, `review comment ${String(i)}`, 'alice');
    // Look-alikes that must never be edited.
    fake.addComment(
      PR,
      `${markerFor('load', 'other-test')}\nanother test`,
      'github-actions[bot]',
      'Bot',
    );
    fake.addComment(PR, `${marker}\nquoted by a human`, 'mallory');

    const first = await publishReports(options(fake).o);
    expect(first).toEqual({ summary: 'written', comment: 'created', check: 'created' });
    for (let i = 0; i < 40; i++) fake.addComment(PR, `later comment ${String(i)}`, 'bob');
    const second = await publishReports(options(fake, { comment: '### comment v2' }).o);
    expect(second.comment).toBe('updated');

    const ours = (fake.comments.get(PR) ?? []).filter(
      (c) => c.user.login === 'github-actions[bot]',
    );
    expect(ours.map((c) => c.body)).toEqual([
      `${markerFor('load', 'other-test')}\nanother test`,
      `${marker}\n### comment v2`,
    ]);
    expect(fake.comments.get(PR)?.find((c) => c.user.login === 'mallory')?.body).toBe(
      `${marker}\nquoted by a human`,
    );
    // Each run read every page (per_page 100): 152, then 193 comments.
    const pages = fake.calls.filter(
      (c) => c.method === 'GET' && c.path.endsWith(`/issues/${String(PR)}/comments`),
    );
    expect(pages.length).toBe(2 + 2);
    expect((fake.comments.get(PR) ?? []).findIndex((c) => c.id === ours[1]?.id)).toBe(152);
    expect(fake.writes().map((c) => `${c.method} ${c.path}`)).toEqual([
      `POST /repos/acme/shop/issues/${String(PR)}/comments`,
      'POST /repos/acme/shop/check-runs',
      `PATCH /repos/acme/shop/issues/comments/${String(ours[1]?.id)}`,
      'POST /repos/acme/shop/check-runs',
    ]);
    expect(fake.calls.every((c) => c.authorization === 'token ghs_fake-token')).toBe(true);
  });

  it('puts the check run on the PR head commit, not the merge commit', async () => {
    const fake = await FakeGitHub.start();
    await publishReports(
      options(fake, { conclusion: 'failure', checkTitle: 'failed: k6 exit code 99' }).o,
    );
    expect(fake.checkRuns).toEqual([
      {
        name: 'k6-distributed (k6)',
        head_sha: HEAD_SHA,
        status: 'completed',
        conclusion: 'failure',
        output: { title: 'failed: k6 exit code 99', summary: '### check' },
      },
    ]);
  });

  it('degrades on a fork PR: job summary only, one notice, no API writes', async () => {
    const fake = await FakeGitHub.start();
    const { o, notices, warnings, summaries } = options(fake, {
      context: {
        owner: 'acme',
        repo: 'shop',
        eventName: 'pull_request',
        payload: prEvent('eve/shop'),
        sha: MERGE_SHA,
      },
    });
    expect(await publishReports(o)).toEqual({
      summary: 'written',
      comment: 'skipped',
      check: 'skipped',
    });
    expect(summaries).toEqual(['### summary']);
    expect(notices).toEqual([
      expect.stringMatching(/comes from a fork.*read-only token.*job summary/),
    ]);
    expect(warnings).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  it('only warns on a 403, and still creates the check run', async () => {
    const fake = await FakeGitHub.start();
    fake.failures.set('POST /repos/acme/shop/issues', 403);
    const { o, warnings } = options(fake);
    expect(await publishReports(o)).toEqual({
      summary: 'written',
      comment: 'failed',
      check: 'created',
    });
    expect(warnings).toEqual([
      expect.stringMatching(/could not post the PR comment .*pull-requests: write/),
    ]);
    expect(fake.checkRuns).toHaveLength(1);
  });

  it('outside a pull request: job summary and a check run on GITHUB_SHA, no comment', async () => {
    const fake = await FakeGitHub.start();
    const { o } = options(fake, {
      context: { owner: 'acme', repo: 'shop', eventName: 'push', payload: {}, sha: MERGE_SHA },
    });
    expect(await publishReports(o)).toEqual({
      summary: 'written',
      comment: 'skipped',
      check: 'created',
    });
    expect(fake.checkRuns[0]?.head_sha).toBe(MERGE_SHA);
  });
});
