/**
 * The action as a runner runs it: node on the committed dist/index.js with the
 * Actions environment (INPUT_*, GITHUB_OUTPUT, GITHUB_PATH files).
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { tempDir } from '../helpers/fs.js';
import { testK6Path } from '../helpers/k6.js';

const action = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

async function runAction(env: Record<string, string>) {
  const dir = await tempDir();
  const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_PATH: join(dir, 'path') };
  await Promise.all(Object.values(files).map((f) => writeFile(f, '')));
  const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      [action],
      { env: { PATH: process.env.PATH, ...files, ...env } },
      (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
    );
  });
  return {
    ...result,
    output: await readFile(files.GITHUB_OUTPUT, 'utf8'),
    path: await readFile(files.GITHUB_PATH, 'utf8'),
  };
}

describe('dist/index.js (the action)', () => {
  it('provisions k6, adds it to PATH and sets the k6-path and k6-version outputs', async () => {
    // An agent with nowhere to go: k6 is provisioned first, then the rendezvous fails.
    const result = await runAction({
      K6_PATH: testK6Path(),
      'INPUT_K6-VERSION': '2.2.0',
      INPUT_ROLE: 'agent',
      INPUT_AUTH: 'secret',
      INPUT_SECRET: 'a-secret-of-16-chars',
      'INPUT_JOIN-TIMEOUT': '1ms',
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/::error::.*set the "coordinator-url" input/);
    expect(result.stdout).toContain('::add-mask::a-secret-of-16-chars');
    expect(result.stdout).toContain(`Using k6 v2.2.0 from K6_PATH: ${testK6Path()}`);
    expect(result.path.trim()).toBe(dirname(testK6Path()));
    expect(result.output).toMatch(new RegExp(`k6-path<<(\\S+)\\n${testK6Path()}\\n\\1`));
    expect(result.output).toMatch(/k6-version<<(\S+)\n2\.2\.0\n\1/);
  });

  it('fails the step listing every invalid input with its fix', async () => {
    const result = await runAction({
      'INPUT_K6-VERSION': 'newest',
      INPUT_ROLE: 'coordinator',
      INPUT_AGENTS: 'three',
      INPUT_AUTH: 'secret',
      INPUT_FLAGS: '--vus 10 | tee out',
    });
    expect(result.code).toBe(1);
    const error = result.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '';
    expect(error).toContain('invalid action inputs');
    for (const problem of [
      'input "k6-version": "newest" is not a k6 version',
      'input "agents": "three" is not a positive whole number',
      'input "secret": auth: secret needs a secret of at least 16 characters',
      'input "script": the coordinator needs',
      'input "flags"',
    ]) {
      expect(error).toContain(problem);
    }
    // k6 is never provisioned; result and exit-code are set (early-failure.int.test.ts).
    expect(result.output).not.toContain('k6-path');
  });
});
