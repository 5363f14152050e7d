/**
 * Issue 16 items 1, 2, 4 and 9, side by side with standalone `k6 run` on the
 * same script (real k6, 3 agents): the environment (`__ENV`, for options and
 * VU code), test-wide tags, the default of 1 VU, and secret sources.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { runDistributed } from '../helpers/distributed.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript, startK6 } from '../helpers/k6.js';
import { TargetServer, type RecordedRequest } from '../helpers/target-server.js';

/** Standalone `k6 run`: its exit code; what it sent goes to its own target. */
async function k6Run(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<number | null> {
  const k6 = await startK6(['run', '--quiet', ...args], options);
  const exit = await k6.proc.done;
  return exit.outcome.exitCode;
}

/** The VU and the environment each /env request reported, in a stable order. */
function envReports(requests: RecordedRequest[]): { vu: number; env: Record<string, string> }[] {
  return requests
    .map((r) => ({
      vu: Number(r.query.get('vu')),
      env: JSON.parse(r.query.get('env') ?? '{}') as Record<string, string>,
    }))
    .sort((a, b) => a.vu - b.vu);
}

const RUNNER_SECRETS = {
  GITHUB_TOKEN: 'ghs_runner-token',
  ACTIONS_RUNTIME_TOKEN: 'runtime-token',
  INPUT_SECRET: 'action-input-secret',
  K6_DISTRIBUTED_SECRET: 'coordinator-shared-secret',
};

describe('issue 16.1: __ENV is what `k6 run` on the coordinator sees', () => {
  it('issue 16.1: the system environment reaches options and VU code on every agent, minus the runner’s own', async () => {
    const [alone, split] = [await TargetServer.start(), await TargetServer.start()];
    const env = (target: TargetServer) => ({
      TARGET: target.url,
      MYVUS: '3',
      API_TOKEN: 'the-test-s-own-token',
      GITHUB_SHA: 'abc123',
      ...RUNNER_SECRETS,
    });
    const [k6Exit, result] = await Promise.all([
      k6Run([fixtureScript('env-report.js')], { env: env(alone) }),
      runDistributed({ script: fixtureScript('env-report.js'), env: env(split) }),
    ]);

    expect([k6Exit, result.exitCode]).toEqual([0, 0]);
    const standalone = envReports(alone.requests('/env'));
    // MYVUS=3 made options.vus 3 in k6: 3 VUs × 2 iterations.
    expect(standalone.map((r) => r.vu)).toEqual([1, 1, 2, 2, 3, 3]);
    expect(standalone[0]?.env).toEqual({
      MYVUS: '3',
      API_TOKEN: 'the-test-s-own-token',
      GITHUB_SHA: 'abc123',
      ...RUNNER_SECRETS,
    });
    // The same VUs and the same __ENV, except the runner's credentials, which
    // never leave the coordinator (README: what travels to agents).
    const withoutRunnerSecrets = standalone.map(({ vu, env: seen }) => ({
      vu,
      env: Object.fromEntries(Object.entries(seen).filter(([k]) => !(k in RUNNER_SECRETS))),
    }));
    expect(envReports(split.requests('/env'))).toEqual(withoutRunnerSecrets);
  });

  it.each([
    ['--include-system-env-vars=false', ['--include-system-env-vars=false'], {}],
    ['K6_INCLUDE_SYSTEM_ENV_VARS=false', [], { K6_INCLUDE_SYSTEM_ENV_VARS: 'false' }],
  ])(
    'issue 16.1: %s keeps the system environment out, -e still counts',
    async (_, flags, extraEnv) => {
      const [alone, split] = [await TargetServer.start(), await TargetServer.start()];
      const env = { MYVUS: '3', API_TOKEN: 'from-the-system', ...extraEnv };
      const args = (target: TargetServer) => [
        ...flags,
        '-e',
        `TARGET=${target.url}`,
        '-e',
        'OVER=cli',
      ];
      const [k6Exit, result] = await Promise.all([
        k6Run([...args(alone), fixtureScript('env-report.js')], { env }),
        runDistributed({ script: fixtureScript('env-report.js'), flags: args(split), env }),
      ]);

      expect([k6Exit, result.exitCode]).toEqual([0, 0]);
      const standalone = envReports(alone.requests('/env'));
      expect(standalone).toEqual([
        { vu: 1, env: { OVER: 'cli' } },
        { vu: 1, env: { OVER: 'cli' } },
      ]);
      expect(envReports(split.requests('/env'))).toEqual(standalone);
    },
  );
});

describe('issue 16.2: test-wide tags reach the merged samples', () => {
  it.each([
    ['options.tags', [], { SCRIPT_TAGS: '{"team":"qa"}' }],
    ['--tag team=qa', ['--tag', 'team=qa'], {}],
    ['--tag over options.tags', ['--tag', 'team=qa'], { SCRIPT_TAGS: '{"team":"dev"}' }],
  ])('issue 16.2: %s: http_reqs{team:qa} count>5 passes as in k6', async (_, tags, env) => {
    const dir = await tempDir();
    const [alone, split] = [await TargetServer.start(), await TargetServer.start()];
    const args = (target: TargetServer, file: string) => [
      ...tags,
      '-e',
      `TARGET=${target.url}`,
      '--summary-export',
      join(dir, file),
    ];
    const [k6Exit, result] = await Promise.all([
      k6Run([...args(alone, 'k6.json'), fixtureScript('tags.js')], { env }),
      runDistributed({
        script: fixtureScript('tags.js'),
        flags: args(split, 'split.json'),
        env,
        output: { stdout: () => undefined, stderr: () => undefined, isTTY: false },
      }),
    ]);

    expect([k6Exit, result.exitCode]).toEqual([0, 0]);
    const submetric = async (file: string) => {
      const exported = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
        metrics: Record<string, { count?: number; thresholds?: Record<string, boolean> }>;
      };
      return exported.metrics['http_reqs{team:qa}'];
    };
    // The rate is per second of run time (issue 16.3's); count and verdict are the tags'.
    const { count, thresholds } = (await submetric('k6.json')) ?? {};
    expect({ count, thresholds }).toEqual({ count: 6, thresholds: { 'count>5': false } });
    const merged = await submetric('split.json');
    expect({ count: merged?.count, thresholds: merged?.thresholds }).toEqual({ count, thresholds });
  });
});

describe('issue 16.4: no VU count anywhere means 1 VU, as in k6 run', () => {
  it.each([
    ['-i 4', ['-i', '4'], {}],
    ['options.iterations', [], { ITERATIONS: '4' }],
    ['-d 1s', ['-d', '1s'], { SLEEP: '0.3' }],
  ])('issue 16.4: %s runs with one VU', async (_, flags, env) => {
    const [alone, split] = [await TargetServer.start(), await TargetServer.start()];
    const args = (target: TargetServer) => [...flags, '-e', `TARGET=${target.url}`];
    const [k6Exit, result] = await Promise.all([
      k6Run([...args(alone), fixtureScript('no-vus.js')], { env }),
      runDistributed({ script: fixtureScript('no-vus.js'), flags: args(split), env }),
    ]);

    expect([k6Exit, result.exitCode]).toEqual([0, 0]);
    const vus = (target: TargetServer) =>
      new Set(target.requests('/iteration').map((r) => r.query.get('vu')));
    expect(vus(alone)).toEqual(new Set(['1']));
    expect(vus(split)).toEqual(vus(alone));
    if (flags[0] !== '-d') expect(split.count('/iteration')).toBe(alone.count('/iteration'));
    else expect(split.count('/iteration')).toBeGreaterThan(0);
    expect(result.test.maxVUs).toBe(1);
  });
});

describe('issue 16.4: an explicit 0 VUs stays invalid', () => {
  it('issue 16.4: -u 0 -i 4 exits 104 before any load, as k6 run does', async () => {
    const target = await TargetServer.start();
    const args = ['-u', '0', '-i', '4', '-e', `TARGET=${target.url}`];
    const k6Exit = await k6Run([...args, fixtureScript('no-vus.js')]);
    const run = runDistributed({ script: fixtureScript('no-vus.js'), flags: args });

    expect(k6Exit).toBe(104);
    await expect(run).rejects.toMatchObject({ code: 'K6_TEST_INVALID', data: { exitCode: 104 } });
    expect(target.count('/iteration')).toBe(0);
  });
});

describe('issue 16.9: --secret-source works on every agent', () => {
  it('issue 16.9: a file source only the coordinator has gives every VU its secrets, never printed', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, 'default.secrets'), 'token=s3cr3t-token-value\n');
    await writeFile(join(cwd, 'db.secrets'), 'password=db-pa55word-value\n');
    const [alone, split] = [await TargetServer.start(), await TargetServer.start()];
    // Relative paths: they resolve in the coordinator's folder, not the agents'.
    const args = (target: TargetServer) => [
      '--secret-source=file=default.secrets,default',
      '--secret-source=file=name=db,filename=db.secrets',
      '-e',
      `TARGET=${target.url}`,
      '-e',
      'NAMED=1',
    ];
    const [k6Exit, result] = await Promise.all([
      k6Run([...args(alone), fixtureScript('secrets.js')], { cwd }),
      runDistributed({ script: fixtureScript('secrets.js'), flags: args(split), cwd }),
    ]);

    expect([k6Exit, result.exitCode]).toEqual([0, 0]);
    const seen = (target: TargetServer) =>
      target.requests('/secret').map((r) => `${r.query.get('token')}/${r.query.get('db')}`);
    expect(seen(alone)).toEqual(Array(6).fill('s3cr3t-token-value/db-pa55word-value'));
    expect(seen(split)).toEqual(seen(alone));
    expect(result.log.text()).not.toMatch(/s3cr3t|pa55word/);
  });

  it('issue 16.9: a url source configured by the coordinator’s K6_SECRET_SOURCE_URL_* works on every agent', async () => {
    const vault = await TargetServer.start();
    vault.respond('/secret/token', { body: 'vault-token-value' });
    const env = { K6_SECRET_SOURCE_URL_URL_TEMPLATE: `${vault.url}/secret/{key}` };
    const [alone, split] = [await TargetServer.start(), await TargetServer.start()];
    const args = (target: TargetServer) => ['--secret-source=url', '-e', `TARGET=${target.url}`];
    const [k6Exit, result] = await Promise.all([
      k6Run([...args(alone), fixtureScript('secrets.js')], { env }),
      runDistributed({ script: fixtureScript('secrets.js'), flags: args(split), env }),
    ]);

    expect([k6Exit, result.exitCode]).toEqual([0, 0]);
    const seen = (target: TargetServer) =>
      target.requests('/secret').map((r) => r.query.get('token'));
    expect(seen(alone)).toEqual(Array(6).fill('vault-token-value'));
    expect(seen(split)).toEqual(seen(alone));
    expect(result.log.text()).not.toMatch(/vault-token-value/);
  });

  it('issue 16.9: a secrets file the coordinator cannot read is refused before any load', async () => {
    const target = await TargetServer.start();
    const run = runDistributed({
      script: fixtureScript('secrets.js'),
      flags: ['--secret-source=file=missing.secrets', '-e', `TARGET=${target.url}`],
      cwd: await tempDir(),
    });
    await expect(run).rejects.toThrow(/missing\.secrets/);
    expect(target.count('/secret')).toBe(0);
  });
});
