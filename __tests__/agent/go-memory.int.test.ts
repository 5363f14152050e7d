/**
 * The agent's k6 runs with the Go memory settings of src/agent/go-memory.ts
 * (real k6, real agents): read from each running k6 process's environment
 * (Linux /proc), while both agents' VUs wait on the target.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { machineMemoryBytes } from '../../src/agent/go-memory.js';
import { runDistributed } from '../helpers/distributed.js';
import { tempDir } from '../helpers/fs.js';
import { TargetServer } from '../helpers/target-server.js';

const SCRIPT = `import http from 'k6/http';
export const options = { vus: 2, iterations: 2 };
export default function () { http.get(__ENV.TARGET + '/hold'); }
`;

/** The Go settings of every agent k6 (those with an execution segment) below this process. */
async function agentK6GoEnv(): Promise<Record<string, string>[]> {
  const found: Record<string, string>[] = [];
  for (const pid of await descendants(process.pid)) {
    const cmdline = await readFile(`/proc/${String(pid)}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes('--execution-segment')) continue;
    const environ = await readFile(`/proc/${String(pid)}/environ`, 'utf8');
    const go = environ
      .split('\0')
      .filter((kv) => /^GO(GC|MEMLIMIT)=/.test(kv))
      .map((kv) => kv.split('=') as [string, string]);
    found.push(Object.fromEntries(go));
  }
  return found;
}

async function descendants(pid: number): Promise<number[]> {
  const tasks = await readdir(`/proc/${String(pid)}/task`).catch(() => []);
  const children: number[] = [];
  for (const task of tasks) {
    const text = await readFile(`/proc/${String(pid)}/task/${task}/children`, 'utf8').catch(
      () => '',
    );
    children.push(...text.split(/\s+/).filter(Boolean).map(Number));
  }
  const below = await Promise.all(children.map(descendants));
  return [...children, ...below.flat()];
}

async function goEnvDuringRun(env: NodeJS.ProcessEnv): Promise<Record<string, string>[]> {
  const target = await TargetServer.start();
  target.respond('/hold', { delayMs: 2_000 });
  const script = join(await tempDir(), 'hold.js');
  await writeFile(script, SCRIPT);
  const run = runDistributed({ script, agents: 2, flags: ['-e', `TARGET=${target.url}`], env });
  await target.waitForCount('/hold', 2);
  const seen = await agentK6GoEnv();
  expect((await run).exitCode).toBe(0);
  return seen;
}

const describeLinux = process.platform === 'linux' ? describe : describe.skip;

describeLinux("the agent k6's Go memory settings on a local run (real k6)", () => {
  it('issue 18: each agent k6 runs with GOGC=400 and its share of half the memory', async () => {
    const seen = await goEnvDuringRun({ GOGC: undefined, GOMEMLIMIT: undefined });
    const share = Math.floor(machineMemoryBytes() / 2 / 2 / (1024 * 1024));
    expect(seen).toEqual([
      { GOGC: '400', GOMEMLIMIT: `${String(share)}MiB` },
      { GOGC: '400', GOMEMLIMIT: `${String(share)}MiB` },
    ]);
  });

  it("issue 18: a user's GOGC reaches k6 as set, without a memory limit of ours", async () => {
    const seen = await goEnvDuringRun({ GOGC: '150', GOMEMLIMIT: undefined });
    expect(seen).toEqual([{ GOGC: '150' }, { GOGC: '150' }]);
  });
});
