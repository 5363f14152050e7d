/**
 * The CLI's `coordinator` and `agent` commands as separate processes (the
 * committed bundle), talking protocol v1 over loopback with a shared secret,
 * and `run`, the embedded default. Real k6 everywhere.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { CliProcess } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const SECRET = 'a-test-secret-of-32-characters!!';

function startCoordinator(target: TargetServer, extra: string[], agents = 2) {
  return new CliProcess(
    ['coordinator', '--agents', String(agents), '-e', `TARGET=${target.url}`, ...extra],
    { K6_DISTRIBUTED_SECRET: SECRET },
  );
}

async function coordinatorUrl(coordinator: CliProcess): Promise<string> {
  return (await coordinator.waitForLine(/^http:\/\/127\.0\.0\.1:\d+$/)).trim();
}

function startAgent(url: string, extra: string[] = []) {
  return new CliProcess(['agent', '--coordinator', url, ...extra], {
    K6_DISTRIBUTED_SECRET: SECRET,
  });
}

describe('coordinator and agents as separate processes (real k6)', () => {
  it("an agent's k6 log reaches the coordinator's log, prefixed by the agent and rate-limited (issue 20.3)", async () => {
    const target = await TargetServer.start();
    const coordinator = startCoordinator(
      target,
      ['-e', 'FLOOD=500', fixtureScript('console.js')],
      1,
    );
    const agent = startAgent(await coordinatorUrl(coordinator), ['--name', 'eu-1']);

    expect((await coordinator.exited).code).toBe(0);
    expect((await agent.exited).code).toBe(0);
    const lines = coordinator.text().split('\n');
    const fromAgent = lines.filter((l) => l.startsWith('[agent 1 (eu-1)] '));
    expect(fromAgent.find((l) => l.includes('msg="hello from the script"'))).toMatch(
      /level=info msg="hello from the script" source=console/,
    );
    expect(fromAgent.find((l) => l.includes('careful'))).toMatch(/level=warning/);
    // The agent sends at most 50 lines a second; one iteration printed 502 at once.
    const flood = fromAgent.filter((l) => l.includes('flood line'));
    expect(flood.length).toBeGreaterThan(0);
    expect(flood.length).toBeLessThanOrEqual(100);
    const notes = fromAgent.filter((l) => l.includes('more k6 log lines not shown here'));
    expect(notes.length).toBeGreaterThan(0);
    const leftOut = notes
      .map((l) => Number(/… ([\d,]+) more/.exec(l)?.[1]?.replace(/,/g, '')))
      .reduce((a, b) => a + b, 0);
    expect(flood.length + leftOut).toBe(500);
    // The agent's own log has every line.
    expect(agent.text().match(/flood line \d+/g)).toHaveLength(500);
    expect(lines.some((l) => l.startsWith('::'))).toBe(false);
  });

  it('runs the test once across two agents, exits with k6 code 0 and writes the HTML report', async () => {
    const target = await TargetServer.start();
    const report = join(await tempDir(), 'report.html');
    const coordinator = startCoordinator(target, [
      '--report-html',
      report,
      '-e',
      'DURATION=3s',
      fixtureScript('long-run.js'),
    ]);
    const url = await coordinatorUrl(coordinator);
    const agents = [startAgent(url, ['--tag', 'region=eu']), startAgent(url, ['--weight', '2'])];

    expect((await coordinator.exited).code).toBe(0);
    expect((await Promise.all(agents.map((a) => a.exited))).map((e) => e.code)).toEqual([0, 0]);
    expect(target.count('/setup')).toBe(1);
    expect(target.count('/teardown')).toBe(1);
    expect(coordinator.text()).toMatch(/DISTRIBUTED RUN: 2 agents, start skew \d+\.\d ms/);
    // Its URL is the first line on stdout (scripts read it), then k6's plan (issue 20.5).
    expect(coordinator.stdout[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(coordinator.stdout).toContain('     execution: distributed, 2 agents');
    expect(coordinator.text()).toMatch(/region=eu/);
    const html = await readFile(report, 'utf8');
    expect(html).toContain('<span class="verdict passed">passed</span>');
    // Rate, http_req_duration, VUs, failures, iteration_duration, bytes, per agent (issue 20.9).
    expect(html.match(/<svg class="chart"/g)).toHaveLength(7);
    expect(html.match(/<polyline class="series"/g)?.length).toBeGreaterThanOrEqual(5);
    expect(html).toContain('region=eu');
  });

  it('a killed coordinator: every agent stops its k6 within the dead-man bound and exits 97', async () => {
    const target = await TargetServer.start();
    const coordinator = startCoordinator(target, [
      '-e',
      'DURATION=60s',
      fixtureScript('long-run.js'),
    ]);
    const url = await coordinatorUrl(coordinator);
    const agents = [0, 1].map(() => startAgent(url, ['--give-up-after', '2s']));
    await target.waitForCount('/iteration', 6);
    process.kill(coordinator.pid, 'SIGKILL');
    const killedAt = Date.now();

    const exits = await Promise.all(agents.map((a) => a.exited));
    expect(exits.map((e) => e.code)).toEqual([97, 97]);
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    for (const agent of agents) expect(agent.text()).toMatch(/lost the coordinator/);
    // The agents waited for their k6 to exit: no more load reaches the target.
    const after = target.count('/iteration');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(target.count('/iteration')).toBe(after);
  });

  it('refuses a wrong secret and a late agent with clear messages', async () => {
    const target = await TargetServer.start();
    const coordinator = startCoordinator(
      target,
      ['-e', 'DURATION=3s', fixtureScript('long-run.js')],
      1,
    );
    const url = await coordinatorUrl(coordinator);
    const intruder = new CliProcess(['agent', '--coordinator', url], {
      K6_DISTRIBUTED_SECRET: 'not-the-secret-at-all-000000',
    });
    expect((await intruder.exited).code).not.toBe(0);
    expect(intruder.text()).toMatch(/401: missing or wrong secret/);

    startAgent(url);
    await target.waitForCount('/iteration', 1);
    const late = startAgent(url);
    expect((await late.exited).code).not.toBe(0);
    expect(late.text()).toMatch(/a late agent cannot join/);
    expect((await coordinator.exited).code).toBe(0);
  });

  it('issue 16.1: agents see the coordinator’s environment, not their own; agent -e overrides it for that agent only', async () => {
    const target = await TargetServer.start();
    const coordinator = new CliProcess(
      ['coordinator', '--agents', '2', fixtureScript('env-report.js')],
      { K6_DISTRIBUTED_SECRET: SECRET, TARGET: target.url, MYVUS: '2', OVER: 'coordinator' },
    );
    const url = await coordinatorUrl(coordinator);
    // Nor does an agent machine's k6 configuration change its share (K6_ITERATIONS).
    const agentEnv = {
      K6_DISTRIBUTED_SECRET: SECRET,
      AGENT_ONLY: 'leaked',
      MYVUS: '9',
      K6_ITERATIONS: '7',
    };
    const agents = [
      new CliProcess(['agent', '--coordinator', url], { ...agentEnv, OVER: 'agent-system' }),
      new CliProcess(['agent', '--coordinator', url, '-e', 'OVER=agent-2'], agentEnv),
    ];

    expect((await coordinator.exited).code).toBe(0);
    expect((await Promise.all(agents.map((a) => a.exited))).map((e) => e.code)).toEqual([0, 0]);
    // Options saw the coordinator's MYVUS=2 (2 VUs × 2 iterations); each VU one agent's.
    const reports = target
      .requests('/env')
      .map((r) => `${r.query.get('vu') ?? ''} ${r.query.get('env') ?? ''}`)
      .sort();
    const seen = (vu: number, over: string) => `${String(vu)} {"MYVUS":"2","OVER":"${over}"}`;
    const [first, second] = reports[0]?.includes('agent-2')
      ? ['agent-2', 'coordinator']
      : ['coordinator', 'agent-2'];
    expect(reports).toEqual([seen(1, first), seen(1, first), seen(2, second), seen(2, second)]);
  });

  it('refuses to listen beyond loopback without a secret', async () => {
    const coordinator = new CliProcess([
      'coordinator',
      '--agents',
      '1',
      '--listen',
      '0.0.0.0:0',
      fixtureScript('long-run.js'),
    ]);
    expect((await coordinator.exited).code).toBe(104);
    expect(coordinator.text()).toMatch(/set --secret or K6_DISTRIBUTED_SECRET/);
  });
});

describe('run: the embedded default (real k6)', () => {
  it('exits with the code k6 would (108 after test.abort()) and prints the agents table', async () => {
    const target = await TargetServer.start();
    const run = new CliProcess([
      'run',
      '--agents',
      '3',
      '-e',
      `TARGET=${target.url}`,
      '-e',
      'ABORT_VU=1',
      fixtureScript('long-run.js'),
    ]);

    expect((await run.exited).code).toBe(108);
    expect(run.stdout.join('\n')).toMatch(/DISTRIBUTED RUN: 3 agents/);
    expect(run.stdout.join('\n')).toMatch(/result: exit code 108/);
    expect(target.count('/teardown')).toBe(1);
  });
});

describe('run --baseline: the comparison with an earlier run (real k6)', () => {
  const run = (target: TargetServer, extra: string[]) =>
    new CliProcess([
      'run',
      '--agents',
      '2',
      ...extra,
      '-e',
      `TARGET=${target.url}`,
      '-e',
      'ITERATIONS=12',
      fixtureScript('metrics.js'),
    ]);

  it("compares with an earlier run's --summary-json; fail-on-regression exits 99 on a passing run", async () => {
    const target = await TargetServer.start();
    const dir = await tempDir();
    const earlier = join(dir, 'earlier.json');
    expect((await run(target, ['--summary-json', earlier]).exited).code).toBe(0);

    const again = run(target, ['--baseline', earlier]);
    expect((await again.exited).code).toBe(0);
    const table = again.stdout.join('\n');
    expect(table).toContain(`COMPARED WITH ${earlier}`);
    expect(table).toMatch(/^ {2}p95 +[\d.]+ ms → +[\d.]+ ms +[+−±][\d.]+ %/m);
    expect(table).toMatch(/^ {2}error-rate +0\.00 % → +0\.00 % +±0\.00 pp$/m);
    expect(table).toMatch(/^ {2}request-rate +[\d.]+\/s → +[\d.]+\/s/m);

    // Against an impossibly fast baseline the limit is crossed: k6 passed, the run did not.
    const fast = join(dir, 'fast.json');
    const figures = { p95Ms: 0.001, errorRate: 0, requestRate: 1e6 };
    await writeFile(fast, JSON.stringify({ k6Distributed: 1, exitCode: 0, figures }));
    const slower = run(target, ['--baseline', fast, '--fail-on-regression', 'p95=50%']);
    expect((await slower.exited).code).toBe(99);
    expect(slower.stdout.join('\n')).toMatch(/^ {2}p95 .* ✗ over p95=50%$/m);
    expect(slower.stdout.join('\n')).toMatch(/^ {2}request-rate .* ▲ regression$/m);
    expect(slower.text()).toMatch(
      /regressed against \S+fast\.json: p95 \+[\d.]+ % \(over p95=50%\)/,
    );
    expect(target.count('/setup')).toBe(3);
  });

  it.each([
    [
      ['--baseline', '/nonexistent/earlier.json'],
      /--baseline \/nonexistent\/earlier\.json: cannot read it/,
    ],
    [['--fail-on-regression', 'p95=10%'], /--fail-on-regression needs --baseline FILE/],
    [['--fail-on-regression', 'p95<10%'], /"p95<10%" is not a regression limit: use e\.g\./],
  ])('refuses %j before making any load', async (extra, message) => {
    const target = await TargetServer.start();
    const bad = run(target, extra);
    expect((await bad.exited).code).toBe(104);
    expect(bad.text()).toMatch(message);
    expect(target.count('/setup')).toBe(0);
  });

  it('refuses a baseline that is not a k6-distributed result', async () => {
    const target = await TargetServer.start();
    const file = join(await tempDir(), 'summary.json');
    await writeFile(file, JSON.stringify({ metrics: {} }));
    const bad = run(target, ['--baseline', file]);
    expect((await bad.exited).code).toBe(104);
    expect(bad.text()).toMatch(
      /is not a k6-distributed result with figures to compare; give the file an earlier run wrote with --summary-json/,
    );
    expect(target.count('/setup')).toBe(0);
  });
});

describe('demo: the README main command (real k6)', () => {
  it('splits the embedded script over 3 agents and the built-in target counts what standalone k6 would', async () => {
    const demo = new CliProcess(['demo']);

    expect((await demo.exited).code).toBe(0);
    const out = demo.stdout.join('\n');
    expect(out).toMatch(/DISTRIBUTED RUN: 3 agents, start skew \d+\.\d ms/);
    expect(out).toMatch(/setup\(\) calls {5}1 {2}\(standalone k6: 1\)/);
    expect(out).toMatch(/iterations {8}110 {2}\(standalone k6: 110\)/);
    expect(out).toMatch(/teardown\(\) calls {2}1 {2}\(standalone k6: 1\)/);
  });
});
