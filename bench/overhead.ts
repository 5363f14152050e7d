/**
 * Agent overhead: the highest request rate one k6 reaches against a fast
 * loopback target, run four ways side by side in the same rounds:
 *   k6                plain `k6 run script.js` (default end-of-test summary)
 *   k6-json           `k6 run --out json=FILE script.js` (what users do to merge by hand)
 *   distributed       `k6-distributed run --agents 1 --transport cloud script.js`
 *                     (coordinator + 1 agent; its k6 aggregates in-process, issue 18)
 *   distributed-json  the same with `--transport json`: every sample as a JSON line (context)
 *   k6-gogc           plain `k6 run` with the agent's garbage collection setting (GOGC=400,
 *                     src/agent/go-memory.ts): how much of the agent's rate is that setting (context)
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { BenchContext } from './lib/context.js';
import { AGENT_GOGC } from '../src/agent/go-memory.js';
import { launch } from './lib/proc.js';
import { Target } from './lib/target.js';
import { envNumber, log, rotate, spread, type Spread } from './lib/util.js';

export const SIDES = ['k6', 'k6-json', 'distributed', 'distributed-json', 'k6-gogc'] as const;
export type Side = (typeof SIDES)[number];

export interface OverheadRun {
  round: number;
  side: Side;
  rate: number;
  requests: number;
  cpuS: number;
  maxRssMB: number;
  exitCode: number | null;
}

export interface OverheadResult {
  settings: { vus: number; durationS: number; rounds: number };
  runs: OverheadRun[];
  rate: Record<Side, Spread>;
  /** CPU seconds (whole process tree) per 1,000 requests. */
  cpuPer1k: Record<Side, Spread>;
  /** Per round, against plain k6 of the same round. */
  ratio: {
    /** The headline: the cloud transport. */
    distributed: Spread;
    json: Spread;
    distributedJson: Spread;
    /** The cloud transport against the JSON transport. */
    cloudVsJsonTransport: Spread;
    /** Plain k6 with GOGC=400 against plain k6. */
    k6Gogc: Spread;
    /** The cloud transport against plain k6 with the same GOGC. */
    distributedVsK6Gogc: Spread;
  };
}

const SCRIPT = `import http from 'k6/http';
export const options = {
  scenarios: { load: { executor: 'constant-vus', vus: Number(__ENV.VUS), duration: __ENV.DURATION } },
};
export default function () {
  http.get(__ENV.TARGET);
}
`;

export async function overhead(ctx: BenchContext): Promise<OverheadResult> {
  const vus = envNumber('BENCH_OVERHEAD_VUS', 20);
  const durationS = envNumber('BENCH_OVERHEAD_S', ctx.quick ? 2 : 15);
  const rounds = envNumber('BENCH_OVERHEAD_ROUNDS', ctx.quick ? 1 : 5);
  const script = await ctx.script('overhead.js', SCRIPT);
  const target = await Target.start();
  const runs: OverheadRun[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const side of rotate(SIDES, round)) {
        await target.reset();
        const flags = ['-e', `TARGET=${target.url}`, '-e', `VUS=${String(vus)}`];
        flags.push('-e', `DURATION=${String(durationS)}s`);
        const json = join(ctx.workDir, 'overhead.json');
        const distributed = (transport: string) => [
          ctx.cli,
          'run',
          '--agents',
          '1',
          '--transport',
          transport,
          ...flags,
          script,
        ];
        const [cmd, args] = {
          distributed: [process.execPath, distributed('cloud')],
          'distributed-json': [process.execPath, distributed('json')],
          'k6-json': [ctx.k6, ['run', '--out', `json=${json}`, ...flags, script]],
          k6: [ctx.k6, ['run', ...flags, script]],
          'k6-gogc': [ctx.k6, ['run', ...flags, script]],
        }[side] as [string, string[]];
        const env = side === 'k6-gogc' ? { ...ctx.env, GOGC: String(AGENT_GOGC) } : ctx.env;
        const exit = await launch(cmd, args, { env, timed: true }).exited;
        await rm(json, { force: true });
        const stats = await target.stats();
        const run: OverheadRun = {
          round,
          side,
          rate: Target.rate(stats),
          requests: stats.count,
          cpuS: exit.cpuS ?? NaN,
          maxRssMB: exit.maxRssMB ?? NaN,
          exitCode: exit.code,
        };
        if (exit.code !== 0) throw new Error(`${side} exited ${String(exit.code)}`);
        log(
          `  overhead round ${String(round + 1)}/${String(rounds)} ${side}: ` +
            `${run.rate.toFixed(0)} req/s, ${run.cpuS.toFixed(1)} CPU s`,
        );
        runs.push(run);
      }
    }
  } finally {
    target.close();
  }
  const of = (side: Side) => runs.filter((r) => r.side === side);
  const ratios = (a: Side, b: Side) =>
    spread(
      Array.from({ length: rounds }, (_, round) => {
        const x = runs.find((r) => r.round === round && r.side === a);
        const y = runs.find((r) => r.round === round && r.side === b);
        return x && y ? x.rate / y.rate : NaN;
      }),
    );
  const bySide = <T>(f: (side: Side) => T) =>
    Object.fromEntries(SIDES.map((s) => [s, f(s)])) as Record<Side, T>;
  return {
    settings: { vus, durationS, rounds },
    runs,
    rate: bySide((s) => spread(of(s).map((r) => r.rate))),
    cpuPer1k: bySide((s) => spread(of(s).map((r) => (r.cpuS * 1000) / r.requests))),
    ratio: {
      distributed: ratios('distributed', 'k6'),
      json: ratios('k6-json', 'k6'),
      distributedJson: ratios('distributed-json', 'k6'),
      cloudVsJsonTransport: ratios('distributed', 'distributed-json'),
      k6Gogc: ratios('k6-gogc', 'k6'),
      distributedVsK6Gogc: ratios('distributed', 'k6-gogc'),
    },
  };
}
