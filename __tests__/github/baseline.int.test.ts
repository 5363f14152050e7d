/**
 * The baseline lookup against a recording FAKE GitHub API on loopback (the
 * real one cannot be reached from tests), through the real Octokit of
 * @actions/github. The artifact download is the fake's seeded files written
 * straight to disk here; the real download (@actions/artifact following the
 * 302 to the fake's zip) runs in __tests__/action/reports.int.test.ts.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { getOctokit } from '@actions/github';

import {
  findBaseline,
  MAX_REPORT_BYTES,
  reportArtifactName,
  workflowFile,
  type ArtifactDownload,
} from '../../src/github/baseline.js';
import { FakeGitHub } from '../helpers/fake-github.js';

const figures = { p95Ms: 120.5, errorRate: 0.002, requestRate: 480 };
const result = (f: unknown = figures) =>
  JSON.stringify({ k6Distributed: 1, exitCode: 0, figures: f });

function downloadFrom(fake: FakeGitHub): ArtifactDownload {
  return async (artifactId, runId, dir) => {
    const artifact = fake.artifacts.find((a) => a.id === artifactId && a.runId === runId);
    if (!artifact) throw new Error(`no artifact ${String(artifactId)} in run ${String(runId)}`);
    for (const [name, text] of Object.entries(artifact.files))
      await writeFile(join(dir, name), text);
  };
}

async function lookup(
  fake: FakeGitHub,
  extra: { runId?: number; testName?: string; download?: ArtifactDownload } = {},
) {
  return findBaseline({
    octokit: getOctokit('ghs_fake-token', { baseUrl: fake.url }),
    owner: 'acme',
    repo: 'shop',
    workflow: 'load.yml',
    branch: 'main',
    testName: extra.testName ?? 'k6',
    runId: extra.runId,
    download: extra.download ?? downloadFrom(fake),
  });
}

describe('finding the base branch baseline (recording fake GitHub API)', () => {
  it('finds the last successful run and reads the figures of its newest attempt', async () => {
    const fake = await FakeGitHub.start();
    const older = fake.addRun({ workflow: 'load.yml', conclusion: 'success' });
    fake.addArtifact(older.id, reportArtifactName('k6', '1'), { 'result.json': result() });
    const run = fake.addRun({
      workflow: 'load.yml',
      conclusion: 'success',
      head_sha: 'e'.repeat(40),
    });
    fake.addArtifact(run.id, reportArtifactName('k6', '1'), {
      'result.json': result({ ...figures, p95Ms: 999 }),
    });
    fake.addArtifact(run.id, reportArtifactName('k6', '2'), { 'result.json': result() });
    fake.addArtifact(run.id, reportArtifactName('other', '3'), { 'result.json': 'nope' });
    // Runs of other workflows, branches and pull requests are not baselines.
    fake.addRun({ workflow: 'ci.yml', conclusion: 'success' });
    fake.addRun({ workflow: 'load.yml', conclusion: 'success', head_branch: 'feature' });
    fake.addRun({ workflow: 'load.yml', conclusion: 'success', event: 'pull_request' });

    const found = await lookup(fake);

    expect(found).toEqual({
      found: true,
      branch: 'main',
      run: { id: run.id, number: run.run_number, url: run.html_url, sha: 'e'.repeat(40) },
      figures,
      skipped: [],
    });
    expect(fake.calls.map((c) => c.path)).toEqual([
      '/repos/acme/shop/actions/workflows/load.yml/runs',
      `/repos/acme/shop/actions/runs/${String(run.id)}/artifacts`,
    ]);
  });

  it('passes over a failed base run to the last successful one, and says so', async () => {
    const fake = await FakeGitHub.start();
    const good = fake.addRun({ workflow: 'load.yml', conclusion: 'success' });
    fake.addArtifact(good.id, reportArtifactName('k6', '1'), { 'result.json': result() });
    const failed = fake.addRun({ workflow: 'load.yml', conclusion: 'failure' });
    fake.addArtifact(failed.id, reportArtifactName('k6', '1'), { 'result.json': result() });

    const found = await lookup(fake);

    expect(found.found && found.run.id).toBe(good.id);
    expect(found.skipped).toEqual([`run #${String(failed.run_number)} failure`]);
  });

  it('finds none when the only base runs failed', async () => {
    const fake = await FakeGitHub.start();
    const failed = fake.addRun({ workflow: 'load.yml', conclusion: 'failure' });
    const cancelled = fake.addRun({ workflow: 'load.yml', conclusion: 'cancelled' });

    expect(await lookup(fake)).toEqual({
      found: false,
      branch: 'main',
      reason: 'no successful run of load.yml among the last 2 on main kept a passing report',
      skipped: [
        `run #${String(cancelled.run_number)} cancelled`,
        `run #${String(failed.run_number)} failure`,
      ],
    });
  });

  it('finds none without runs, or without this test report, or with an unreadable one', async () => {
    const fake = await FakeGitHub.start();
    expect(await lookup(fake)).toMatchObject({
      found: false,
      reason: 'no completed push, schedule, workflow_dispatch run of load.yml on main yet',
    });

    const expired = fake.addRun({ workflow: 'load.yml', conclusion: 'success' });
    fake.addArtifact(expired.id, reportArtifactName('k6', '1'), { 'result.json': result() }, true);
    const broken = fake.addRun({ workflow: 'load.yml', conclusion: 'success' });
    fake.addArtifact(broken.id, reportArtifactName('k6', '1'), {
      'result.json': result({ p95Ms: -1, errorRate: 2, requestRate: 'fast' }),
    });
    const missing = fake.addRun({ workflow: 'load.yml', conclusion: 'success' });
    fake.addArtifact(missing.id, reportArtifactName('k6', '1'), { 'other.txt': 'x' });

    const none = await lookup(fake, { testName: 'k6' });
    expect(none.found).toBe(false);
    expect(none.skipped).toEqual([
      expect.stringMatching(
        new RegExp(`^run #${String(missing.run_number)}: its report could not be read`),
      ),
      `run #${String(broken.run_number)}: its result.json is not a k6-distributed result`,
      `run #${String(expired.run_number)} kept no report for test "k6"`,
    ]);
  });

  it('never takes the current run, and names the permission a 403 asks for', async () => {
    const fake = await FakeGitHub.start();
    const self = fake.addRun({ workflow: 'load.yml', conclusion: 'success' });
    fake.addArtifact(self.id, reportArtifactName('k6', '1'), { 'result.json': result() });
    expect((await lookup(fake, { runId: self.id })).found).toBe(false);

    fake.failures.set('GET /repos/acme/shop/actions/workflows', 403);
    const denied = await lookup(fake);
    expect(denied.found ? '' : denied.reason).toMatch(
      /HTTP 403\): give the workflow `permissions: actions: read`/,
    );
  });

  it('reads the workflow file off GITHUB_WORKFLOW_REF', () => {
    expect(workflowFile('acme/shop/.github/workflows/load.yml@refs/pull/7/merge')).toBe('load.yml');
    expect(workflowFile(undefined)).toBeUndefined();
  });

  it('takes push, schedule and workflow_dispatch runs only, and only a passing report', async () => {
    const fake = await FakeGitHub.start();
    const dispatched = fake.addRun({
      workflow: 'load.yml',
      conclusion: 'success',
      event: 'workflow_dispatch',
    });
    fake.addArtifact(dispatched.id, reportArtifactName('k6', '1'), { 'result.json': result() });
    const failing = fake.addRun({ workflow: 'load.yml', conclusion: 'success' });
    fake.addArtifact(failing.id, reportArtifactName('k6', '1'), {
      'result.json': JSON.stringify({ k6Distributed: 1, exitCode: 99, figures }),
    });
    // A comment command runs whatever code it checks out: never a baseline, not even listed.
    const comment = fake.addRun({
      workflow: 'load.yml',
      conclusion: 'success',
      event: 'issue_comment',
    });
    fake.addArtifact(comment.id, reportArtifactName('k6', '1'), { 'result.json': result() });

    const found = await lookup(fake);

    expect(found.found && found.run.id).toBe(dispatched.id);
    expect(found.skipped).toEqual([
      `run #${String(failing.run_number)}: its test failed (k6 exit code 99)`,
    ]);
  });

  it("reads every page of a big run's artifacts, and skips an oversized report", async () => {
    const fake = await FakeGitHub.start();
    const good = fake.addRun({ workflow: 'load.yml', conclusion: 'success' });
    for (let i = 0; i < 150; i++)
      fake.addArtifact(good.id, `matrix-${String(i)}`, { 'x.txt': 'x' });
    fake.addArtifact(good.id, reportArtifactName('k6', '1'), { 'result.json': result() });
    const huge = fake.addRun({ workflow: 'load.yml', conclusion: 'success' });
    const big = fake.addArtifact(huge.id, reportArtifactName('k6', '1'), {
      'result.json': result(),
    });
    big.sizeInBytes = MAX_REPORT_BYTES + 1;

    const found = await lookup(fake);

    expect(found.found && found.run.id).toBe(good.id);
    expect(found.skipped).toEqual([
      `run #${String(huge.run_number)}: its report is larger than 50 MiB`,
    ]);
    expect(
      fake.calls.filter(
        (c) => c.path === `/repos/acme/shop/actions/runs/${String(good.id)}/artifacts`,
      ),
    ).toHaveLength(2);
  });

  it('stops at a download that fails instead of waiting on every older run', async () => {
    const fake = await FakeGitHub.start();
    const older = fake.addRun({ workflow: 'load.yml', conclusion: 'success' });
    fake.addArtifact(older.id, reportArtifactName('k6', '1'), { 'result.json': result() });
    const newer = fake.addRun({ workflow: 'load.yml', conclusion: 'success' });
    fake.addArtifact(newer.id, reportArtifactName('k6', '1'), { 'result.json': result() });
    let downloads = 0;
    const found = await lookup(fake, {
      download: () => {
        downloads++;
        return Promise.reject(new Error('Artifact download failed after 5 retries.'));
      },
    });

    expect(found).toMatchObject({
      found: false,
      reason: `run #${String(newer.run_number)}: its report could not be downloaded (Artifact download failed after 5 retries.)`,
    });
    expect(downloads).toBe(1);
  });
});
