/**
 * Issue 20.7: which agents a scenario leaves without work, worked out before
 * the run (src/k6/segment-work.ts), against the real k6: each agent's
 * segment runs as its own k6 process (`--execution-segment`, the full
 * sequence), and an agent has work when its k6 ran an iteration.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { idleAgents } from '../../src/k6/segment-work.js';
import { segmentsForWeights } from '../../src/k6/segments.js';
import { tempDir } from '../helpers/fs.js';
import { startK6 } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

type Scenario = Record<string, unknown> & { executor: string };

const SCRIPT = `import http from 'k6/http';
import { sleep } from 'k6';
export const options = { scenarios: { s: JSON.parse(__ENV.SCENARIO) } };
export default function () {
  http.get(\`\${__ENV.TARGET}/iteration?agent=\${__ENV.AGENT}\`);
  sleep(0.05);
}
`;

/** The agents (0-based) whose k6 ran no iteration of `scenario`, each on its segment of `weights`. */
async function idleOnK6(weights: readonly number[], scenario: Scenario): Promise<number[]> {
  const dir = await tempDir();
  const script = join(dir, 'script.js');
  await writeFile(script, SCRIPT);
  const target = await TargetServer.start();
  const segments = segmentsForWeights(weights);
  const runs = await Promise.all(
    segments.map((s, i) =>
      startK6([
        'run',
        '--quiet',
        '--summary-mode=disabled',
        '--execution-segment',
        s.segment,
        '--execution-segment-sequence',
        s.sequence,
        '-e',
        `SCENARIO=${JSON.stringify(scenario)}`,
        '-e',
        `TARGET=${target.url}`,
        '-e',
        `AGENT=${String(i)}`,
        script,
      ]),
    ),
  );
  const exits = await Promise.all(runs.map((r) => r.proc.done));
  expect(exits.map((e) => e.outcome.exitCode)).toEqual(segments.map(() => 0));
  const busy = new Set(target.requests('/iteration').map((r) => Number(r.query.get('agent'))));
  return segments.map((_, i) => i).filter((i) => !busy.has(i));
}

function idleOurs(weights: readonly number[], scenario: Scenario): number[] {
  const sequence = segmentsForWeights(weights)[0]?.sequence ?? '';
  return idleAgents({ s: scenario }, sequence)[0]?.agents ?? [];
}

const vus = (n: number): Scenario => ({ executor: 'constant-vus', vus: n, duration: '1s' });

describe('issue 20.7: agents a scenario leaves without work, as k6 decides (real k6)', () => {
  it.each<[string, number[], Scenario]>([
    ['2 VUs over 4 agents', [1, 1, 1, 1], vus(2)],
    ['3 VUs over weights 2,1,1', [2, 1, 1], vus(3)],
    ['1 VU over weights 1,3 (the bigger share goes first)', [1, 3], vus(1)],
    ['6 VUs over 3 agents (everyone busy)', [1, 1, 1], vus(6)],
    [
      'a ramp to 3 VUs over 4 agents',
      [1, 1, 1, 1],
      {
        executor: 'ramping-vus',
        startVUs: 0,
        // Held for a second: the third VU starts as the ramp ends.
        stages: [
          { duration: '1s', target: 3 },
          { duration: '1s', target: 3 },
        ],
      },
    ],
    [
      'per-vu-iterations, 3 VUs over 4 agents',
      [1, 1, 1, 1],
      { executor: 'per-vu-iterations', vus: 3, iterations: 2 },
    ],
    [
      'shared-iterations, 2 VUs and 10 iterations over 4 agents',
      [1, 1, 1, 1],
      { executor: 'shared-iterations', vus: 2, iterations: 10 },
    ],
    [
      'constant-arrival-rate with 3 VUs over 4 agents',
      [1, 1, 1, 1],
      {
        executor: 'constant-arrival-rate',
        rate: 20,
        timeUnit: '1s',
        duration: '1s',
        preAllocatedVUs: 3,
      },
    ],
  ])('issue 20.7: %s', async (_, weights, scenario) => {
    expect(idleOurs(weights, scenario)).toEqual(await idleOnK6(weights, scenario));
  });

  it('issue 20.7: the VUs the warning asks for are the fewest that give every agent work', async () => {
    const cases: [number[], (n: number) => Scenario][] = [
      [[2, 1, 1], vus],
      [[1, 3], vus],
      [[1, 1, 1, 1], (n) => ({ executor: 'shared-iterations', vus: n, iterations: 10 })],
    ];
    for (const [weights, scenario] of cases) {
      const sequence = segmentsForWeights(weights)[0]?.sequence ?? '';
      const needed = idleAgents({ s: scenario(1) }, sequence)[0]?.needed ?? 0;
      expect(needed).toBeGreaterThan(1);
      const [enough, short] = await Promise.all([
        idleOnK6(weights, scenario(needed)),
        idleOnK6(weights, scenario(needed - 1)),
      ]);
      expect(enough).toEqual([]);
      expect(short.length).toBeGreaterThan(0);
    }
  });
});
