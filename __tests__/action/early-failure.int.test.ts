/**
 * Issue 20.1 and 20.2: the bundled action (dist/index.js) ending before a run
 * could report, as a runner runs it (INPUT_*, GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files), with real k6 as the oracle for exit codes and
 * a fake of the run's artifact service for the rendezvous.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { startJob } from '../helpers/action-job.js';
import { FakeArtifacts } from '../helpers/fake-artifacts.js';
import { tempDir } from '../helpers/fs.js';
import { testK6Path } from '../helpers/k6.js';

const SECRET = 'early-failure-secret-0123';

/** Its third line does not parse: k6 quotes the `<` it stopped at, escaped in the job summary. */
const BROKEN_SCRIPT = `import http from 'k6/http';
export default function () {
  const x = <img src=x onerror=alert(1)> ;
}
`;

/** Standalone `k6 run` on the script: the exit code the action must report. */
function k6RunExitCode(script: string): Promise<number> {
  return new Promise((resolve) => {
    execFile(testK6Path(), ['run', '--quiet', script], (error) =>
      resolve(error ? Number(error.code) : 0),
    );
  });
}

async function brokenScript(): Promise<string> {
  const script = join(await tempDir(), 'broken.js');
  await writeFile(script, BROKEN_SCRIPT);
  return script;
}

function coordinatorInputs(script: string): Record<string, string> {
  return {
    role: 'coordinator',
    script,
    agents: '1',
    tunnel: 'none',
    auth: 'secret',
    secret: SECRET,
    'comment-on-pr': 'false',
    'check-run': 'false',
    'upload-report': 'false',
    'compare-with-base': 'false',
  };
}

describe('the action ending early (dist/index.js, real k6)', () => {
  it('issue 20.1: a script syntax error sets exit-code 107 and writes a job summary', async () => {
    const script = await brokenScript();
    const k6Code = await k6RunExitCode(script);
    expect(k6Code).toBe(107);

    const job = await startJob({
      ...coordinatorInputs(script),
      'coordinator-url': 'http://127.0.0.1:1',
    });
    const end = await job.exited;

    expect(end.code).toBe(1);
    expect(end.outputs['exit-code']).toBe(String(k6Code));
    expect(end.outputs.result).toBe('error');
    expect(end.stdout).toMatch(/::error::k6 archive rejected .*broken\.js \(the script threw/);
    expect(end.summary).toContain('### ❌ k6-distributed `');
    expect(end.summary).toContain('broken.js` could not run');
    expect(end.summary).toContain(`**exit code ${String(k6Code)}** (script-exception): k6 archive`);
    expect(end.summary).toContain('Line 3:13 Unexpected token \\<');
    // k6's words about the script are text, never HTML.
    expect(end.summary).not.toMatch(/(?<!\\)</);
    expect(end.summary).toContain('Step outputs: `result` is `error`, `exit-code` is `107`.');
  });

  it('issue 20.1: invalid inputs set result and exit-code (104) and write a job summary listing each problem', async () => {
    const job = await startJob({
      'k6-version': 'newest',
      role: 'coordinator',
      agents: 'three',
      auth: 'secret',
    });
    const end = await job.exited;

    expect(end.code).toBe(1);
    expect(end.outputs).toEqual({ result: 'error', 'exit-code': '104' });
    expect(end.summary).toContain(
      '### ❌ k6-distributed could not run\n\n**exit code 104** (invalid-config): invalid action inputs:',
    );
    for (const problem of [
      '- input "k6-version": "newest" is not a k6 version',
      '- input "agents": "three" is not a positive whole number',
      '- input "secret": auth: secret needs a secret of at least 16 characters',
      '- input "script": the coordinator needs',
    ]) {
      expect(end.summary).toContain(problem);
    }
  });

  it('issue 20.2: an agent waiting for a coordinator that failed exits at once with its reason and exit code', async () => {
    const artifacts = await FakeArtifacts.start();
    // join-timeout 120 s: waiting it out would time this test out.
    const agent = await startJob(
      { role: 'agent', auth: 'secret', secret: SECRET, 'join-timeout': '120s' },
      artifacts.env(),
    );
    await agent.printed("waiting for the coordinator's URL");
    const script = await brokenScript();
    const k6Code = await k6RunExitCode(script);
    const coordinator = await startJob(coordinatorInputs(script), artifacts.env());

    const coordinatorEnd = await coordinator.exited;
    expect(coordinatorEnd.outputs['exit-code']).toBe(String(k6Code));
    const card = JSON.parse(
      artifacts.files('k6-distributed-k6-attempt-1')?.['coordinator.json'] ?? '{}',
    ) as { failed?: { message: string; exitCode: number } };
    expect(card.failed?.exitCode).toBe(k6Code);
    expect(card.failed?.message).toMatch(/^k6 archive rejected .*Unexpected token </);

    const end = await agent.exited;
    expect(end.code).toBe(1);
    expect(end.outputs).toMatchObject({ result: 'error', 'exit-code': String(k6Code) });
    expect(end.stdout).toMatch(
      /::error::the coordinator failed \(exit code 107\): k6 archive rejected .*broken\.js/,
    );
    expect(end.summary).toContain('### ❌ k6-distributed agent could not run');
    expect(end.summary).toContain('**exit code 107** (script-exception): the coordinator failed');
    expect(end.summary).toContain('Line 3:13 Unexpected token \\<');
    expect(end.summary).not.toMatch(/(?<!\\)</);
  }, 90_000);
});
