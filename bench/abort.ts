/**
 * abortOnFail reaction: the target starts answering 500 after a fixed number
 * of requests, which crosses `http_req_failed: rate==0` (abortOnFail) with the
 * first failed response. Reaction = last request reaching the target − that
 * first failure: how long load kept coming after the crossing sample. Run
 * against standalone k6 (which checks thresholds every 2 s) in the same
 * rounds, alternating, the distributed run on each metric transport (cloud:
 * k6 aggregates in-process and pushes 1 s buckets; json: every sample as a
 * line); all must exit 99.
 */
import type { BenchContext } from './lib/context.js';
import { launch } from './lib/proc.js';
import { Target } from './lib/target.js';
import { envNumber, log, rotate, spread, wallMs, type Spread } from './lib/util.js';

/** `distributed` is the cloud transport (what agents use), `distributed-json` the JSON one. */
export const ABORT_SIDES = ['k6', 'distributed', 'distributed-json'] as const;
export type AbortSide = (typeof ABORT_SIDES)[number];

export interface AbortRun {
  round: number;
  side: AbortSide;
  /** First failed response → last request at the target. */
  loadStoppedMs: number;
  /** First failed response → the process (k6, or the whole distributed run) exited. */
  exitedMs: number;
  exitCode: number | null;
  requestsAfterCrossing: number;
}

export interface AbortResult {
  settings: { agents: number; rate: number; failAfter: number; rounds: number };
  runs: AbortRun[];
  loadStoppedMs: Record<AbortSide, Spread>;
  exitedMs: Record<AbortSide, Spread>;
}

const SCRIPT = `import http from 'k6/http';
export const options = {
  scenarios: {
    load: {
      executor: 'constant-arrival-rate', rate: Number(__ENV.RATE), timeUnit: '1s',
      duration: '60s', preAllocatedVUs: 20, maxVUs: 100,
    },
  },
  thresholds: { http_req_failed: [{ threshold: 'rate==0', abortOnFail: true }] },
};
export default function () {
  http.get(__ENV.TARGET);
}
`;

export async function abortReaction(ctx: BenchContext): Promise<AbortResult> {
  const agents = envNumber('BENCH_ABORT_AGENTS', ctx.quick ? 2 : 4);
  const rate = envNumber('BENCH_ABORT_RATE', 200);
  const rounds = envNumber('BENCH_ABORT_ROUNDS', ctx.quick ? 1 : 5);
  // Fail once the load has run for about three seconds.
  const failAfter = rate * 3;
  const script = await ctx.script('abort.js', SCRIPT);
  const target = await Target.start();
  const runs: AbortRun[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const side of rotate(ABORT_SIDES, round)) {
        await target.reset(failAfter);
        const flags = ['-e', `TARGET=${target.url}`, '-e', `RATE=${String(rate)}`, script];
        const transport = side === 'distributed-json' ? 'json' : 'cloud';
        const distributed = [ctx.cli, 'run', '--agents', String(agents)];
        distributed.push('--transport', transport, ...flags);
        const launched =
          side === 'k6'
            ? launch(ctx.k6, ['run', ...flags], { env: ctx.env })
            : launch(process.execPath, distributed, { env: ctx.env });
        const exit = await launched.exited;
        const exitedAt = wallMs();
        const stats = await target.stats();
        if (stats.failed === 0) throw new Error(`${side}: the target never failed a request`);
        const run: AbortRun = {
          round,
          side,
          loadStoppedMs: stats.last - stats.firstFailAt,
          exitedMs: exitedAt - stats.firstFailAt,
          exitCode: exit.code,
          requestsAfterCrossing: stats.failed,
        };
        if (exit.code !== 99) {
          throw new Error(
            `${side} exited ${String(exit.code)}, not 99:\n${launched.stderr().slice(-3000)}`,
          );
        }
        log(
          `  abort round ${String(round + 1)}/${String(rounds)} ${side}: load stopped after ` +
            `${run.loadStoppedMs.toFixed(0)} ms, exited after ${run.exitedMs.toFixed(0)} ms`,
        );
        runs.push(run);
      }
    }
  } finally {
    target.close();
  }
  const of = (side: AbortSide, f: (r: AbortRun) => number) =>
    spread(runs.filter((r) => r.side === side).map(f));
  const bySide = (f: (r: AbortRun) => number) =>
    Object.fromEntries(ABORT_SIDES.map((side) => [side, of(side, f)])) as Record<AbortSide, Spread>;
  return {
    settings: { agents, rate, failAfter, rounds },
    runs,
    loadStoppedMs: bySide((r) => r.loadStoppedMs),
    exitedMs: bySide((r) => r.exitedMs),
  };
}
