/**
 * One step of the bundled action (dist/index.js) as a runner runs it: INPUT_*
 * variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files in a fresh directory,
 * the test k6 as K6_PATH. For tests of the action's own behaviour.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { tempDir } from './fs.js';
import { testK6Path } from './k6.js';

const ACTION = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

export interface JobEnd {
  code: number;
  stdout: string;
  /** GITHUB_OUTPUT's outputs by name. */
  outputs: Record<string, string>;
  summary: string;
}

export interface Job {
  exited: Promise<JobEnd>;
  /** Resolves once the job's log has printed `text`. */
  printed(text: string): Promise<void>;
}

/** One action step: node on dist/index.js with the runner's files in a fresh directory. */
export async function startJob(inputs: Record<string, string>, env: Record<string, string> = {}) {
  const dir = await tempDir();
  const files = { GITHUB_OUTPUT: join(dir, 'output'), GITHUB_STEP_SUMMARY: join(dir, 'summary') };
  await Promise.all(Object.values(files).map((f) => writeFile(f, '')));
  const child = spawn(process.execPath, [ACTION], {
    env: {
      PATH: process.env.PATH,
      RUNNER_TEMP: dir,
      GITHUB_RUN_ATTEMPT: '1',
      K6_PATH: testK6Path(),
      ...files,
      ...env,
      ...Object.fromEntries(
        Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]),
      ),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  const waiters: Array<() => void> = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<number>((resolve) =>
    child.once('close', (code) => resolve(code ?? -1)),
  );
  const job: Job = {
    exited: exited.then(async (code) => ({
      code,
      stdout,
      outputs: parseOutputs(await readFile(files.GITHUB_OUTPUT, 'utf8')),
      summary: await readFile(files.GITHUB_STEP_SUMMARY, 'utf8'),
    })),
    printed: async (text) => {
      while (!stdout.includes(text)) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
  return job;
}

/** `name<<DELIMITER\nvalue\nDELIMITER` entries, as @actions/core writes them; the last one wins. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const [, name, delimiter, value] of text.matchAll(/^([^\n<]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) {
    if (name !== undefined && delimiter !== undefined) outputs[name] = value ?? '';
  }
  return outputs;
}
