/**
 * Issue 20.4: the reusable workflow's own steps through the bundled action
 * (dist/index.js, as a runner runs it): the plan (a glob of scripts, an
 * agents matrix) and verify-only (k6 archive and inspect, no load), with
 * real k6 as the oracle for what it accepts and its exit codes.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { startJob } from '../helpers/action-job.js';
import { tempDir } from '../helpers/fs.js';
import { testK6Path } from '../helpers/k6.js';

const SCRIPT = `export const options = { vus: Number(__ENV.VUS || 1), iterations: 20 };
export default function () {}
`;

/** `k6 archive`'s exit code on the script: what verify-only must report. */
function k6ArchiveExitCode(dir: string, script: string, args: string[] = []): Promise<number> {
  return new Promise((resolve) => {
    execFile(
      testK6Path(),
      ['archive', ...args, '-O', join(dir, 'oracle.tar'), script],
      { cwd: dir },
      (error) => resolve(error ? Number(error.code) : 0),
    );
  });
}

async function workspace(files: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

describe('the reusable workflow plan (dist/index.js, issue 20.4)', () => {
  it('finds every script a glob matches and sets the coordinator and agent matrices', async () => {
    const dir = await workspace({
      'tests/login.js': SCRIPT,
      'tests/browse.js': SCRIPT,
      'tests/lib/helpers.ts': '',
      'README.md': '',
    });
    const job = startJob(
      {
        role: 'plan',
        script: 'tests/*.js',
        'agents-matrix':
          '[{"count": 2, "name": "eu", "tags": "region=eu"}, {"name": "us", "weight": 2}]',
        'agents-runs-on': '["self-hosted", "linux"]',
      },
      { GITHUB_WORKSPACE: dir },
    );
    const end = await (await job).exited;
    expect(end.code).toBe(0);
    expect(JSON.parse(end.outputs.tests ?? '')).toEqual([
      { script: 'tests/browse.js', 'test-name': 'k6-browse' },
      { script: 'tests/login.js', 'test-name': 'k6-login' },
    ]);
    expect(end.outputs['agent-count']).toBe('3');
    const agents = JSON.parse(end.outputs.agents ?? '') as Record<string, unknown>[];
    expect(agents).toHaveLength(6);
    expect(agents[2]).toEqual({
      'test-name': 'k6-browse',
      name: 'us',
      weight: '2',
      tags: '',
      env: '',
      'runs-on': ['self-hosted', 'linux'],
    });
    expect(end.stdout).toContain(
      'test "k6-login": tests/login.js, 3 agents (eu-1 region=eu, eu-2 region=eu, us ×2)',
    );
    // No k6 is needed to plan.
    expect(end.outputs['k6-path']).toBeUndefined();
  });

  it('fails with the problem and the fix when the glob matches nothing or the matrix is wrong', async () => {
    const dir = await workspace({ 'tests/load.js': SCRIPT });
    const none = await (
      await startJob({ role: 'plan', script: 'perf/*.js' }, { GITHUB_WORKSPACE: dir })
    ).exited;
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/::error::input "script": "perf\/\*\.js" matches no file/);
    expect(none.outputs.result).toBe('error');
    expect(none.summary).toContain("k6-distributed's plan `perf/*.js` could not run");

    const bad = await (
      await startJob(
        { role: 'plan', script: 'tests/load.js', 'agents-matrix': '[{"count": 0}]' },
        { GITHUB_WORKSPACE: dir },
      )
    ).exited;
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/::error::input "agents-matrix": \[0\]\.count: /);
  });
});

describe('verify-only (dist/index.js, real k6, issue 20.4)', () => {
  const inputs = (script: string, extra: Record<string, string> = {}) => ({
    role: 'coordinator',
    script,
    agents: '4',
    'verify-only': 'true',
    'comment-on-pr': 'false',
    'check-run': 'false',
    'upload-report': 'false',
    'compare-with-base': 'false',
    ...extra,
  });

  it("checks the test as k6 does, with k6-env's values masked, and says its plan and warnings; no load, no agents", async () => {
    const dir = await workspace({ 'load.js': SCRIPT });
    expect(await k6ArchiveExitCode(dir, 'load.js')).toBe(0);
    const end = await (
      await startJob(inputs('load.js', { 'k6-env': 'VUS=2\nAPI_TOKEN=tok-5f3a9c-secret' }), {
        GITHUB_WORKSPACE: dir,
      })
    ).exited;
    expect(end.code).toBe(0);
    expect(end.outputs).toMatchObject({ result: 'verified', 'exit-code': '0' });
    expect(end.stdout).toContain('::add-mask::tok-5f3a9c-secret');
    expect(end.stdout).not.toMatch(/[^:]tok-5f3a9c-secret/);
    // k6's own plan, with the options k6-env gave (2 VUs), split over 4 agents.
    expect(end.stdout).toMatch(/scenarios: \(100\.00%\) 1 scenario, 2 max VUs/);
    expect(end.stdout).toMatch(/execution: distributed, 4 agents/);
    expect(end.summary).toContain('### ✅ k6-distributed: `load.js` verified, no load made');
    expect(end.summary).toContain('2 max VUs');
    // 2 VUs for 4 agents: the run would warn, and so does the check.
    expect(end.summary).toMatch(/⚠️ 2 of 4 agents get no load at all/);
    expect(end.stdout).toMatch(/::warning::2 of 4 agents get no load at all/);
  });

  it('fails an invalid test with the exit code k6 gives it, before any agent', async () => {
    const dir = await workspace({
      'bad.js': `export const options = { thresholds: { http_req_duration: ['p(95)<<1'] } };
export default function () {}
`,
    });
    const k6Code = await k6ArchiveExitCode(dir, 'bad.js');
    expect(k6Code).not.toBe(0);
    const end = await (await startJob(inputs('bad.js'), { GITHUB_WORKSPACE: dir })).exited;
    expect(end.code).toBe(1);
    expect(end.outputs).toMatchObject({ result: 'error', 'exit-code': String(k6Code) });
    expect(end.summary).toContain('`bad.js` could not run');
  });
});
