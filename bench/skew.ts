/**
 * Start skew: N agents (separate processes, each with its own k6) start at
 * the coordinator's common instant. Each agent's single VU makes one request
 * in its first iteration, tagged with its instance_id; the target stamps the
 * first arrival per agent on one clock. Skew = max − min over the agents.
 * Rounds alternate between agents talking to the coordinator directly
 * (loopback) and through the fault proxy adding 50 ms each way (100 ms RTT).
 */
import { FaultProxy } from '../__tests__/helpers/fault-proxy.js';
import { runCleanups } from '../__tests__/helpers/cleanup.js';
import type { BenchContext } from './lib/context.js';
import { startDistributed } from './lib/distributed.js';
import { Target } from './lib/target.js';
import { envNumber, log, rotate, spread, type Spread } from './lib/util.js';

export const SKEW_MODES = ['loopback', 'proxy'] as const;
export type SkewMode = (typeof SKEW_MODES)[number];

export interface SkewRun {
  round: number;
  mode: SkewMode;
  skewMs: number;
  /** First-request offsets per agent from the earliest, ms. */
  offsetsMs: number[];
}

export interface SkewResult {
  settings: { agents: number; rounds: number; proxyRttMs: number; proxyJitterMs: number };
  runs: SkewRun[];
  skewMs: Record<SkewMode, Spread>;
}

const SCRIPT = `import http from 'k6/http';
import exec from 'k6/execution';
export const options = {
  scenarios: { first: { executor: 'per-vu-iterations', vus: Number(__ENV.AGENTS), iterations: 1 } },
};
export default function () {
  http.get(__ENV.TARGET + '/first?key=' + exec.vu.tags.instance_id);
}
`;

export async function startSkew(ctx: BenchContext): Promise<SkewResult> {
  const agents = envNumber('BENCH_SKEW_AGENTS', ctx.quick ? 3 : 8);
  const rounds = envNumber('BENCH_SKEW_ROUNDS', ctx.quick ? 1 : 5);
  const rttMs = 100;
  const jitterMs = envNumber('BENCH_SKEW_JITTER_MS', 5);
  const script = await ctx.script('skew.js', SCRIPT);
  const target = await Target.start();
  const runs: SkewRun[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const mode of rotate(SKEW_MODES, round)) {
        await target.reset();
        const run = await startDistributed(ctx, {
          agents,
          k6Args: ['-e', `TARGET=${target.url}`, '-e', `AGENTS=${String(agents)}`, script],
          agentUrl:
            mode === 'proxy'
              ? async (url) =>
                  (
                    await FaultProxy.start(url, {
                      latencyMs: rttMs / 2,
                      jitterMs,
                      seed: round + 1,
                    })
                  ).url
              : undefined,
        });
        const exits = await run.exited;
        await runCleanups();
        if (exits.some((e) => e.code !== 0)) {
          throw new Error(`skew run failed:\n${run.coordinator.stderr().slice(-4000)}`);
        }
        const stats = await target.stats();
        const firsts = Object.values(stats.firstByKey);
        if (firsts.length !== agents) {
          throw new Error(
            `expected a first request from ${String(agents)} agents, got ${String(firsts.length)}`,
          );
        }
        const earliest = Math.min(...firsts);
        const offsetsMs = firsts.map((t) => t - earliest).sort((a, b) => a - b);
        const skewMs = offsetsMs.at(-1) ?? NaN;
        log(`  skew round ${String(round + 1)}/${String(rounds)} ${mode}: ${skewMs.toFixed(1)} ms`);
        runs.push({ round, mode, skewMs, offsetsMs });
      }
    }
  } finally {
    target.close();
    await runCleanups();
  }
  const of = (mode: SkewMode) => spread(runs.filter((r) => r.mode === mode).map((r) => r.skewMs));
  return {
    settings: { agents, rounds, proxyRttMs: rttMs, proxyJitterMs: jitterMs },
    runs,
    skewMs: { loopback: of('loopback'), proxy: of('proxy') },
  };
}
