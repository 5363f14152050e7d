/**
 * Agent CPU and memory over a long run at a steady request rate, against
 * standalone k6 running the same script in the same benchmark run. k6 keeps
 * every Trend sample for its end-of-test summary, so its memory grows with
 * the test; an agent's k6 runs with the summary off and aggregates into its
 * cloud output's fixed-size histograms (`--transport cloud`, issue 18), and
 * the agent keeps fixed-size histograms, so both should stay flat.
 */
import type { BenchContext } from './lib/context.js';
import { startDistributed } from './lib/distributed.js';
import { launch, Sampler, waitForChild } from './lib/proc.js';
import { Target } from './lib/target.js';
import { envNumber, log, slope } from './lib/util.js';

export interface ProcessProfile {
  /** Resident set a fifth into the load, at the end, and its peak. */
  rssEarlyMB: number;
  rssEndMB: number;
  rssPeakMB: number;
  /** Least-squares RSS slope from 20 % of the load to its end, MB per minute. */
  growthMBPerMin: number;
  /**
   * Growth of the RSS ceiling: highest RSS in the last third of the load minus
   * the highest in the middle third. A garbage-collected heap saws up and down
   * between collections; memory that keeps every sample pushes the ceiling up.
   */
  peakGrowthMB: number;
  /** Average CPU over the load, % of one core. */
  cpuPct: number;
  series: { t: number; rssMB: number }[];
}

export interface LongRunResult {
  /** `transport` is absent from results measured before issue 18 (the JSON transport then). */
  settings: { rate: number; durationS: number; transport?: string };
  k6: ProcessProfile;
  agent: ProcessProfile;
  agentK6: ProcessProfile;
  coordinator: ProcessProfile;
  requests: { k6: number; distributed: number };
}

const SCRIPT = `import http from 'k6/http';
import { check } from 'k6';
export const options = {
  scenarios: {
    steady: {
      executor: 'constant-arrival-rate', rate: Number(__ENV.RATE), timeUnit: '1s',
      duration: __ENV.DURATION, preAllocatedVUs: 20, maxVUs: 100,
    },
  },
  thresholds: { http_req_duration: ['p(95)<500'], checks: ['rate>0.99'] },
};
export default function () {
  const res = http.get(__ENV.TARGET);
  check(res, { 'status is 200': (r) => r.status === 200 });
}
`;

/** What agents use by default (issue 18); named explicitly so a change of default shows. */
const TRANSPORT = 'cloud';

/** A process over the load phase [from, to] (wall-clock ms, as the target saw it). */
function profile(
  samples: { t: number; cpuS: number; rssMB: number }[],
  from: number,
  to: number,
): ProcessProfile {
  const load = samples.filter((s) => s.t >= from && s.t <= to);
  const first = load[0];
  const last = load.at(-1);
  if (!first || !last || load.length < 3) {
    throw new Error(`${String(load.length)} samples in the load phase: make it longer`);
  }
  const early = load.find((s) => s.t >= from + (to - from) * 0.2) ?? last;
  const after = (fraction: number) => from + (to - from) * fraction;
  const settled = load.filter((s) => s.t >= after(0.2));
  const peak = (a: number, b: number) =>
    Math.max(...load.filter((s) => s.t >= after(a) && s.t <= after(b)).map((s) => s.rssMB));
  return {
    rssEarlyMB: early.rssMB,
    rssEndMB: last.rssMB,
    rssPeakMB: Math.max(...load.map((s) => s.rssMB)),
    growthMBPerMin: slope(settled.map((s) => ({ x: s.t / 60_000, y: s.rssMB }))),
    peakGrowthMB: peak(2 / 3, 1) - peak(1 / 3, 2 / 3),
    cpuPct: ((last.cpuS - first.cpuS) / ((last.t - first.t) / 1000)) * 100,
    series: load.map((s) => ({
      t: Math.round((s.t - from) / 100) / 10,
      rssMB: Math.round(s.rssMB * 10) / 10,
    })),
  };
}

export async function longRun(ctx: BenchContext): Promise<LongRunResult> {
  const rate = envNumber('BENCH_LONG_RATE', 1000);
  const durationS = envNumber('BENCH_LONG_S', ctx.quick ? 4 : 180);
  const intervalMs = ctx.quick ? 250 : 1000;
  const script = await ctx.script('longrun.js', SCRIPT);
  const target = await Target.start();
  const k6Flags = ['-e', `TARGET=${target.url}`, '-e', `RATE=${String(rate)}`];
  k6Flags.push('-e', `DURATION=${String(durationS)}s`, script);
  try {
    // Standalone k6.
    await target.reset();
    log(`  longrun: k6 run, ${String(rate)} req/s for ${String(durationS)} s`);
    const k6 = launch(ctx.k6, ['run', ...k6Flags], { env: ctx.env });
    const k6Pid = await k6.pid();
    const k6Sampler = new Sampler(() => [k6Pid], intervalMs);
    const k6Exit = await k6.exited;
    k6Sampler.stop();
    if (k6Exit.code !== 0) throw new Error(`k6 exited ${String(k6Exit.code)}:\n${k6.stderr()}`);
    const k6Load = await target.stats();

    // The same test distributed over one agent, coordinator and agent as separate processes.
    await target.reset();
    log(`  longrun: coordinator + 1 agent, --transport ${TRANSPORT}`);
    const run = await startDistributed(ctx, {
      agents: 1,
      k6Args: k6Flags,
      coordinatorFlags: ['--transport', TRANSPORT],
    });
    const [agent] = run.agents;
    if (!agent) throw new Error('unreachable');
    const agentPid = await agent.pid();
    const coordinatorPid = await run.coordinator.pid();
    const agentK6Pid = await waitForChild(agentPid, 'k6', 'run');
    const sampler = new Sampler(() => [agentPid, agentK6Pid, coordinatorPid], intervalMs);
    const exits = await run.exited;
    sampler.stop();
    if (exits.some((e) => e.code !== 0)) {
      throw new Error(`distributed run failed:\n${run.coordinator.stderr().slice(-4000)}`);
    }
    const load = await target.stats();
    return {
      settings: { rate, durationS, transport: TRANSPORT },
      k6: profile(k6Sampler.of(k6Pid), k6Load.first, k6Load.last),
      agent: profile(sampler.of(agentPid), load.first, load.last),
      agentK6: profile(sampler.of(agentK6Pid), load.first, load.last),
      coordinator: profile(sampler.of(coordinatorPid), load.first, load.last),
      requests: { k6: k6Load.count, distributed: load.count },
    };
  } finally {
    target.close();
  }
}
