/**
 * Issue 16 items 10, 12 and 13: the CLI takes arguments as `k6 run` does and
 * says what `k6 run` says. Each case runs standalone k6 and the committed
 * bundle (`run --agents N`) on the same script, side by side (real k6).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { CLI, CliProcess, exec, type Ran } from '../helpers/cli-process.js';
import { runDistributed } from '../helpers/distributed.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { tempDir } from '../helpers/fs.js';
import { testK6Path } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';
import { SATURATION } from '../helpers/run-outcome.js';

/** `k6 run ARGS` and `k6-distributed run --agents N ARGS` in the same folder. */
async function sideBySide(args: readonly string[], agents = 2): Promise<{ k6: Ran; ours: Ran }> {
  const cwd = scriptsDir;
  const [k6, ours] = await Promise.all([
    exec(testK6Path(), ['run', ...args], cwd),
    exec(process.execPath, [CLI, 'run', '--agents', String(agents), ...args], cwd),
  ]);
  return { k6, ours };
}

/** `k6 run ARGS` and `run --agents N ARGS`, each with stdout and stderr in one stream, in order. */
async function sideBySideMerged(
  args: readonly string[],
  agents: number,
): Promise<Record<'k6' | 'ours', { code: number; output: string }>> {
  const merged = async (file: string, fileArgs: readonly string[]) => {
    const ran = await exec('/bin/sh', ['-c', '"$0" "$@" 2>&1', file, ...fileArgs], scriptsDir);
    return { code: ran.code, output: ran.stdout };
  };
  const [k6, ours] = await Promise.all([
    merged(testK6Path(), ['run', ...args]),
    merged(process.execPath, [CLI, 'run', '--agents', String(agents), ...args]),
  ]);
  return { k6, ours };
}

/** Every piece occurs in `text`, in this order. */
function order(text: string, pieces: readonly string[]): boolean {
  let from = 0;
  for (const piece of pieces) {
    const at = text.indexOf(piece, from);
    if (at < 0) return false;
    from = at + piece.length;
  }
  return true;
}

let scriptsDir = '';

async function script(name: string, source: string): Promise<string> {
  scriptsDir ||= await tempDir();
  await writeFile(join(scriptsDir, name), source);
  return name;
}

const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern, 'g'))?.length ?? 0;

describe('issue 16.12: arguments as k6 takes them (real k6, side by side)', () => {
  it('issue 16.12: a bare --http-debug does not swallow the script, in any position', async () => {
    scriptsDir = await tempDir();
    const target = await TargetServer.start();
    const s = await script(
      'http.js',
      "import http from 'k6/http';\nexport default function () { http.get(`${__ENV.TARGET}/debugged`); }\n",
    );
    for (const args of [
      ['--http-debug', '-e', `TARGET=${target.url}`, '-u', '1', '-i', '4', s],
      [s, '-e', `TARGET=${target.url}`, '-u', '1', '-i', '4', '--http-debug'],
    ]) {
      const { k6, ours } = await sideBySide(args);
      expect({ code: ours.code, stderr: ours.code === 0 ? '' : ours.stderr }).toEqual({
        code: k6.code,
        stderr: '',
      });
      expect(count(k6.stderr, /Request:/)).toBe(4);
      expect(count(ours.stderr, /Request:/)).toBe(count(k6.stderr, /Request:/));
    }
    expect(target.count('/debugged')).toBe(16);
  });

  it('issue 16.12: the script before the flags, ours and k6 flags mixed', async () => {
    scriptsDir = await tempDir();
    const target = await TargetServer.start();
    const s = await script(
      'iters.js',
      "import http from 'k6/http';\nexport default function () { http.get(`${__ENV.TARGET}/it`); }\n",
    );
    const k6 = await exec(
      testK6Path(),
      ['run', s, '-u', '2', '-i', '6', '-e', `TARGET=${target.url}`],
      scriptsDir,
    );
    const ours = await exec(
      process.execPath,
      [
        CLI,
        'run',
        s,
        '--agents',
        '2',
        '-u',
        '2',
        '--summary-mode=disabled',
        '-i',
        '6',
        '-e',
        `TARGET=${target.url}`,
      ],
      scriptsDir,
    );
    expect(ours.code).toBe(k6.code);
    expect(ours.stderr).not.toMatch(/error/);
    expect(target.count('/it')).toBe(12);
  });

  it('issue 16.12: coordinator and agent take their arguments in any order too', async () => {
    scriptsDir = await tempDir();
    const target = await TargetServer.start();
    const s = await script(
      'http.js',
      "import http from 'k6/http';\nexport default function () { http.get(`${__ENV.TARGET}/c`); }\n",
    );
    const coordinator = new CliProcess([
      'coordinator',
      join(scriptsDir, s),
      '-i',
      '2',
      '--agents',
      '1',
      '--http-debug',
      '-u',
      '1',
      '-e',
      `TARGET=${target.url}`,
    ]);
    const url = (await coordinator.waitForLine(/^http:\/\/127\.0\.0\.1:\d+$/)).trim();
    const agent = new CliProcess(['agent', '--name', 'one', '--coordinator', url, '--weight', '1']);
    expect((await coordinator.exited).code).toBe(0);
    expect((await agent.exited).code).toBe(0);
    expect(target.count('/c')).toBe(2);
    expect(count(agent.text(), /Request:/)).toBe(2);
  });

  it("issue 16.12: k6's flag errors: k6's exit code, k6's message once, no jargon", async () => {
    scriptsDir = await tempDir();
    const s = await script('s.js', 'export default function () {}\n');
    for (const args of [
      ['-u', 'abc', s],
      [s, '--bogus'],
      [s, '-u'],
      [s, 'other.js'],
    ]) {
      const { k6, ours } = await sideBySide(args);
      expect(ours.code).toBe(k6.code);
      const k6Message = /msg="(.*?)(: arg should.*)?"$/m.exec(k6.stderr)?.[1]?.replace(/\\"/g, '"');
      expect(k6Message).toBeDefined();
      expect(count(ours.stderr, new RegExp(escape(k6Message ?? '')))).toBe(1);
      expect(ours.stderr).not.toMatch(/untyped|level=error/);
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('issue 16.13: messages as k6 gives them (real k6, side by side)', () => {
  it("issue 16.13: the result line carries test.abort()'s reason as k6 prints it; a stop we ordered is no error", async () => {
    scriptsDir = await tempDir();
    const s = await script(
      'abort.js',
      "import exec from 'k6/execution';\nimport { sleep } from 'k6';\n" +
        "export const options = { vus: 3, duration: '10s' };\n" +
        'export default function () {\n  sleep(0.1);\n' +
        "  if (exec.vu.idInTest === 1 && exec.vu.iterationInScenario === 2) exec.test.abort('enough said');\n}\n",
    );
    const { k6, ours } = await sideBySide([s], 3);
    expect(ours.code).toBe(k6.code);
    const k6Reason = /msg="(test aborted: enough said at [^"]+)"/.exec(k6.stderr)?.[1];
    expect(k6Reason).toMatch(/^test aborted: enough said at default \(file:\/\/\//);
    expect(ours.stdout).toContain(`result: exit code 108: agent 1 (local-1): ${k6Reason ?? '-'}`);
    expect(ours.stderr).not.toMatch(/stopped from REST API/);
  });

  it("issue 16.13: failed thresholds end with k6's line, same wording", async () => {
    scriptsDir = await tempDir();
    const s = await script(
      'thresholds.js',
      "import { Counter } from 'k6/metrics';\nconst errs = new Counter('errs');\n" +
        "export const options = { vus: 2, iterations: 4, thresholds: { errs: ['count<1'], iterations: ['count<1'], checks: ['rate>0'] } };\n" +
        'export default function () { errs.add(1); }\n',
    );
    const { k6, ours } = await sideBySide([s]);
    expect([k6.code, ours.code]).toEqual([99, 99]);
    const line = /msg="(thresholds on metrics '[^']+' have been crossed)"/.exec(k6.stderr)?.[1];
    expect(line).toBe("thresholds on metrics 'errs, iterations' have been crossed");
    expect(ours.stderr.split('\n')).toContain(`error: ${line ?? '-'}`);
  });

  it("issue 16.13: exec.test.fail(): k6's two lines from the coordinator, same words, level and place around the summary", async () => {
    scriptsDir = await tempDir();
    const s = await script(
      'fail.js',
      "import exec from 'k6/execution';\n" +
        'export const options = { vus: 2, iterations: 6 };\n' +
        "export default function () {\n  if (exec.scenario.iterationInTest === 3) exec.test.fail('iteration 3 saw a bad answer');\n}\n",
    );
    const { k6, ours } = await sideBySideMerged([s], 3);
    expect([k6.code, ours.code]).toEqual([110, 110]);
    const reason = 'test marked as failed: iteration 3 saw a bad answer';
    const end = 'test run was marked as failed';
    // k6: the reason as the script calls it, before the summary; its last line after it.
    expect(
      order(k6.output, [
        `level=error msg="${reason}"`,
        'TOTAL RESULTS',
        `level=error msg="${end}"`,
      ]),
    ).toBe(true);
    const coordinator = ours.output
      .split('\n')
      .filter((l) => !/^\[local-\d+\] /.test(l))
      .join('\n');
    expect(order(coordinator, [`error: ${reason}\n`, 'TOTAL RESULTS', `error: ${end}\n`])).toBe(
      true,
    );
    expect(count(ours.output, new RegExp(reason))).toBe(1);
    expect(count(ours.output, new RegExp(end))).toBe(1);
  });

  it('issue 16.13: setup() that throws or calls test.abort(): its error once, from the coordinator, after the summary; none of our side effects', async () => {
    scriptsDir = await tempDir();
    const s = await script(
      'setup.js',
      "import exec from 'k6/execution';\n" +
        'export const options = { vus: 2, iterations: 4 };\n' +
        "export function setup() {\n  if (__ENV.MODE === 'abort') exec.test.abort('no stock');\n  throw new Error('could not log in');\n}\n" +
        'export default function () {}\n',
    );
    for (const [args, code, words] of [
      [[s], 107, 'Error: could not log in'],
      [['-e', 'MODE=abort', s], 108, 'test aborted: no stock'],
    ] as const) {
      const { k6, ours } = await sideBySideMerged(args, 3);
      expect([k6.code, ours.code]).toEqual([code, code]);
      expect(order(k6.output, ['TOTAL RESULTS', `level=error msg="${words}`])).toBe(true);
      expect(count(k6.output, new RegExp(words))).toBe(1);
      expect(order(ours.output, ['TOTAL RESULTS', `\nerror: ${words}`])).toBe(true);
      // Once in the log (the result line of our own section repeats it, as for thresholds).
      expect(count(ours.output.replace(/^ +result: .*$/m, ''), new RegExp(words))).toBe(1);
      expect(ours.output).not.toMatch(/Error executing setup|received a 'interrupt' signal/);
    }
  });

  it('issue 16.13: agent N is local-N in the log and in the table', async () => {
    scriptsDir = await tempDir();
    const s = await script(
      's.js',
      'export const options = { vus: 4, iterations: 8 };\nexport default function () {}\n',
    );
    const ours = await exec(process.execPath, [CLI, 'run', '--agents', '4', s], scriptsDir);
    expect(ours.code).toBe(0);
    const rows = [...ours.stdout.matchAll(/^ +(\d+)\*? +(local-\d+) /gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual([1, 2, 3, 4].map((n) => [String(n), `local-${String(n)}`]));
    const joined = [...ours.stderr.matchAll(/agent (\d+) \((local-\d+)\) joined/g)];
    expect(joined.map((m) => `${m[1] ?? ''} ${m[2] ?? ''}`)).toEqual([
      '1 local-1',
      '2 local-2',
      '3 local-3',
      '4 local-4',
    ]);
  });

  it('issue 16.13: "No script iterations fully finished" only when the whole run finished none, as k6', async () => {
    scriptsDir = await tempDir();
    const fewVus = await script(
      'few-vus.js',
      'export const options = { vus: 1, iterations: 2 };\nexport default function () {}\n',
    );
    const none = await script(
      'none.js',
      "import { sleep } from 'k6';\n" +
        "export const options = { scenarios: { a: { executor: 'constant-vus', vus: 2, duration: '1s', gracefulStop: '0s' } } };\n" +
        'export default function () { sleep(3); }\n',
    );
    const warning = /No script iterations fully finished/g;
    const few = await sideBySide([fewVus], 3);
    expect([few.k6.code, few.ours.code]).toEqual([0, 0]);
    expect(count(few.ours.stderr, warning)).toBe(count(few.k6.stderr, warning));
    expect(count(few.k6.stderr, warning)).toBe(0);
    const zero = await sideBySide([none]);
    expect(zero.ours.code).toBe(zero.k6.code);
    expect(count(zero.k6.stderr, warning)).toBe(1);
    expect(count(zero.ours.stderr, warning)).toBe(1);
  });

  it('issue 16.13: local-N is agent N even when registrations travel at different speeds', async () => {
    scriptsDir = await tempDir();
    const s = await script('s.js', 'export default function () {}\n');
    const run = await runDistributed({
      script: join(scriptsDir, s),
      agents: 3,
      agentUrl: async (url) =>
        (
          await FaultProxy.start(url, {
            paths: ['/v1/register'],
            latencyMs: 100,
            jitterMs: 100,
            seed: 7,
          })
        ).url,
    });
    expect(run.exitCode).toBe(0);
    expect(run.agents.map((a) => `${String(a.index + 1)} ${a.name}`)).toEqual([
      '1 local-1',
      '2 local-2',
      '3 local-3',
    ]);
  });
});

describe('issue 16.10: __VU repeats on every agent (real k6, side by side)', () => {
  const LIB =
    "export const users = ['ann', 'bob', 'cyd', 'dee'];\n" +
    'export function userOfVu() {\n  return users[__VU - 1];\n}\n';
  const ENTRY =
    "import http from 'k6/http';\nimport exec from 'k6/execution';\n" +
    "import { users, userOfVu } from './lib/users.js';\n" +
    "export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 4, iterations: 1 } } };\n" +
    '// picks users[__VU - 1] unless PICK=id\n' +
    'export default function () {\n' +
    "  const user = __ENV.PICK === 'id' ? users[exec.vu.idInTest - 1] : userOfVu();\n" +
    '  http.get(`${__ENV.TARGET}/login?user=${user}`);\n}\n';

  function users(target: TargetServer): string[] {
    return target
      .requests('/login')
      .map((r) => r.query.get('user') ?? '')
      .sort();
  }

  it('issue 16.10: warns before any load, naming the module and exec.vu.idInTest, which numbers VUs as one k6 does', async () => {
    scriptsDir = await tempDir();
    await mkdir(join(scriptsDir, 'lib'));
    await script('lib/users.js', LIB);
    const s = await script('pick.js', ENTRY);
    const byVu = await TargetServer.start();
    const byId = await TargetServer.start();
    const standalone = await TargetServer.start();

    const k6 = await exec(testK6Path(), ['run', '-e', `TARGET=${standalone.url}`, s], scriptsDir);
    const distributed = (target: TargetServer, pick: string) =>
      exec(
        process.execPath,
        [CLI, 'run', '--agents', '2', '-e', `TARGET=${target.url}`, '-e', `PICK=${pick}`, s],
        scriptsDir,
      );
    const [vuRun, idRun] = await Promise.all([distributed(byVu, 'vu'), distributed(byId, 'id')]);
    expect([k6.code, vuRun.code, idRun.code]).toEqual([0, 0, 0]);
    // What stock k6 makes unavoidable: each agent has its own VU 1 and 2.
    expect(users(standalone)).toEqual(['ann', 'bob', 'cyd', 'dee']);
    expect(users(byVu)).toEqual(['ann', 'ann', 'bob', 'bob']);
    // The fix the warning names: exec.vu.idInTest is numbered across agents.
    expect(users(byId)).toEqual(users(standalone));
    for (const run of [vuRun, idRun]) {
      const lines = run.stderr.split('\n');
      const warning = lines.findIndex((l) => l.startsWith('warning: the script reads __VU ('));
      expect(lines[warning]).toContain(`${join(scriptsDir, 'lib', 'users.js')}:3)`);
      expect(lines[warning]).not.toContain('pick.js');
      expect(lines[warning]).toMatch(/exec\.vu\.idInTest from 'k6\/execution'/);
      expect(warning).toBeLessThan(lines.findIndex((l) => l.includes('coordinator listening')));
    }
  });

  it('issue 16.10: no warning for __VU in comments, strings or property names, nor for one agent', async () => {
    scriptsDir = await tempDir();
    const quiet = await script(
      'quiet.js',
      '/* global __VU */\nconst s = "__VU";\nexport default function () { return { v: s, w: globalThis.__VU }; }\n',
    );
    const reads = await script('reads.js', 'export default function () { return __VU; }\n');
    const runs = await Promise.all(
      [
        ['2', quiet],
        ['1', reads],
      ].map(([agents, file]) =>
        exec(process.execPath, [CLI, 'run', '--agents', agents ?? '', file ?? ''], scriptsDir),
      ),
    );
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stderr).not.toMatch(/reads __VU/);
    }
  });

  it('issue 20.5: -q silences the chatter, as k6 -q silences its banner and progress; what k6 printed still shows', async () => {
    scriptsDir = await tempDir();
    const target = await TargetServer.start();
    const name = await script(
      'quiet.js',
      `import http from 'k6/http';
export const options = { vus: 2, iterations: 4 };
export default function () {
  http.get('${target.url}/iteration');
  console.log('said by the script');
}
`,
    );
    for (const args of [
      ['-q', name],
      [name, '--quiet'],
    ]) {
      const { k6, ours } = await sideBySide(args, 2);
      expect(ours.code).toBe(k6.code);
      expect(ours.code).toBe(0);
      // k6 -q: no banner or progress on stdout; the summary and the script's lines stay.
      expect(k6.stdout).not.toContain('execution: local');
      expect(k6.stderr.match(/said by the script/g)).toHaveLength(4);
      expect(ours.stderr.match(/said by the script/g)).toHaveLength(4);
      expect(ours.stdout).toContain('█ TOTAL RESULTS');
      expect(ours.stdout).toContain('█ DISTRIBUTED RUN');
      // None of our own chatter.
      for (const chatter of [
        'Using k6',
        'coordinator listening',
        'joined',
        'registered',
        'released',
        'running (',
      ]) {
        expect(ours.stderr).not.toContain(chatter);
      }
      // Every line on stderr is one of k6's (or a warning that this busy machine is saturated).
      const lines = ours.stderr.split('\n').filter((l) => l.trim() !== '' && !SATURATION.test(l));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^\[local-\d\] \[k6\] time=/);
    }
  });

  it("issue 20.5: prints k6's own execution plan before the run, as k6 run does, for every executor", async () => {
    scriptsDir = await tempDir();
    const target = await TargetServer.start();
    const name = await script(
      'plan.js',
      `import http from 'k6/http';
export const options = {
  scenarios: {
    steady: { executor: 'constant-vus', vus: 2, duration: '1s' },
    ramp: {
      executor: 'ramping-arrival-rate', startRate: 1, timeUnit: '1s', preAllocatedVUs: 2,
      maxVUs: 4, stages: [{ target: 4, duration: '1s' }], startTime: '500ms', exec: 'other',
    },
    each: { executor: 'per-vu-iterations', vus: 2, iterations: 1, maxDuration: '5s' },
    shared: { executor: 'shared-iterations', vus: 1, iterations: 2 },
  },
};
export default function () { http.get('${target.url}/iteration'); }
export function other() { http.get('${target.url}/iteration'); }
`,
    );
    const { k6, ours } = await sideBySide([name], 2);
    expect(ours.code).toBe(k6.code);
    const plan = (stdout: string) => {
      const lines = stdout.split('\n');
      const from = lines.findIndex((l) => l.startsWith('     scenarios: '));
      const to = lines.findIndex((l, i) => i > from && !l.startsWith('              * '));
      return lines.slice(from, to);
    };
    expect(plan(k6.stdout)).toHaveLength(5);
    expect(plan(ours.stdout)).toEqual(plan(k6.stdout));
    expect(ours.stdout).toContain(
      '     execution: distributed, 2 agents\n        script: plan.js\n',
    );
    // Before the run: ahead of the summary.
    expect(ours.stdout.indexOf('scenarios: ')).toBeLessThan(ours.stdout.indexOf('TOTAL RESULTS'));
  });

  it("issue 20.5: progress every second with each scenario's percentage, as k6 run shows it off a terminal", async () => {
    scriptsDir = await tempDir();
    const target = await TargetServer.start();
    const name = await script(
      'progress.js',
      `import http from 'k6/http';
import { sleep } from 'k6';
export const options = { vus: 2, duration: '4s' };
export default function () { http.get('${target.url}/iteration'); sleep(0.1); }
`,
    );
    const ran = await exec(process.execPath, [CLI, 'run', '--agents', '2', name], scriptsDir);
    expect(ran.code).toBe(0);
    const lines = ran.stderr.split('\n');
    const running = lines.filter((l) =>
      /^running \(0m0\d\.\ds\), \d+ VUs, \d+ complete iterations, /.test(l),
    );
    expect(running.length).toBeGreaterThanOrEqual(2);
    const percents = lines
      .map((l) => /^default {3}\[ +(\d+)% \] 2 VUs {2}\d\.\ds\/4s$/.exec(l)?.[1])
      .filter((p) => p !== undefined)
      .map(Number);
    expect(percents.length).toBeGreaterThanOrEqual(2);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(Math.max(...percents)).toBeLessThanOrEqual(100);
    // Each running line is followed by its scenario's.
    const at = lines.findIndex((l) => l.startsWith('running ('));
    expect(lines[at + 1]).toMatch(/^default {3}\[/);
  });

  it('issue 20.5: a shared-iterations scenario counts its merged iterations in the progress, in the default compact summary', async () => {
    scriptsDir = await tempDir();
    const target = await TargetServer.start();
    const name = await script(
      'shared.js',
      `import http from 'k6/http';
import { sleep } from 'k6';
export const options = { vus: 2, iterations: 80 };
export default function () { http.get('${target.url}/iteration'); sleep(0.1); }
`,
    );
    const ran = await exec(process.execPath, [CLI, 'run', '--agents', '2', name], scriptsDir);
    expect(ran.code).toBe(0);
    const counts = ran.stderr
      .split('\n')
      .map((l) => /^default {3}\[ +\d+% \] 2 VUs {2}(\d+)\/80 shared iters$/.exec(l)?.[1])
      .filter((c) => c !== undefined)
      .map(Number);
    expect(counts.length).toBeGreaterThanOrEqual(2);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(Math.max(...counts)).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThanOrEqual(80);
  });
});
