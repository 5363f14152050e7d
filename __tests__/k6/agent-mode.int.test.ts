/**
 * Proves, on the real k6 binary, the facts the agent design rests on
 * (design.md §3): a paused k6 with --no-setup/--no-teardown/--linger, driven
 * only through its REST API, runs setup never, hands PUT setup data to every
 * VU, runs teardown exactly once when asked, and exits 0 on SIGINT.
 */
import { describe, expect, it } from '@jest/globals';

import { K6_EXECUTION_STATUS, isReadyToStart, isRunOver } from '../../src/k6/rest-client.js';
import { startAgentModeK6 } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const VUS = 4;
const ITERATIONS_PER_VU = 3;

describe('k6 driven through its REST API (real k6)', () => {
  it('waits paused at status 4, takes PUT setup data, runs teardown once, exits 0', async () => {
    const target = await TargetServer.start();
    const { proc, client, stderr } = await startAgentModeK6('setup-data.js', {
      TARGET: target.url,
    });

    const ready = await client.waitForStatus(isReadyToStart, { signal: proc.exitSignal });
    expect(ready).toMatchObject({ paused: true, running: false, vusMax: VUS });
    expect(target.requests()).toHaveLength(0);

    const data = { token: `from-coordinator-${process.pid}-${Date.now()}`, nested: { n: [1, 2] } };
    await client.setSetupData(data);
    const unpaused = await client.unpause();
    expect(unpaused.paused).toBe(false);

    const over = await client.waitForStatus(isRunOver, { signal: proc.exitSignal });
    expect(over.status).toBe(K6_EXECUTION_STATUS.ended);
    expect(proc.exit).toBeUndefined(); // --linger keeps k6 alive for teardown

    await client.runTeardown();
    const exit = await proc.stop({ signal: 'SIGINT', graceMs: 10_000 });

    expect(exit.outcome).toMatchObject({ kind: 'exited', reason: 'success', exitCode: 0 });
    expect(target.count('/setup')).toBe(0);
    expect(target.count('/teardown')).toBe(1);
    expect(JSON.parse(target.requests('/teardown')[0]?.body ?? 'null')).toEqual(data);

    const iterations = target.requests('/iteration');
    expect(iterations).toHaveLength(VUS * ITERATIONS_PER_VU);
    expect(new Set(iterations.map((r) => r.query.get('token')))).toEqual(new Set([data.token]));
    const vuIds = new Set(iterations.map((r) => Number(r.query.get('vu'))));
    expect([...vuIds].sort()).toEqual([1, 2, 3, 4]);
    expect(stderr.filter((line) => /level=error/.test(line))).toEqual([]);
  });

  it('runs setup() in the k6 that gets POST /v1/setup and returns its data', async () => {
    const target = await TargetServer.start();
    const { proc, client } = await startAgentModeK6('setup-data.js', { TARGET: target.url });
    await client.waitForStatus(isReadyToStart, { signal: proc.exitSignal });

    await expect(client.runSetup()).resolves.toEqual({ token: 'from-local-setup' });
    expect(target.count('/setup')).toBe(1);

    await client.unpause();
    await client.waitForStatus(isRunOver, { signal: proc.exitSignal });
    const exit = await proc.stop({ signal: 'SIGINT' });
    expect(exit.outcome).toMatchObject({ reason: 'success' });
    expect(new Set(target.requests('/iteration').map((r) => r.query.get('token')))).toEqual(
      new Set(['from-local-setup']),
    );
  });

  it('stops through PATCH stopped:true and exits 103', async () => {
    const target = await TargetServer.start();
    const { proc, client } = await startAgentModeK6('setup-data.js', { TARGET: target.url });
    await client.waitForStatus(isReadyToStart, { signal: proc.exitSignal });

    const stopped = await client.stop();
    expect(stopped.stopped).toBe(true);
    expect(isRunOver(stopped)).toBe(true);
    const exit = await proc.stop({ signal: 'SIGINT' });

    expect(exit.outcome).toMatchObject({ reason: 'stopped-via-rest-api', exitCode: 103 });
    expect(target.count('/iteration')).toBe(0);
  });

  it('exits 106 when the --address port is taken, which the caller can retry', async () => {
    const target = await TargetServer.start();
    const taken = target.url.replace('http://', '');
    const { proc, stderr } = await startAgentModeK6('setup-data.js', { TARGET: target.url }, taken);

    const exit = await proc.done;

    expect(exit.outcome).toMatchObject({ reason: 'cannot-start-rest-api', exitCode: 106 });
    expect(stderr.join('\n')).toMatch(/address already in use/);
  });
});
