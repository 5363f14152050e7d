import { describe, expect, it } from '@jest/globals';

import { parseInputs, splitFlags } from '../../src/action/inputs.js';

function reader(values: Record<string, string>) {
  return (name: string) => values[name] ?? '';
}

describe('action inputs', () => {
  it('splits flags like a shell without expanding anything', () => {
    expect(splitFlags(`--vus 10 -e 'A=b c' -e "J={\\"x\\":1}" -e HOME=$HOME`)).toEqual([
      '--vus',
      '10',
      '-e',
      'A=b c',
      '-e',
      'J={"x":1}',
      '-e',
      'HOME=$HOME',
    ]);
    expect(() => splitFlags('--vus 1 ; rm -rf /')).toThrow(/shell syntax/);
    expect(() => splitFlags('--vus 1 > out')).toThrow(/give only k6 flags/);
  });

  it('parses a coordinator with defaults as documented in action.yml', () => {
    const inputs = parseInputs(
      reader({ role: 'coordinator', script: 'load.js', agents: '4', flags: '--vus 8' }),
    );
    expect(inputs).toEqual({
      role: 'coordinator',
      script: 'load.js',
      agents: 4,
      flags: ['--vus', '8'],
      k6Version: '2.2.0',
      auth: 'oidc',
      secret: undefined,
      coordinatorUrl: undefined,
      joinTimeoutMs: 600_000,
      testName: 'k6',
      tunnel: 'cloudflared',
      onAgentLoss: 'abort',
      metricTransport: 'cloud',
      githubToken: undefined,
      commentOnPr: true,
      checkRun: true,
      summaryMode: 'compact',
      uploadReport: true,
      includeSetupData: false,
      compareWithBase: true,
      failOnRegression: {},
      k6Env: {},
      verifyOnly: false,
    });
  });

  it('issue 20.4: parses k6-env lines, verify-only and the plan role', () => {
    expect(
      parseInputs(
        reader({
          role: 'coordinator',
          script: 'a.js',
          agents: '2',
          'k6-env': 'API_TOKEN=a=b c\n\nREGION=eu\n',
          'verify-only': 'true',
        }),
      ),
    ).toMatchObject({ k6Env: { API_TOKEN: 'a=b c', REGION: 'eu' }, verifyOnly: true });
    expect(
      parseInputs(reader({ role: 'plan', script: 'tests/*.js', 'agents-runs-on': '["a", "b"]' })),
    ).toMatchObject({ role: 'plan', script: 'tests/*.js', agents: 3, agentsRunsOn: ['a', 'b'] });
    expect(() =>
      parseInputs(reader({ role: 'coordinator', script: 'a.js', agents: '2', 'k6-env': '1X=y' })),
    ).toThrow(/input "k6-env": "1X=y" is not an environment variable/);
    expect(() => parseInputs(reader({ role: 'plan', 'agents-runs-on': '[1]' }))).toThrow(
      /input "script": the plan needs the test script's path or a glob[\s\S]*input "agents-runs-on": "\[1\]" is not a runner label/,
    );
  });

  it('issue 17.13: keeps setup() data in the result JSON only when include-setup-data is true', () => {
    const coordinator = (value: string) =>
      parseInputs(
        reader({ role: 'coordinator', script: 'a.js', agents: '1', 'include-setup-data': value }),
      );
    expect(coordinator('true')).toMatchObject({ includeSetupData: true });
    expect(coordinator('false')).toMatchObject({ includeSetupData: false });
  });

  it('issue 18.1: metric-transport defaults to cloud; json stays the fallback', () => {
    const coordinator = (extra: Record<string, string>) =>
      parseInputs(reader({ role: 'coordinator', script: 'a.js', agents: '1', ...extra }));
    expect(coordinator({})).toMatchObject({ metricTransport: 'cloud' });
    expect(coordinator({ 'metric-transport': 'json' })).toMatchObject({ metricTransport: 'json' });
  });

  it('issue 18: reads metric-transport, and names the valid values when it is wrong', () => {
    const coordinator = (transport: string) =>
      parseInputs(
        reader({ role: 'coordinator', script: 'a.js', agents: '1', 'metric-transport': transport }),
      );
    expect(coordinator('cloud')).toMatchObject({ metricTransport: 'cloud' });
    expect(() => coordinator('grpc')).toThrow(
      'input "metric-transport": "grpc" is not one of json, cloud',
    );
  });

  it('reads fail-on-regression limits, and names the form when they are wrong', () => {
    const coordinator = (limits: string) =>
      parseInputs(
        reader({ role: 'coordinator', script: 'a.js', agents: '1', 'fail-on-regression': limits }),
      );
    expect(coordinator('p95=10%, error-rate=0.5%')).toMatchObject({
      failOnRegression: { p95: 0.1, errorRate: 0.005 },
    });
    expect(() =>
      parseInputs(
        reader({
          role: 'coordinator',
          script: 'a.js',
          agents: '1',
          'fail-on-regression': 'p95=10%',
          'compare-with-base': 'false',
        }),
      ),
    ).toThrow('input "fail-on-regression": needs "compare-with-base: true"');
    expect(() => coordinator('p95<10%')).toThrow(
      'input "fail-on-regression": "p95<10%" is not a regression limit: use e.g. "p95=10%',
    );
  });

  it('parses an agent: weight, tags, the coordinator URL reduced to its origin', () => {
    const inputs = parseInputs(
      reader({
        role: 'agent',
        weight: '2',
        tags: 'region=eu, zone=b',
        'agent-env': 'ACCOUNT=eu-1\n\n  GREETING=hello, world  \nEMPTY',
        auth: 'secret',
        secret: '0123456789abcdef',
        'coordinator-url': 'https://c.example.com/',
      }),
    );
    expect(inputs).toMatchObject({
      role: 'agent',
      weight: '2',
      tags: { region: 'eu', zone: 'b' },
      env: { ACCOUNT: 'eu-1', GREETING: 'hello, world', EMPTY: '' },
      coordinatorUrl: 'https://c.example.com',
    });
  });

  it('reports every problem at once, each naming its input', () => {
    expect(() =>
      parseInputs(
        reader({
          role: 'agent',
          weight: '-1',
          tags: 'nokey',
          'agent-env': '1BAD=x',
          auth: 'token',
          'coordinator-url': 'ftp://x',
          'join-timeout': 'soon',
          'test-name': 'a b',
        }),
      ),
    ).toThrow(
      new RegExp(
        [
          'input "auth": "token" is not one of oidc, secret',
          'input "coordinator-url": "ftp://x" is not an http\\(s\\) URL',
          'input "join-timeout": "soon" is not a duration',
          'input "test-name"',
          'input "weight"',
          'input "tags": "nokey" is not a tag',
          'input "agent-env": "1BAD=x" is not an environment variable',
        ].join('[\\s\\S]*'),
      ),
    );
    expect(() => parseInputs(reader({}))).toThrow(
      /input "role": "" is not one of coordinator, agent/,
    );
  });
});
