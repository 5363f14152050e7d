import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

import { INPUTS, OUTPUTS } from '../../src/action/inputs.js';
import { ACTION_JOIN_TIMEOUT } from '../../src/defaults.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

async function actionYml(): Promise<{ inputs: object; outputs: object }> {
  return parse(await readFile(`${REPO}action.yml`, 'utf8')) as { inputs: object; outputs: object };
}

describe('action.yml is the single source of the action surface', () => {
  it('declares exactly the inputs and outputs the code reads and sets', async () => {
    const action = await actionYml();
    expect(Object.keys(action.inputs).sort()).toEqual(Object.values(INPUTS).sort());
    expect(Object.keys(action.outputs).sort()).toEqual(Object.values(OUTPUTS).sort());
  });

  it("issue 19.4: the action's join-timeout default is action.yml's, written once in defaults.ts", async () => {
    const action = (await actionYml()) as { inputs: Record<string, { default?: unknown }> };
    expect(action.inputs[INPUTS.joinTimeout]?.default).toBe(ACTION_JOIN_TIMEOUT);
  });

  it("the README's inputs and outputs tables are generated from it (npm run docs)", async () => {
    const code = await new Promise<number>((resolve) =>
      execFile(process.execPath, ['scripts/action-docs.mjs', '--check'], { cwd: REPO }, (error) =>
        resolve(error ? Number(error.code) : 0),
      ),
    );
    expect(code).toBe(0);
    const readme = await readFile(`${REPO}README.md`, 'utf8');
    for (const name of Object.values(INPUTS)) expect(readme).toContain(`| \`${name}\``);
  });

  it('the reusable workflow forwards each of its inputs to the action input of that name', async () => {
    interface Step {
      uses?: string;
      with?: Record<string, string>;
    }
    const workflow = parse(
      await readFile(`${REPO}.github/workflows/k6-distributed.yml`, 'utf8'),
    ) as {
      on: { workflow_call: { inputs: Record<string, unknown> } };
      jobs: Record<string, { steps?: Step[]; permissions?: Record<string, string> }>;
    };
    const forwarded = new Set<string>();
    for (const job of Object.values(workflow.jobs)) {
      for (const step of job.steps ?? []) {
        if (!step.uses?.startsWith('k6-distributed/k6-distributed@')) continue;
        for (const [name, value] of Object.entries(step.with ?? {})) {
          expect(Object.values(INPUTS)).toContain(name);
          const input = /^\$\{\{ inputs\.([\w-]+) \}\}$/.exec(value)?.[1];
          if (input !== undefined) {
            expect(input).toBe(name);
            forwarded.add(input);
          }
        }
      }
    }
    // Runners are the workflow's own: they pick jobs' machines (and the plan's default for agents).
    const own = ['runs-on', 'coordinator-runs-on', 'agents-runs-on'];
    expect([...forwarded, ...own].sort()).toEqual(
      Object.keys(workflow.on.workflow_call.inputs).sort(),
    );
    // The coordinator inherits what the caller grants: requesting more than the caller
    // gives (say, actions: read for the comparison) would fail the whole workflow.
    expect(workflow.jobs.coordinator?.permissions).toBeUndefined();
  });
});

describe("the architecture notes' layout section (docs/architecture.md)", () => {
  it('issue 19: names an existing file, and in it the named function, for each behaviour', async () => {
    const readme = await readFile(`${REPO}docs/architecture.md`, 'utf8');
    const table = readme.split('Where a behaviour is decided')[1]?.split('\n## ')[0] ?? '';
    const rows = [...table.matchAll(/^\| (.+?) +\| `([^`]+)`(?: \(`([^`]+)`\))? +\|$/gm)];
    expect(rows.map((r) => r[1])).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/start instant/),
        expect.stringMatching(/abortOnFail/),
        expect.stringMatching(/PR comment/),
        expect.stringMatching(/exit code/),
      ]),
    );
    for (const [, , path, fn] of rows) {
      const source = await readFile(`${REPO}${String(path)}`, 'utf8');
      if (fn !== undefined) expect(source).toContain(fn);
    }
  });
});
