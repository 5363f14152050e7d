/** Issue 20.8: the user's `--out` outputs on every agent (k6/outputs.ts). */
import { describe, expect, it } from '@jest/globals';

import {
  agentFileName,
  agentOutputProblem,
  agentTagArgs,
  consoleOutputForAgents,
  consoleOutputProblem,
  isOutputSetting,
  outputsForAgents,
  outputsText,
  planOutputs,
} from '../../src/k6/outputs.js';

const remote = (outputs: string[], env: NodeJS.ProcessEnv = {}) =>
  planOutputs(outputs, { env, remoteFiles: true });

describe('issue 20.8: --out on a distributed run', () => {
  it("passes k6's built-in outputs and the coordinator's settings for the ones used", () => {
    const plan = remote(['json=results.json', 'influxdb=http://db:8086/k6', 'csv'], {
      K6_INFLUXDB_USERNAME: 'me',
      K6_INFLUXDB_PASSWORD: 'pw',
      K6_PROMETHEUS_RW_SERVER_URL: 'http://prom', // not an output of this run
      K6_CSV_SAVE_INTERVAL: '2s',
      K6_VUS: '10',
    });
    expect(plan.outputs).toEqual(['json=results.json', 'influxdb=http://db:8086/k6', 'csv']);
    expect(plan.env).toEqual({
      K6_INFLUXDB_USERNAME: 'me',
      K6_INFLUXDB_PASSWORD: 'pw',
      K6_CSV_SAVE_INTERVAL: '2s',
    });
  });

  it("refuses an unknown output type with k6's own message and exit code (255)", () => {
    let error: unknown;
    try {
      remote(['jsno=x.json']);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'K6_TEST_INVALID', data: { exitCode: 255 } });
    expect(String(error)).toMatch(
      /invalid output type 'jsno', available types are: cloud, csv, .*web-dashboard/,
    );
  });

  it('refuses what cannot work across agents, each time naming the fix', () => {
    expect(() => remote(['cloud'])).toThrow(/--out cloud is not possible .*k6 cloud run/);
    expect(() => remote(['statsd'])).toThrow(/removed the statsd output/);
    expect(() => remote(['json'])).toThrow(/writes to k6's stdout.*give a file name/);
    expect(() => remote(['json=-'])).toThrow(/stdout/);
    expect(() => remote(['csv=-'])).toThrow(/stdout/);
    expect(() => remote(['csv=fileName=-,saveInterval=1s'])).toThrow(/stdout/);
    expect(() => remote(['json=/tmp/r.json'])).toThrow(/inside the working directory/);
    expect(() => remote(['csv=../r.csv'])).toThrow(/no absolute path, no \.\./);
    expect(() => remote(['csv'], { K6_CSV_FILENAME: '/etc/r.csv' })).toThrow(/working directory/);
    // k6 takes the last fileName=, and refuses an unknown key or an empty value.
    expect(() => remote(['csv=fileName=ok.csv,fileName=/etc/x'])).toThrow(/working directory/);
    expect(() => remote(['csv=fileName=ok.csv,color=red'])).toThrow(/cannot parse "color=red"/);
    expect(() => remote(['csv=fileName='])).toThrow(/cannot parse "fileName="/);
    // A local run's agents are the user's own process: any path the user gives.
    expect(planOutputs(['json=/tmp/r.json'], { env: {}, remoteFiles: false }).outputs).toEqual([
      'json=/tmp/r.json',
    ]);
  });

  it('leaves web-dashboard to the coordinator: no agent runs it', () => {
    const plan = remote(['web-dashboard=port=0', 'json=r.json']);
    expect(plan.outputs).toEqual(['json=r.json']);
  });

  it('names each file for its agent, keeping .gz last (k6 gzips such a file)', () => {
    expect(agentFileName('results.json', 2)).toBe('results.agent-2.json');
    expect(agentFileName('out/results.json.gz', 3)).toBe('out/results.agent-3.json.gz');
    expect(agentFileName('file', 1)).toBe('file.agent-1');
    expect(agentFileName('./r.csv', 1)).toBe('r.agent-1.csv');
    expect(agentFileName('/tmp/x/r.csv', 4)).toBe('/tmp/x/r.agent-4.csv');
  });

  it("gives each agent its files, the test's tags with its instance_id, and the settings", () => {
    const plan = remote(['json=r.json', 'csv=fileName=m.csv,saveInterval=2s', 'csv', 'influxdb'], {
      K6_INFLUXDB_ADDR: 'http://db:8086',
    });
    const forAgent = outputsForAgents(plan, { team: 'qa', n: 1 }, {});
    expect(forAgent?.(2)).toEqual({
      out: [
        'json=r.agent-2.json',
        'csv=fileName=m.agent-2.csv,saveInterval=2s',
        'csv=file.agent-2.csv',
        'influxdb',
      ],
      tags: { team: 'qa', instance_id: '2' },
      env: { K6_INFLUXDB_ADDR: 'http://db:8086' },
    });
    expect(outputsForAgents(remote([]), { team: 'qa' }, {})).toBeUndefined();
    // k6 refuses `--tag name=`: an empty tag is left out rather than failing every agent.
    expect(agentTagArgs({ empty: '', instance_id: '1' })).toEqual(['--tag', 'instance_id=1']);
    // k6's --tag replaces the test's tags: they are given again with the agent's.
    expect(agentTagArgs({ team: 'qa', instance_id: '2' })).toEqual([
      '--tag',
      'team=qa',
      '--tag',
      'instance_id=2',
    ]);
  });

  it("lets an agent refuse a coordinator's output that writes outside its working directory", () => {
    expect(agentOutputProblem('json=r.agent-1.json', true)).toBeUndefined();
    expect(agentOutputProblem('influxdb=http://db:8086/k6', true)).toBeUndefined();
    expect(agentOutputProblem('json=/home/me/.bashrc', true)).toMatch(/outside/);
    expect(agentOutputProblem('csv=fileName=../../x.csv', true)).toMatch(/outside/);
    expect(agentOutputProblem('json=-', true)).toMatch(/stdout/);
    expect(agentOutputProblem('cloud', true)).toMatch(/not one agents run/);
    expect(agentOutputProblem('web-dashboard', true)).toMatch(/not one agents run/);
    expect(agentOutputProblem('json=/tmp/r.json', false)).toBeUndefined();
    // k6 writes the last fileName= of a csv output.
    expect(agentOutputProblem('csv=fileName=ok.csv,fileName=/etc/x', true)).toMatch(/outside/);
    expect(agentOutputProblem('csv=fileName=ok.csv,saveInterval=1s', true)).toBeUndefined();
  });

  it('takes from a coordinator only the settings of the outputs it runs', () => {
    const out = ['influxdb=http://db:8086/k6', 'csv=fileName=m.csv'];
    expect(isOutputSetting('K6_INFLUXDB_PASSWORD', out)).toBe(true);
    expect(isOutputSetting('K6_CSV_SAVE_INTERVAL', out)).toBe(true);
    for (const name of [
      'K6_CSV_FILENAME',
      'K6_PROMETHEUS_RW_SERVER_URL', // no such output here
      'K6_SECRET_SOURCE',
      'K6_BUILD_SERVICE_URL',
      'K6_WEB_DASHBOARD_EXPORT',
      'K6_VUS',
    ]) {
      expect([name, isOutputSetting(name, out)]).toEqual([name, false]);
    }
  });

  it("says in the preamble's output line what each agent writes", () => {
    expect(outputsText(['json=r.json', 'influxdb=http://db:8086/k6', 'web-dashboard'], {})).toBe(
      'json (r.agent-<n>.json from agent <n>), influxdb (http://db:8086/k6); samples tagged instance_id=<n>',
    );
    expect(outputsText(['web-dashboard'], {})).toBeUndefined();
  });
});

describe('--console-output on a distributed run', () => {
  it('gives agents on this machine one absolute file, and agents elsewhere a path in their directory', () => {
    expect(consoleOutputForAgents(undefined, { cwd: '/work', remoteFiles: true })).toBe(undefined);
    expect(consoleOutputForAgents('logs/c.log', { cwd: '/work', remoteFiles: false })).toBe(
      '/work/logs/c.log',
    );
    expect(consoleOutputForAgents('/tmp/c.log', { cwd: '/work', remoteFiles: false })).toBe(
      '/tmp/c.log',
    );
    expect(consoleOutputForAgents('logs/c.log', { cwd: '/work', remoteFiles: true })).toBe(
      'logs/c.log',
    );
    for (const file of ['/tmp/c.log', '../c.log', 'logs/../../c.log']) {
      expect(() => consoleOutputForAgents(file, { cwd: '/work', remoteFiles: true })).toThrow(
        `--console-output ${file}: give a path inside the working directory`,
      );
    }
  });

  it('an agent refuses a file outside its working directory unless it runs in the user’s process', () => {
    expect(consoleOutputProblem('c.log', true)).toBe(undefined);
    expect(consoleOutputProblem('/etc/profile', true)).toBe(
      "it is outside the agent's working directory",
    );
    expect(consoleOutputProblem('/tmp/c.log', false)).toBe(undefined);
  });
});
