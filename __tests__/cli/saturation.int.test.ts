/**
 * Issue 20.7: a load generator whose machine is saturated skews what it
 * measures. Real k6 agents whose VUs keep every core busy: the run says so
 * as it happens and in the end-of-test report, the result file and the HTML
 * report, naming the agents, and the run's verdict is k6's.
 */
import { cpus } from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import type { ResultFile } from '../../src/coordinator/result-file.js';
import { CLI, exec } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/fs.js';

// Each iteration keeps its VU's core busy for 200 ms: with two VUs per core every core is.
const BURN = `export default function () {
  const until = Date.now() + 200;
  while (Date.now() < until) {
    // busy
  }
}
`;

describe('issue 20.7: saturated load generators are reported (real k6)', () => {
  it('issue 20.7: agents whose VUs keep every core busy are named live, in the end-of-test report, the result file and the HTML report', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'burn.js'), BURN);
    const vus = String(2 * Math.max(2, cpus().length));
    const run = await exec(
      process.execPath,
      [
        CLI,
        'run',
        '--agents',
        '2',
        '-u',
        vus,
        '-d',
        '6s',
        '--summary-json',
        'result.json',
        '--report-html',
        'report.html',
        'burn.js',
      ],
      dir,
    );
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    // As it happens, once per agent (the first few), before the end of the test.
    const live = run.stderr.split('\n').filter((l) => /'s machine is saturated/.test(l));
    expect(live.length).toBeGreaterThanOrEqual(1);
    expect(live[0]).toMatch(
      /^warning: agent \d \(local-\d\)'s machine is saturated \(CPU ≥ 85 % for \d+ s of \d+ s \(peak \d+ %\)\)/,
    );
    // The end-of-test report: the agents' peaks in the table, the warning with the fix.
    expect(run.stdout).toMatch(/k6 exit\s+peak cpu\s+peak memory/);
    expect(run.stdout).toMatch(/\d+ %, saturated \d+ s/);
    expect(run.stdout).toMatch(
      /warning: 2 of 2 agents had their machine at or above 85 % CPU while its k6 ran: agent 1 \(local-1\) CPU ≥ 85 % for \d+ s/,
    );
    // A local run's agents share this machine: more of them is no fix.
    expect(run.stdout).toMatch(
      /Fix: the agents of a local run share this machine: fewer VUs, or agents on machines of their own/,
    );

    const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as ResultFile;
    expect(result.agents).toHaveLength(2);
    for (const agent of result.agents) {
      // One reading a second while its k6 ran (6 s), each within 0–1.
      expect(agent.load?.samples).toBeGreaterThanOrEqual(4);
      expect(agent.load?.samples).toBeLessThanOrEqual(8);
      expect(agent.load?.cpuSaturatedSeconds).toBeGreaterThanOrEqual(3);
      expect(agent.load?.cpuPeak).toBeLessThanOrEqual(1);
      expect(agent.load?.memoryPeak).toBeGreaterThan(0);
    }
    expect(result.warnings).toEqual(
      expect.arrayContaining([expect.stringMatching(/^2 of 2 agents had their machine/)]),
    );
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(
      /<p class="warning">⚠ 2 of 2 agents had their machine at or above 85 % CPU/,
    );
    expect(html).toContain('<th>peak cpu</th>');
  }, 90_000);
});
