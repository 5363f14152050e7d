/**
 * The bundled action (dist/index.js) as a coordinator job with the Actions
 * environment (INPUT_*, GITHUB_*), one real agent (the CLI) and real k6,
 * publishing to a recording FAKE GitHub API on loopback.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from '@jest/globals';

import { freeLoopbackAddress } from '../../src/k6/address.js';
import { CliProcess } from '../helpers/cli-process.js';
import { reportArtifactName } from '../../src/github/baseline.js';
import { FakeGitHub } from '../helpers/fake-github.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript, testK6Path } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const ACTION = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const SECRET = 'reports-test-secret-0123';
const HEAD_SHA = 'c'.repeat(40);

interface Job {
  code: number;
  stdout: string;
  outputs: string;
  summary: string;
}

/** One coordinator job on a pull_request event, with one CLI agent joining it. */
async function coordinatorJob(
  fake: FakeGitHub,
  target: TargetServer,
  headRepo = 'acme/shop',
  extraEnv: Record<string, string> = {},
): Promise<Job> {
  const dir = await tempDir();
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
  };
  await writeFile(files.GITHUB_OUTPUT, '');
  await writeFile(files.GITHUB_STEP_SUMMARY, '');
  await writeFile(
    files.GITHUB_EVENT_PATH,
    JSON.stringify({
      pull_request: {
        number: 7,
        head: { sha: HEAD_SHA, repo: { full_name: headRepo } },
        base: { ref: 'main' },
      },
      repository: { full_name: 'acme/shop' },
    }),
  );
  const url = `http://${await freeLoopbackAddress()}`;
  const env = {
    PATH: process.env.PATH,
    K6_PATH: testK6Path(),
    RUNNER_TEMP: dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_WORKFLOW: 'load',
    GITHUB_WORKFLOW_REF: 'acme/shop/.github/workflows/load.yml@refs/pull/7/merge',
    GITHUB_RUN_ID: '9000',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_SHA: 'd'.repeat(40),
    GITHUB_API_URL: fake.url,
    ...files,
    INPUT_ROLE: 'coordinator',
    INPUT_SCRIPT: fixtureScript('metrics.js'),
    INPUT_AGENTS: '1',
    INPUT_FLAGS: `-e TARGET=${target.url} -e ITERATIONS=6`,
    INPUT_TUNNEL: 'none',
    'INPUT_COORDINATOR-URL': url,
    INPUT_AUTH: 'secret',
    INPUT_SECRET: SECRET,
    'INPUT_JOIN-TIMEOUT': '30s',
    'INPUT_GITHUB-TOKEN': 'ghs_fake-token',
    ...extraEnv,
  };
  const job = new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, [ACTION], { env }, (error, stdout) =>
      resolve({ code: error ? Number(error.code) : 0, stdout }),
    );
  });
  const agent = new CliProcess(['agent', '--coordinator', url, '--secret', SECRET]);
  const [done] = await Promise.all([job, agent.exited]);
  return {
    ...done,
    outputs: await readFile(files.GITHUB_OUTPUT, 'utf8'),
    summary: await readFile(files.GITHUB_STEP_SUMMARY, 'utf8'),
  };
}

describe('dist/index.js publishing results (recording fake GitHub API, real k6)', () => {
  it('creates the PR comment, then updates it; a check run on the PR head each time', async () => {
    const fake = await FakeGitHub.start();
    const target = await TargetServer.start();

    const first = await coordinatorJob(fake, target);
    expect(first.code).toBe(0);
    expect(first.outputs).toMatch(/result<<(\S+)\npassed\n\1/);
    expect(first.summary).toContain('### ✅ k6-distributed:');
    expect(first.summary).toMatch(/\| `iterations` \| 6 \(/);
    // The action's log has the distributed run's section after k6's summary, as the CLI's (issue 20.3).
    expect(first.stdout).toMatch(/█ DISTRIBUTED RUN: 1 agents, start skew \d+\.\d ms/);
    expect(first.stdout).toMatch(/^ {4}1\* +\S+ +0:1 +100\.0% +\+0\.0 ms +6 +8 /m);
    const second = await coordinatorJob(fake, target);
    expect(second.code).toBe(0);

    const comments = fake.comments.get(7) ?? [];
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toMatch(/^<!-- k6-distributed:report:[0-9a-f]{16} -->\n### ✅/);
    expect(fake.writes().map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /repos/acme/shop/issues/7/comments',
      'POST /repos/acme/shop/check-runs',
      `PATCH /repos/acme/shop/issues/comments/${String(comments[0]?.id)}`,
      'POST /repos/acme/shop/check-runs',
    ]);
    expect(fake.checkRuns.map((c) => [c.head_sha, c.conclusion, c.name])).toEqual([
      [HEAD_SHA, 'success', 'k6-distributed (k6)'],
      [HEAD_SHA, 'success', 'k6-distributed (k6)'],
    ]);
    expect(target.count('/setup')).toBe(2);
    expect(target.count('/iteration')).toBe(12);
  });

  it('on a fork PR: job summary only, with a notice; nothing written to the API', async () => {
    const fake = await FakeGitHub.start();
    const job = await coordinatorJob(fake, await TargetServer.start(), 'eve/shop');
    expect(job.code).toBe(0);
    expect(job.stdout).toMatch(
      /::notice::k6-distributed: no PR comment or check run because this pull request comes from a fork/,
    );
    expect(job.summary).toContain('### ✅ k6-distributed:');
    // Reading the base branch's runs is allowed; nothing is written.
    expect(job.summary).toContain(
      'No baseline: no completed push, schedule, workflow_dispatch run of load.yml on main yet.',
    );
    expect(fake.writes()).toEqual([]);
  });

  it('a 403 from the API only warns: the verdict and exit code stay', async () => {
    const fake = await FakeGitHub.start();
    fake.failures.set('POST /repos/acme/shop/check-runs', 403);
    const job = await coordinatorJob(fake, await TargetServer.start());
    expect(job.code).toBe(0);
    expect(job.outputs).toMatch(/exit-code<<(\S+)\n0\n\1/);
    expect(job.stdout).toMatch(/::warning::could not create the check run .*checks: write/);
    expect(fake.comments.get(7)).toHaveLength(1);
  });

  it('compares with the base branch: a regression past fail-on-regression fails the check', async () => {
    const fake = await FakeGitHub.start();
    // The baseline: impossibly fast and busy, so this run is worse on p(95) and request rate.
    const good = fake.addRun({ workflow: 'load.yml', conclusion: 'success' });
    const baseline = { p95Ms: 0.001, errorRate: 0, requestRate: 1e6 };
    const artifact = fake.addArtifact(good.id, reportArtifactName('k6', '1'), {
      'result.json': JSON.stringify({ k6Distributed: 1, exitCode: 0, figures: baseline }),
      'report.html': '<!doctype html>',
    });
    const failed = fake.addRun({ workflow: 'load.yml', conclusion: 'failure' });

    const job = await coordinatorJob(fake, await TargetServer.start(), 'acme/shop', {
      'INPUT_FAIL-ON-REGRESSION': 'p95=50%',
    });

    // k6's verdict stands; the regression fails the step and the check.
    expect(job.code).toBe(1);
    expect(job.outputs).toMatch(/result<<(\S+)\npassed\n\1/);
    expect(job.outputs).toMatch(/exit-code<<(\S+)\n0\n\1/);
    expect(job.outputs).toMatch(/regressed<<(\S+)\ntrue\n\1/);
    expect(job.stdout).toMatch(
      new RegExp(`::error::regressed against main's run #${String(good.run_number)}: p95 \\+\\d`),
    );
    const comment = fake.comments.get(7)?.[0]?.body ?? '';
    expect(comment).toContain('#### Compared with `main`');
    expect(comment).toContain(`Baseline: [run #${String(good.run_number)}](${good.html_url})`);
    expect(comment).toMatch(
      /\| p\(95\) `http_req_duration` \| 0\.00 ms \| [\d.]+ ms \| \*\*\+[\d.]+ %\*\* ❌ over p95=50% \|/,
    );
    expect(comment).toMatch(
      /\| Request rate `http_reqs` \| 1000000\.0\/s \| [\d.]+\/s \| \*\*−[\d.]+ %\*\* 🔺 \|/,
    );
    expect(comment).toContain(`Passed over: run #${String(failed.run_number)} failure.`);
    expect(job.summary).toContain('#### Compared with `main`');
    const html = /report-html<<(\S+)\n(.*)\n\1/.exec(job.outputs)?.[2] ?? '';
    expect(await readFile(html, 'utf8')).toMatch(
      /<h2>Compared with <code>main<\/code><\/h2>[\s\S]*✗ over p95=50%[\s\S]*<h2>Over time<\/h2>/,
    );
    expect(
      fake.checkRuns.map((c) => [c.conclusion, (c.output as { title: string }).title]),
    ).toEqual([['failure', expect.stringMatching(/^passed: k6 exit code 0; regressed: p95 \+/)]]);
    // @actions/artifact downloaded the baseline as from GitHub: a 302 to blob storage, a zip.
    expect(fake.calls.map((c) => c.path)).toEqual(
      expect.arrayContaining([
        `/repos/acme/shop/actions/artifacts/${String(artifact.id)}/zip`,
        `/blob/${String(artifact.id)}.zip`,
      ]),
    );
    // No artifact service outside GitHub: the upload warns and nothing else changes.
    expect(job.stdout).toMatch(
      /::warning::could not upload the report artifact "k6-report-k6-attempt-1"/,
    );
  });

  it('says there is no baseline when the base branch has no run of the workflow', async () => {
    const fake = await FakeGitHub.start();
    const job = await coordinatorJob(fake, await TargetServer.start(), 'acme/shop', {
      'INPUT_FAIL-ON-REGRESSION': 'p95=50%',
    });
    expect(job.code).toBe(0);
    expect(job.outputs).toMatch(/regressed<<(\S+)\n\n\1/);
    expect(fake.comments.get(7)?.[0]?.body).toContain(
      '#### Compared with `main`\n\nNo baseline: no completed push, schedule, workflow_dispatch run of load.yml on main yet.',
    );
    expect(fake.checkRuns.map((c) => c.conclusion)).toEqual(['success']);
    expect(job.stdout).toMatch(/::warning::could not upload the report artifact/);

    // Both turned off: no lookup, no upload, no comparison section.
    const calls = fake.calls.length;
    const off = await coordinatorJob(fake, await TargetServer.start(), 'acme/shop', {
      'INPUT_COMPARE-WITH-BASE': 'false',
      'INPUT_UPLOAD-REPORT': 'false',
    });
    expect(off.code).toBe(0);
    expect(off.stdout).not.toMatch(/upload the report artifact/);
    expect(off.summary).not.toContain('Compared with');
    expect(fake.calls.slice(calls).some((c) => c.path.includes('/actions/'))).toBe(false);
  });
});
