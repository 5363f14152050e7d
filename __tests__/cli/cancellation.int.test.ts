/**
 * Cancellation as a cancelled GitHub job does it: SIGTERM (or SIGINT) to the
 * coordinator or to an agent process. The run stops as k6 stops: teardown
 * once, exit 105, and no k6 process is left behind (asserted by looking for
 * k6 processes under the agents' own temp dirs).
 */
import { execFileSync } from 'node:child_process';

import { describe, expect, it } from '@jest/globals';

import { CliProcess } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const SECRET = 'a-test-secret-of-32-characters!!';

/** A coordinator and two agents; every k6 they start runs from a path under `tmp`. */
async function cluster(target: TargetServer) {
  const tmp = await tempDir('k6d-cancel-');
  const env = { K6_DISTRIBUTED_SECRET: SECRET, TMPDIR: tmp };
  const coordinator = new CliProcess(
    [
      'coordinator',
      '--agents',
      '2',
      '-e',
      `TARGET=${target.url}`,
      '-e',
      'DURATION=60s',
      fixtureScript('long-run.js'),
    ],
    env,
  );
  const url = (await coordinator.waitForLine(/^http:\/\/127\.0\.0\.1:\d+$/)).trim();
  const agents = [0, 1].map(() => new CliProcess(['agent', '--coordinator', url], env));
  await target.waitForCount('/iteration', 6);
  expect(k6ProcessesUnder(tmp).length).toBe(2);
  return { coordinator, agents, tmp };
}

/** Waits for a condition on other processes (no event tells us they exited). */
async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${String(timeoutMs)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Running k6 processes whose command line names a path under `dir`. */
function k6ProcessesUnder(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', `k6 .*${dir}`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter((line) => !line.includes('pgrep'));
  } catch (error) {
    if ((error as { status?: number }).status === 1) return [];
    throw error;
  }
}

describe('cancellation (CLI processes, real k6)', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to the coordinator: every agent stops, teardown once, exit 105, no k6 left',
    async (signal) => {
      const target = await TargetServer.start();
      const { coordinator, agents, tmp } = await cluster(target);

      process.kill(coordinator.pid, signal);

      expect((await coordinator.exited).code).toBe(105);
      const exits = await Promise.all(agents.map((a) => a.exited));
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
      expect(target.count('/setup')).toBe(1);
      expect(target.count('/teardown')).toBe(1);
      expect(coordinator.text()).toMatch(/exit code 105/);
      expect(k6ProcessesUnder(tmp)).toEqual([]);
      // The shared secret never reaches a log.
      for (const p of [coordinator, ...agents]) expect(p.text()).not.toContain(SECRET);
    },
  );

  it('SIGTERM to one agent: it stops its k6 and exits 105; the run ends without it', async () => {
    const target = await TargetServer.start();
    const { coordinator, agents, tmp } = await cluster(target);
    const [cancelled, other] = agents as [CliProcess, CliProcess];

    process.kill(cancelled.pid, 'SIGTERM');

    expect((await cancelled.exited).code).toBe(105);
    // The default on-agent-loss policy (abort) ends the run: teardown still once.
    expect((await coordinator.exited).code).toBe(97);
    // The agent said goodbye: no waiting for the liveness timeout.
    expect(coordinator.text()).toMatch(/was lost: cancelled: interrupted by SIGTERM/);
    expect((await other.exited).code).toBe(0);
    expect(target.count('/teardown')).toBe(1);
    expect(k6ProcessesUnder(tmp)).toEqual([]);
  });
});

describe('an agent process restarted mid-run (CLI processes, real k6)', () => {
  it('its orphaned k6 stops, the old agent is lost, the restarted one is refused with a clear message', async () => {
    const target = await TargetServer.start();
    const tmp = await tempDir('k6d-restart-');
    const env = { K6_DISTRIBUTED_SECRET: SECRET, TMPDIR: tmp };
    const coordinator = new CliProcess(
      [
        'coordinator',
        '--agents',
        '2',
        '--poll-hold',
        '1s',
        '--on-agent-loss',
        'continue',
        '-e',
        `TARGET=${target.url}`,
        '-e',
        'DURATION=8s',
        fixtureScript('long-run.js'),
      ],
      env,
    );
    const url = (await coordinator.waitForLine(/^http:\/\/127\.0\.0\.1:\d+$/)).trim();
    const [crashed, survivor] = [0, 1].map(
      () => new CliProcess(['agent', '--coordinator', url], env),
    ) as [CliProcess, CliProcess];
    await target.waitForCount('/iteration', 6);

    // The agent process is killed outright, then started again.
    process.kill(crashed.pid, 'SIGKILL');
    await crashed.exited;
    // Its k6 does not load on as an orphan: its metric stream (stdout) has no reader
    // any more, so its next write fails and k6 exits.
    await until(() => k6ProcessesUnder(tmp).length === 1);
    const restarted = new CliProcess(['agent', '--coordinator', url], env);

    expect((await restarted.exited).code).not.toBe(0);
    expect(restarted.text()).toMatch(/a late agent cannot join/);
    expect((await coordinator.exited).code).toBe(0);
    expect(coordinator.text()).toMatch(/agent-\d\) lost: it stopped polling/);
    expect((await survivor.exited).code).toBe(0);
    expect(target.count('/teardown')).toBe(1);
    expect(k6ProcessesUnder(tmp)).toEqual([]);
  }, 60_000);
});
