import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { agentSecretSources, secretSourcesForAgents } from '../../src/k6/secret-sources.js';
import { agentK6Environment, envAssignment, testEnvironment } from '../../src/k6/test-env.js';
import { tempDir } from '../helpers/fs.js';

describe('issue 16.1: the environment that travels to agents', () => {
  it('drops the runner’s credentials and internals, keeps everything else', () => {
    const env = {
      GITHUB_TOKEN: 'x',
      GH_TOKEN: 'x',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'x',
      ACTIONS_RUNTIME_TOKEN: 'x',
      RUNNER_TEMP: '/tmp/r',
      'INPUT_GITHUB-TOKEN': 'x',
      INPUT_SECRET: 'x',
      K6_DISTRIBUTED_SECRET: 'x',
      GITHUB_STEP_SUMMARY: '/s',
      GITHUB_OUTPUT: '/o',
      K6_PATH: '/k6',
      API_TOKEN: 'the test’s own',
      GITHUB_SHA: 'abc',
      K6_VUS: '3',
      BASE_URL: 'http://x',
    };
    expect(testEnvironment(env)).toEqual({
      API_TOKEN: 'the test’s own',
      GITHUB_SHA: 'abc',
      K6_VUS: '3',
      BASE_URL: 'http://x',
    });
  });

  it('keeps an agent machine’s k6 configuration out of its k6, machine settings in', () => {
    const env = {
      PATH: '/bin',
      K6_VUS: '5',
      K6_ITERATIONS: '7',
      K6_OUT: 'json=x',
      K6_CONFIG: '/etc/k6.json',
      K6_SECRET_SOURCE: 'file=x',
      K6_BROWSER_EXECUTABLE_PATH: '/chrome',
      K6_AUTO_EXTENSION_RESOLUTION: 'true',
      // Issue 20.8: an output's settings, used only by an output the coordinator gives.
      K6_INFLUXDB_ADDR: 'http://db:8086',
      K6_CSV_FILENAME: 'x.csv',
    };
    expect(agentK6Environment(env)).toEqual({
      PATH: '/bin',
      K6_INFLUXDB_ADDR: 'http://db:8086',
      K6_BROWSER_EXECUTABLE_PATH: '/chrome',
      K6_AUTO_EXTENSION_RESOLUTION: 'true',
    });
  });

  it('parses -e KEY=VALUE as k6 does, refusing names k6 refuses', () => {
    expect(envAssignment('A=1=2', { B: 'b' })).toEqual({ A: '1=2', B: 'b' });
    expect(envAssignment('EMPTY')).toEqual({ EMPTY: '' });
    expect(() => envAssignment('1A=x')).toThrow(/"1A=x" is not an environment variable/);
    expect(() => envAssignment('A-B=x')).toThrow(/KEY=VALUE/);
  });
});

describe('issue 16.9: secret sources for agents', () => {
  it('ships shipped files’ content and url settings, rewrites paths on the agent; passes others as given', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, 'a.secrets'), 'token=t\n');
    await writeFile(join(cwd, 'url.json'), '{"method":"GET"}');
    const specs = await secretSourcesForAgents(
      [
        'file=a.secrets',
        'file=name=db,filename=a.secrets,default',
        'url=name=vault,config=url.json,timeout=5s',
        'url',
        'mock=name=m,k=v',
      ],
      {
        cwd,
        env: {
          K6_SECRET_SOURCE_URL_HEADER_AUTHORIZATION: 'Bearer x',
          K6_SECRET_SOURCE_URL_URL_TEMPLATE: 'http://vault/{key}',
          K6_VUS: '3',
          GITHUB_TOKEN: 'never',
        },
      },
    );
    const urlEnv = {
      K6_SECRET_SOURCE_URL_HEADER_AUTHORIZATION: 'Bearer x',
      K6_SECRET_SOURCE_URL_URL_TEMPLATE: 'http://vault/{key}',
    };
    expect(specs).toEqual([
      { kind: 'file', options: [], content: 'token=t\n' },
      { kind: 'file', options: ['name=db', 'default'], content: 'token=t\n' },
      {
        kind: 'url',
        options: ['name=vault', 'timeout=5s'],
        config: '{"method":"GET"}',
        env: urlEnv,
      },
      { kind: 'url', options: [], config: undefined, env: urlEnv },
      { kind: 'as-given', value: 'mock=name=m,k=v' },
    ]);

    const agentDir = await tempDir();
    const secrets = await agentSecretSources(specs, agentDir);
    expect(secrets.flags).toEqual([
      `--secret-source=file=filename=${join(agentDir, 'secrets-1.txt')}`,
      `--secret-source=file=name=db,default,filename=${join(agentDir, 'secrets-2.txt')}`,
      `--secret-source=url=name=vault,timeout=5s,config=${join(agentDir, 'secrets-3.json')}`,
      '--secret-source=url',
      '--secret-source=mock=name=m,k=v',
    ]);
    expect(secrets.env).toEqual(urlEnv);
    expect(await readFile(join(agentDir, 'secrets-2.txt'), 'utf8')).toBe('token=t\n');
    expect(await readFile(join(agentDir, 'secrets-3.json'), 'utf8')).toBe('{"method":"GET"}');
    expect((await stat(join(agentDir, 'secrets-1.txt'))).mode & 0o777).toBe(0o600);
  });

  it('refuses a secrets file the coordinator cannot read, naming it', async () => {
    const cwd = await tempDir();
    await expect(secretSourcesForAgents(['file=nope.secrets'], { cwd })).rejects.toThrow(
      /cannot read the secrets file .*nope\.secrets/,
    );
  });
});
