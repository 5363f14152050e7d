/**
 * Issue 16 (found while fixing it): a script whose init code throws only in
 * the agents' VUs (never while the coordinator archives it) ends as `k6 run`
 * ends: exit 107 with k6's error, said once, and the summary k6 prints then.
 * Each case runs standalone k6 and the committed bundle (`run --agents N`)
 * on the same script, side by side (real k6).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { CLI, CliProcess, exec, type Ran } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/fs.js';
import { testK6Path } from '../helpers/k6.js';

/** `k6 run ARGS` and `k6-distributed run --agents N ARGS` on one script. */
async function sideBySide(
  source: string,
  agents: number,
  args: readonly string[] = [],
): Promise<{ k6: Ran; ours: Ran }> {
  const cwd = await tempDir();
  await writeFile(join(cwd, 'script.js'), source);
  const [k6, ours] = await Promise.all([
    exec(testK6Path(), ['run', ...args, 'script.js'], cwd),
    exec(process.execPath, [CLI, 'run', '--agents', String(agents), ...args, 'script.js'], cwd),
  ]);
  return { k6, ours };
}

/** k6's own error for the VU whose init code threw: its message's first line and where. */
function k6InitError(stderr: string): { message: string; at: string } {
  const line = stderr.split('\n').find((l) => l.includes('error while initializing VU'));
  const msg = /msg="((?:[^"\\]|\\.)*)"/.exec(line ?? '')?.[1] ?? '';
  const [message = '', at = ''] = (JSON.parse(`"${msg}"`) as string).split('\n\tat ');
  return { message, at: at.replace(/^file:\/\/\/.*\//, '').trim() };
}

/** Lines the coordinator itself writes (an agent's start with `[local-N]`). */
function coordinatorLines(ran: Ran): string[] {
  return `${ran.stdout}\n${ran.stderr}`.split('\n').filter((l) => !l.startsWith('[local-'));
}

function expectLikeK6(k6: Ran, ours: Ran): void {
  expect(k6.code).toBe(107);
  expect(ours.code).toBe(k6.code);
  const { message, at } = k6InitError(k6.stderr);
  expect(message).not.toBe('');
  const all = `${ours.stdout}\n${ours.stderr}`;
  expect(all).toContain(message);
  expect(all).toContain(at);
  // Said once by the coordinator (the result line in the table repeats it as every run's does).
  const said = coordinatorLines(ours).filter((l) => l.includes(message));
  expect(said.filter((l) => l.startsWith('error:'))).toHaveLength(1);
  expect(said.filter((l) => l.includes('result: exit code 107'))).toHaveLength(1);
  expect(all).not.toMatch(/lost|its output is above|exit code 97|Reduce of empty array/);
  // With no metric at all k6's own summary fails, and k6 says so: so does the run, in words.
  const summaryFailed = 'failed to handle the end-of-test summary';
  expect(ours.stderr.includes(summaryFailed)).toBe(k6.stderr.includes(summaryFailed));
}

describe('issue 16 (init error): init code that throws only in the VUs (real k6, side by side)', () => {
  it('issue 16 (init error): every agent throws: exit 107 with k6 message once, no summary as k6', async () => {
    const { k6, ours } = await sideBySide(
      "if (__VU > 0) throw new Error('boom');\n" +
        'export const options = { vus: 3, iterations: 6 };\n' +
        'export default function () {}\n',
      3,
    );
    expectLikeK6(k6, ours);
    // k6 prints no summary when no metric exists: its summary.js fails on it.
    expect(k6.stdout).not.toContain('TOTAL RESULTS');
    expect(ours.stdout).not.toContain('TOTAL RESULTS');
  });

  it('issue 16 (init error): depends on __ENV, and throws on one agent only (VU 2+, no setup())', async () => {
    const { k6, ours } = await sideBySide(
      'if (__ENV.FAIL_FROM && __VU >= Number(__ENV.FAIL_FROM)) {\n' +
        // Not naming __VU: standalone k6 initialises VUs in parallel and reports
        // whichever failed first (VU 2 or 3); __VU counts per agent (16.10).
        "  throw new Error('no account for this VU');\n" +
        '}\n' +
        'export const options = { vus: 3, iterations: 6 };\n' +
        'export default function () {}\n',
      // Agent 1 runs VUs 1 and 2 of 3; agent 2 initialises its one VU and is ready.
      2,
      ['-e', 'FAIL_FROM=2'],
    );
    expectLikeK6(k6, ours);
    const table = ours.stdout.split('\n');
    expect(table.find((l) => /^\s+2\s+local-2\s/.test(l))).not.toMatch(/LOST|107/);
  });

  it('issue 16 (init error): thresholds still show in the summary, as k6 prints them', async () => {
    const { k6, ours } = await sideBySide(
      "import { Counter } from 'k6/metrics';\n" +
        "const errors = new Counter('errors');\n" +
        "if (__VU > 0) throw new Error('boom');\n" +
        "export const options = { vus: 2, iterations: 2, thresholds: { errors: ['count<1'] } };\n" +
        'export default function () { errors.add(0); }\n',
      2,
    );
    expectLikeK6(k6, ours);
    for (const ran of [k6, ours]) {
      expect(ran.stdout).toContain('█ THRESHOLDS');
      expect(ran.stdout).toMatch(/✓ 'count<1' count=0/);
    }
  });

  it("issue 16 (init error): an agent's own -e makes only its VUs throw: 107 as k6 run with that -e", async () => {
    const source =
      "if (__ENV.ACCOUNTS === 'none' && __VU > 0) throw new Error('no accounts for this agent');\n" +
      'export const options = { vus: 2, iterations: 2 };\n' +
      'export default function () {}\n';
    const cwd = await tempDir();
    await writeFile(join(cwd, 'script.js'), source);
    const k6 = await exec(testK6Path(), ['run', '-e', 'ACCOUNTS=none', 'script.js'], cwd);
    const coordinator = new CliProcess(['coordinator', join(cwd, 'script.js'), '--agents', '2']);
    const url = (await coordinator.waitForLine(/^http:\/\/127\.0\.0\.1:\d+$/)).trim();
    const agents = [
      new CliProcess(['agent', '--name', 'good', '--coordinator', url]),
      new CliProcess(['agent', '--name', 'bad', '--coordinator', url, '-e', 'ACCOUNTS=none']),
    ];
    const [ended, ...agentsEnded] = await Promise.all([
      coordinator.exited,
      ...agents.map((a) => a.exited),
    ]);
    const ours: Ran = {
      code: ended.code ?? -1,
      stdout: '',
      stderr: coordinator.lines.join('\n'),
    };
    expectLikeK6(k6, ours);
    // No agent is lost: each ends as released by the coordinator.
    expect(agentsEnded.map((e) => e.code)).toEqual([0, 0]);
  });
});
