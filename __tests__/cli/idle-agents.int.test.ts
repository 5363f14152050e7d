/**
 * Issue 20.7: `run --agents 4 -u 2` leaves two agents without a VU. The CLI
 * says so once, before the run, naming them and the fix; the run itself is
 * what standalone `k6 run` makes of the same script (real k6, side by side).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import type { ResultFile } from '../../src/coordinator/result-file.js';
import { CLI, exec } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/fs.js';
import { testK6Path } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const SCRIPT = `import http from 'k6/http';
export default function () {
  http.get(\`\${__ENV.TARGET}/iteration\`);
}
`;

describe('issue 20.7: agents left without work are named before the run (real k6)', () => {
  it('issue 20.7: run --agents 4 -u 2 warns once about agents 3 and 4; exit code and counts as standalone k6', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'script.js'), SCRIPT);
    const [alone, ours] = [await TargetServer.start(), await TargetServer.start()];
    const args = (target: TargetServer) => ['-u', '2', '-i', '10', '-e', `TARGET=${target.url}`];
    const [k6, run] = await Promise.all([
      exec(testK6Path(), ['run', ...args(alone), 'script.js'], dir),
      exec(
        process.execPath,
        [CLI, 'run', '--agents', '4', ...args(ours), '--summary-json', 'result.json', 'script.js'],
        dir,
      ),
    ]);

    expect({ code: run.code, stderr: run.code === k6.code ? '' : run.stderr }).toEqual({
      code: k6.code,
      stderr: '',
    });
    expect(ours.count('/iteration')).toBe(alone.count('/iteration'));
    const warnings = run.stderr.split('\n').filter((l) => /get no load/.test(l));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^warning: 2 of 4 agents get no load at all: scenario "default" \(2 VUs sharing 10 iterations\) gives no VUs to agent 3 \(.*\), agent 4 \(.*\)\. /,
    );
    expect(warnings[0]).toMatch(/Fix: use at most 2 agents, or give "default" at least 4 VUs\.$/);
    expect(k6.stderr + k6.stdout).not.toMatch(/get no load/);
    // Before any load: the warning comes before the run starts.
    expect(run.stderr.indexOf('get no load')).toBeLessThan(
      run.stderr.indexOf('starting all at once'),
    );

    // Which agents got nothing is k6's own doing: the ones named made no iteration.
    const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as ResultFile;
    const idle = result.agents.filter((a) => (a.totals?.iterations ?? 0) === 0).map((a) => a.index);
    expect(idle).toEqual([2, 3]);
  });
});
