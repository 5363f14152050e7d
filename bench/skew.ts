/**
 * Start skew: N agents (separate processes, each with its own k6) start at
 * the coordinator's common instant. Each agent's single VU makes one request
 * in its first iteration, keyed by its exec.vu.idInTest (one VU per agent,
 * so one key per agent); the target stamps the first arrival per agent on
 * one clock. Skew = max − min over the agents.
 * Rounds alternate between agents talking to the coordinator directly
 * (loopback) and through the fault proxy adding 50 ms each way (100 ms RTT).
 * A third mode is the floor of this machine: the same N k6 processes, paused
 * with the same execution segments, unpaused by this process at one instant
 * with no agent or coordinator in between.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { FaultProxy } from '../__tests__/helpers/fault-proxy.js';
import { runCleanups } from '../__tests__/helpers/cleanup.js';
import { freeLoopbackAddress } from '../src/k6/address.js';
import { isReadyToStart, K6RestClient } from '../src/k6/rest-client.js';
import { segmentsForWeights } from '../src/k6/segments.js';
import type { BenchContext } from './lib/context.js';
import { startDistributed } from './lib/distributed.js';
import { launch, type Exit } from './lib/proc.js';
import { Target, type TargetStats } from './lib/target.js';
import { envNumber, log, rotate, spread, type Spread } from './lib/util.js';

export const SKEW_MODES = ['loopback', 'proxy', 'k6-only'] as const;
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
  http.get(__ENV.TARGET + '/first?key=' + exec.vu.idInTest);
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
        if (mode === 'k6-only') {
          await unpauseTogether(ctx, target.url, agents, script);
          runs.push(measured(round, mode, await target.stats(), agents));
          continue;
        }
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
        runs.push(measured(round, mode, await target.stats(), agents));
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
    skewMs: { loopback: of('loopback'), proxy: of('proxy'), 'k6-only': of('k6-only') },
  };
}

function measured(round: number, mode: SkewMode, stats: TargetStats, agents: number): SkewRun {
  const firsts = Object.values(stats.firstByKey);
  if (firsts.length !== agents) {
    throw new Error(
      `expected a first request from ${String(agents)} agents, got ${String(firsts.length)}`,
    );
  }
  const earliest = Math.min(...firsts);
  const offsetsMs = firsts.map((t) => t - earliest).sort((a, b) => a - b);
  const skewMs = offsetsMs.at(-1) ?? NaN;
  log(`  skew round ${String(round + 1)} ${mode}: ${skewMs.toFixed(1)} ms`);
  return { round, mode, skewMs, offsetsMs };
}

/** N paused k6 processes with the agents' segments, unpaused at once from here. */
async function unpauseTogether(ctx: BenchContext, target: string, n: number, script: string) {
  const segments = segmentsForWeights(Array.from({ length: n }, () => '1'));
  const started = await Promise.all(
    segments.map(async (segment) => {
      const address = await freeLoopbackAddress();
      const k6 = launch(
        ctx.k6,
        [
          'run',
          '--paused',
          '--quiet',
          '--summary-mode=disabled',
          '--address',
          address,
          '--execution-segment',
          segment.segment,
          '--execution-segment-sequence',
          segment.sequence,
          '-e',
          `TARGET=${target}`,
          '-e',
          `AGENTS=${String(n)}`,
          script,
        ],
        { env: ctx.env },
      );
      const api = new K6RestClient(address);
      for (let ready = false; !ready;) {
        ready = await api.status().then(isReadyToStart, () => false);
        if (!ready) await sleep(50);
      }
      return { k6, api };
    }),
  );
  const at = Date.now() + 500;
  await sleep(at - Date.now());
  await Promise.all(started.map(({ api }) => api.unpause()));
  const exits: Exit[] = await Promise.all(started.map(({ k6 }) => k6.exited));
  await Promise.all(started.map(({ api }) => api.close()));
  if (exits.some((e) => e.code !== 0)) throw new Error('a paused k6 did not exit 0');
}
