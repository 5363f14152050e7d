/** Issue 20.4: the reusable workflow's plan: tests from a glob, agents from agents-matrix. */
import { describe, expect, it } from '@jest/globals';

import { type PlanInputs, planRun } from '../../src/action/plan.js';

const base: PlanInputs = {
  scripts: ['/repo/tests/load.js'],
  pattern: 'tests/load.js',
  agents: 3,
  agentsMatrix: '',
  testName: 'k6',
  agentsRunsOn: 'ubuntu-latest',
  workspace: '/repo',
};

describe('planRun (issue 20.4)', () => {
  it('one script, N alike agents: the test keeps its name, as the two-job form has it', () => {
    const plan = planRun(base);
    expect(plan.tests).toEqual([{ script: 'tests/load.js', 'test-name': 'k6' }]);
    expect(plan.agentCount).toBe(3);
    expect(plan.agents).toEqual(
      [1, 2, 3].map((i) => ({
        'test-name': 'k6',
        name: `agent-${String(i)}`,
        weight: '1',
        tags: '',
        env: '',
        'runs-on': 'ubuntu-latest',
      })),
    );
  });

  it('several scripts: a test each, named after its script, every agent for each', () => {
    const plan = planRun({
      ...base,
      scripts: ['/repo/tests/login.js', '/repo/tests/a b.js', '/repo/other/login.js'],
      pattern: 'tests/*.js',
      agents: 2,
    });
    expect(plan.tests).toEqual([
      { script: 'other/login.js', 'test-name': 'k6-login' },
      { script: 'tests/a b.js', 'test-name': 'k6-a-b' },
      { script: 'tests/login.js', 'test-name': 'k6-login-2' },
    ]);
    expect(plan.agents.map((a) => `${a['test-name']}/${a.name}`)).toEqual([
      'k6-login/agent-1',
      'k6-login/agent-2',
      'k6-a-b/agent-1',
      'k6-a-b/agent-2',
      'k6-login-2/agent-1',
      'k6-login-2/agent-2',
    ]);
  });

  it('agents-matrix: groups with counts, names, weights, tags, env and runners', () => {
    const plan = planRun({
      ...base,
      agentsMatrix: JSON.stringify([
        { count: 2, name: 'eu', tags: 'region=eu', env: 'ACCOUNT=eu-bot\n' },
        { name: 'us', weight: 2, tags: { region: 'us' }, 'runs-on': ['self-hosted', 'us'] },
        {},
      ]),
    });
    expect(plan.agentCount).toBe(4);
    expect(plan.agents).toEqual([
      {
        'test-name': 'k6',
        name: 'eu-1',
        weight: '1',
        tags: 'region=eu',
        env: 'ACCOUNT=eu-bot',
        'runs-on': 'ubuntu-latest',
      },
      {
        'test-name': 'k6',
        name: 'eu-2',
        weight: '1',
        tags: 'region=eu',
        env: 'ACCOUNT=eu-bot',
        'runs-on': 'ubuntu-latest',
      },
      {
        'test-name': 'k6',
        name: 'us',
        weight: '2',
        tags: 'region=us',
        env: '',
        'runs-on': ['self-hosted', 'us'],
      },
      {
        'test-name': 'k6',
        name: 'group-3-1',
        weight: '1',
        tags: '',
        env: '',
        'runs-on': 'ubuntu-latest',
      },
    ]);
  });

  it.each([
    ['not JSON', '[{count: 2}]', /input "agents-matrix" is not JSON .*e\.g\. \[\{"count": 2/],
    [
      'an unknown field',
      '[{"region": "eu"}]',
      /input "agents-matrix": \[0\]: .*region.*Each group takes count, name, weight, tags, env and runs-on/,
    ],
    ['a bad weight', '[{"weight": "-1"}]', /input "agents-matrix": weight: /],
    [
      'a bad tag',
      '[{"tags": "no-equals"}]',
      /input "agents-matrix": tags: "no-equals" is not a tag/,
    ],
    [
      'a bad env line',
      '[{"env": "1ACCOUNT=x"}]',
      /input "agents-matrix": env: "1ACCOUNT=x" is not/,
    ],
    ['a name twice', '[{"name": "a"}, {"name": "a"}]', /two agents are named "a"/],
    ['an empty list', '[]', /input "agents-matrix": the list: /],
    ['past 256 agents', '[{"count": 200}, {"count": 100}]', /300 agents; GitHub runs at most 256/],
  ])('refuses agents-matrix with %s, naming the problem and the fix', (_, matrix, message) => {
    expect(() => planRun({ ...base, agentsMatrix: matrix })).toThrow(message);
  });

  it('refuses a glob that matches nothing, and more than 256 agent jobs', () => {
    expect(() => planRun({ ...base, scripts: [], pattern: 'tests/*.ts' })).toThrow(
      /input "script": "tests\/\*\.ts" matches no file in the repository/,
    );
    const scripts = Array.from({ length: 30 }, (_, i) => `/repo/t${String(i)}.js`);
    expect(() => planRun({ ...base, scripts, agents: 10 })).toThrow(
      /30 tests × 10 agents make 300 agent jobs; GitHub runs at most 256/,
    );
  });
});
