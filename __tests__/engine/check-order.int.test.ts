/**
 * Issue 18.2: on the cloud transport, k6 pushes the series first seen in one
 * aggregation second in random order; the summary must still list checks and
 * groups in k6's order (first seen, then as the script spells them), every run.
 */
import { describe, expect, it } from '@jest/globals';

import { runDistributed } from '../helpers/distributed.js';
import { fixtureScript, k6FullSummary } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const SCRIPT = fixtureScript('check-order.js');
const RUNS = 3;

/** The summary's checks and group headings, in printed order (our own section left out). */
function orderShown(stdout: string): string[] {
  const lines: string[] = [];
  let ours = false;
  for (const line of stdout.split('\n')) {
    if (/█ /.test(line)) ours = line.includes('DISTRIBUTED RUN');
    if (ours) continue;
    const item = /^\s*(?:█|↳) (GROUP: .+?)\s*$/.exec(line) ?? /^\s*([✓✗] .+?)\s*$/.exec(line);
    if (item?.[1]) lines.push(item[1]);
  }
  return lines;
}

async function standalone(target: TargetServer): Promise<string[]> {
  return orderShown(await k6FullSummary(SCRIPT, target.url));
}

describe('issue 18.2: check and group order on the cloud transport (real k6, 3 agents)', () => {
  it('issue 18.2: checks and groups are listed in standalone k6 order, run after run', async () => {
    const target = await TargetServer.start();
    const k6 = await standalone(target);
    // The script's names do not sort alphabetically: a name order would fail too.
    expect(k6.slice(0, 4)).toEqual([
      '✓ status is 200',
      '✓ body ok',
      '✓ zz took under 10s',
      '✓ a header present',
    ]);
    expect(k6).toContain('GROUP: nested z');
    for (let run = 1; run <= RUNS; run++) {
      const out: string[] = [];
      const result = await runDistributed({
        script: SCRIPT,
        flags: ['--no-color', '--summary-mode=full', '-e', `TARGET=${target.url}`],
        transport: 'cloud',
        output: { stdout: (c) => out.push(String(c)), stderr: () => undefined, isTTY: false },
      });
      expect(result.exitCode).toBe(0);
      expect(result.log.text()).toContain("k6's cloud output pushes its metrics");
      expect([run, orderShown(out.join(''))]).toEqual([run, k6]);
      // handleSummary()'s root_group follows the same lists.
      expect([run, result.summary.groups]).toEqual([
        run,
        ['::outer', '::outer::nested z', '::outer::nested a', '::b later'],
      ]);
    }
  });
});
