/**
 * How the real k6 reports an abort, which the engine must reproduce: exit 108
 * for test.abort(), and a failed POST /v1/setup that leaves k6 running.
 */
import { describe, expect, it } from '@jest/globals';

import { isReadyToStart, isRunOver } from '../../src/k6/rest-client.js';
import { hasErrorCode } from '../../src/errors.js';
import { fixtureScript, startAgentModeK6, startK6 } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

async function readyAgentModeK6(script: string, vars: Record<string, string>) {
  const k6 = await startAgentModeK6(script, vars);
  await k6.client.waitForStatus(isReadyToStart, { signal: k6.proc.exitSignal });
  return k6;
}

describe('test.abort() on the real k6', () => {
  it('exits 108, mapped to script-aborted, when a plain `k6 run` aborts', async () => {
    const target = await TargetServer.start();
    const { proc, stderr } = await startK6([
      'run',
      '--quiet',
      '-e',
      `TARGET=${target.url}`,
      fixtureScript('abort.js'),
    ]);

    const exit = await proc.done;

    expect(exit.outcome).toMatchObject({ kind: 'exited', reason: 'script-aborted', exitCode: 108 });
    expect(stderr.join('\n')).toMatch(/test aborted: stopping on purpose/);
    expect(target.count('/iteration')).toBe(3);
  });

  it('exits 108 in agent mode too: the run ends, --linger holds k6 until SIGINT', async () => {
    const target = await TargetServer.start();
    const { proc, client } = await readyAgentModeK6('abort.js', { TARGET: target.url });

    await client.unpause();
    const over = await client.waitForStatus(isRunOver, { signal: proc.exitSignal });
    expect(over.stopped).toBe(true);
    expect(proc.exit).toBeUndefined();
    const exit = await proc.stop({ signal: 'SIGINT' });

    expect(exit.outcome).toMatchObject({ reason: 'script-aborted', exitCode: 108 });
    expect(target.count('/iteration')).toBe(3);
  });
});

describe('a failing setup() run through POST /v1/setup (real k6)', () => {
  it.each([
    ['throw', /setup exploded/],
    ['abort', /test aborted: no data for you/],
  ])('answers 500 on %s and k6 keeps waiting, unstarted', async (mode, detail) => {
    const target = await TargetServer.start();
    const { proc, client } = await readyAgentModeK6('setup-fails.js', {
      TARGET: target.url,
      SETUP_MODE: mode,
    });

    const failure: unknown = await client.runSetup().catch((error: unknown) => error);

    expect(hasErrorCode(failure, 'K6_API_ERROR')).toBe(true);
    expect(failure).toMatchObject({
      data: { statusCode: 500, title: 'Error executing setup' },
      message: expect.stringMatching(detail) as unknown,
    });
    expect(target.count('/setup')).toBe(1);
    expect(proc.exit).toBeUndefined();
    expect(await client.status()).toMatchObject({ paused: true, running: false });
  });
});
