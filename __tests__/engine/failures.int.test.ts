/**
 * Aborts and failures on real k6, three local agents: test.abort() on one
 * agent, an exception in setup(), SIGKILL of one agent's k6 (under both
 * agent-loss policies) and a cancelled coordinator. Exit codes are k6's.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { describe, expect, it } from '@jest/globals';

import { DISTRIBUTED_RUN_FAILED } from '../../src/k6/exit-codes.js';
import { runDistributed } from '../helpers/distributed.js';
import { fixtureScript } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const exec = promisify(execFile);

/** The pid of the k6 this test process started for one agent (by its work folder, local-N). */
async function agentK6Pid(instanceId: number): Promise<number> {
  const { stdout } = await exec('pgrep', [
    '-P',
    String(process.pid),
    '-f',
    `/local-${String(instanceId)}/archive.tar`,
  ]);
  const pid = Number(stdout.trim().split('\n')[0]);
  expect(pid).toBeGreaterThan(0);
  return pid;
}

describe('abort propagation (real k6, 3 agents)', () => {
  it('test.abort() on one agent stops every agent early: teardown once, exit 108', async () => {
    const target = await TargetServer.start();
    const started = Date.now();
    const result = await runDistributed({
      script: fixtureScript('long-run.js'),
      flags: ['-e', `TARGET=${target.url}`, '-e', 'ABORT_VU=2', '-e', 'DURATION=30s'],
    });

    expect(result.exitCode).toBe(108);
    expect(result.message).toMatch(
      /^agent (\d) \(local-\1\): test aborted: abort from VU 2 at default \(file:\/\/\//,
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(target.count('/setup')).toBe(1);
    expect(target.count('/teardown')).toBe(1);
    // Every agent had run load, and was stopped.
    expect(new Set(target.requests('/iteration').map((r) => r.query.get('vu')))).toEqual(
      new Set(['1', '2', '3']),
    );
  });

  it.each([
    ['throw', 107],
    ['abort', 108],
  ])('setup() that fails by %s: exit %d, no load, no teardown', async (mode, exitCode) => {
    const target = await TargetServer.start();
    const result = await runDistributed({
      script: fixtureScript('setup-fails.js'),
      flags: ['-e', `TARGET=${target.url}`, '-e', `SETUP_MODE=${mode}`],
    });

    expect(result.exitCode).toBe(exitCode);
    expect(result.message).toMatch(/setup\(\) failed on agent 1/);
    expect(target.count('/setup')).toBe(1);
    expect(target.count('/iteration')).toBe(0);
    expect(result.teardownRan).toBe(false);
  });
});

describe('failure detection: kill -9 of one agent k6 mid-run (real k6, 3 agents)', () => {
  async function killAgentK6During(onAgentLoss: 'abort' | 'continue', duration: string) {
    const target = await TargetServer.start();
    const run = runDistributed({
      script: fixtureScript('long-run.js'),
      flags: ['-e', `TARGET=${target.url}`, '-e', `DURATION=${duration}`],
      onAgentLoss,
    });
    await target.waitForCount('/iteration', 6);
    process.kill(await agentK6Pid(2), 'SIGKILL');
    return { result: await run, target };
  }

  it('policy abort: the run ends non-zero, naming the agent; teardown still runs once', async () => {
    const started = Date.now();
    const { result, target } = await killAgentK6During('abort', '30s');

    expect(result.exitCode).toBe(DISTRIBUTED_RUN_FAILED);
    expect(result.message).toMatch(/agent \d \(local-\d\) was lost: its k6 exited unexpectedly/);
    expect(result.message).toMatch(/SIGKILL/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(target.count('/teardown')).toBe(1);
    expect(result.agents.filter((a) => a.lost !== undefined)).toHaveLength(1);
  });

  it('policy continue: the run finishes, and the result names the lost agent', async () => {
    const { result, target } = await killAgentK6During('continue', '3s');

    expect(result.exitCode).toBe(0);
    expect(result.message).toMatch(/lost: agent \d \(local-\d\): its k6 exited unexpectedly/);
    expect(result.agents.filter((a) => a.lost !== undefined)).toHaveLength(1);
    expect(target.count('/teardown')).toBe(1);
  });
});

describe('cancelled coordinator (real k6, 3 agents)', () => {
  it('an abort signal stops every agent: teardown once, exit 105', async () => {
    const target = await TargetServer.start();
    const cancel = new AbortController();
    const run = runDistributed({
      script: fixtureScript('long-run.js'),
      flags: ['-e', `TARGET=${target.url}`, '-e', 'DURATION=30s'],
      signal: cancel.signal,
    });
    await target.waitForCount('/iteration', 6);
    cancel.abort(new Error('SIGTERM'));
    const result = await run;

    expect(result.exitCode).toBe(105);
    expect(target.count('/teardown')).toBe(1);
    expect(result.agentResults.map((a) => a.exitCode)).toEqual([0, 0, 0]);
  });
});
