import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

import { INPUTS, OUTPUTS } from '../../src/action/inputs.js';

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
});
