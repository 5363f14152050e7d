/**
 * Coordinator scale: the real coordinator (the CLI bundle, its own process)
 * drives N simulated agents (bench/scale-agents.ts, one other process) that
 * speak protocol v1, hold long-polls and push one realistic delta per second:
 * made as a cloud-transport agent makes it (k6's recorded cloud-output pushes
 * through MetricAggregator.ingestCloud), the JSON-made delta's size beside it.
 * Measured over the steady window (every agent started → the first stops):
 * the coordinator's CPU (% of one core), its peak RSS, and the latency of
 * metric and event requests as the agents see them. Each step runs on both
 * transports in the same round (cloud-made deltas, then the same seconds made
 * from k6's JSON lines), so the coordinator's cost of each is compared on one
 * machine (issue 18: "no worse than today").
 */
import { fork } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CloudIngest } from '../src/agent/cloud-ingest.js';
import type { CloudSeries } from '../src/metrics/cloud-series.js';

import type { BenchContext } from './lib/context.js';
import { startCoordinator } from './lib/distributed.js';
import { launch, readProc, Sampler } from './lib/proc.js';
import { Target } from './lib/target.js';
import { envNumber, log, quantile, spread, type Spread } from './lib/util.js';
import type { SimMessage, SimSettings } from './scale-agents.js';

export type ScaleTransport = 'cloud' | 'json';

export interface ScaleRun {
  round: number;
  agents: number;
  /** The deltas the agents sent (absent from results measured before: cloud). */
  transport?: ScaleTransport;
  /** Launch of the coordinator → every agent started. */
  joinAndStartS: number;
  windowS: number;
  coordinatorCpuPct: number;
  coordinatorPeakRssMB: number;
  simulatorCpuPct: number;
  metricsRequests: number;
  metricsP50Ms: number;
  metricsP99Ms: number;
  /** Over the whole run: events come at phase changes. */
  eventsP99Ms: number;
  /**
   * Size of one agent's delta as sent (cloud transport): the first, with
   * metric definitions, then the others.
   */
  deltaBytes: number[];
  /**
   * The same seconds made from k6's JSON lines (the JSON transport), for
   * comparison; absent from results measured before issue 18.
   */
  jsonDeltaBytes?: number[];
  errors: number;
  exitCode: number | null;
}

export interface ScaleStep {
  agents: number;
  transport?: ScaleTransport;
  coordinatorCpuPct: Spread;
  coordinatorPeakRssMB: Spread;
  metricsP99Ms: Spread;
}

export interface ScaleResult {
  settings: {
    durationS: number;
    steps: number[];
    rounds: number;
    transport?: string;
    transports?: ScaleTransport[];
  };
  runs: ScaleRun[];
  steps: ScaleStep[];
}

/** A realistic script: groups, tagged requests, checks, thresholds on submetrics. */
const SCRIPT = `import http from 'k6/http';
import { check, group } from 'k6';
export const options = {
  scenarios: {
    browse: {
      executor: 'constant-arrival-rate', rate: Number(__ENV.RATE || 200), timeUnit: '1s',
      duration: __ENV.DURATION || '1s', preAllocatedVUs: 20,
    },
  },
  thresholds: {
    http_req_duration: ['p(95)<500', 'p(99)<1000'],
    'http_req_duration{name:home}': ['p(95)<300'],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
  },
};
export default function () {
  group('home', () => {
    const r = http.get(__ENV.TARGET + '/', { tags: { name: 'home' } });
    check(r, { 'home is 200': (x) => x.status === 200 });
  });
  group('api', () => {
    const r = http.get(__ENV.TARGET + '/api', { tags: { name: 'api' } });
    check(r, { 'api is 200': (x) => x.status === 200 });
  });
}
`;

export async function scale(ctx: BenchContext): Promise<ScaleResult> {
  const durationS = envNumber('BENCH_SCALE_S', ctx.quick ? 4 : 30);
  const rounds = envNumber('BENCH_SCALE_ROUNDS', ctx.quick ? 1 : 3);
  const steps = (process.env.BENCH_SCALE_AGENTS ?? (ctx.quick ? '16' : '256,1000'))
    .split(',')
    .map(Number);
  const transports = (process.env.BENCH_SCALE_TRANSPORTS ?? 'cloud,json')
    .split(',')
    .map((t): ScaleTransport => (t === 'json' ? 'json' : 'cloud'));
  const script = await ctx.script('scale.js', SCRIPT);
  const recorded = await recordOneSecond(ctx, script);
  const runs: ScaleRun[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const agents of steps) {
      for (const transport of transports) {
        const step = { agents, durationS, script, transport, ...recorded };
        runs.push({ ...(await scaleStep(ctx, step)), round });
      }
    }
  }
  const of = (agents: number, transport: ScaleTransport, f: (r: ScaleRun) => number) =>
    spread(runs.filter((r) => r.agents === agents && r.transport === transport).map(f));
  return {
    settings: { durationS, steps, rounds, transports },
    runs,
    steps: transports.flatMap((transport) =>
      steps.map((agents) => ({
        agents,
        transport,
        coordinatorCpuPct: of(agents, transport, (r) => r.coordinatorCpuPct),
        coordinatorPeakRssMB: of(agents, transport, (r) => r.coordinatorPeakRssMB),
        metricsP99Ms: of(agents, transport, (r) => r.metricsP99Ms),
      })),
    ),
  };
}

/**
 * One second of one agent's real k6 run of the scale script, both ways an
 * agent gets it: k6's JSON lines, and k6's cloud-output pushes as the
 * agent's CloudIngest decodes them.
 */
async function recordOneSecond(
  ctx: BenchContext,
  script: string,
): Promise<{ samplesFile: string; pushesFile: string }> {
  const samplesFile = join(ctx.workDir, 'scale-samples.json');
  const pushesFile = join(ctx.workDir, 'scale-pushes.json');
  const pushes: CloudSeries[][] = [];
  const ingest = await CloudIngest.start({
    onSeries: (series) => pushes.push(series),
    warn: (m) => log(`  scale: cloud ingest: ${m}`),
  });
  const target = await Target.start();
  try {
    const run = async (out: string, env: NodeJS.ProcessEnv) => {
      const k6 = launch(
        ctx.k6,
        ['run', '--quiet', '--out', out, '-e', `TARGET=${target.url}`, script],
        { env },
      );
      const exit = await k6.exited;
      if (exit.code !== 0) {
        throw new Error(
          `k6 run --out ${out} for the scale samples exited ${String(exit.code)}:\n` +
            k6.stderr().slice(-3000),
        );
      }
    };
    await run(`json=${samplesFile}`, ctx.env);
    await run('cloud', { ...ctx.env, ...ingest.k6Environment() });
    if (!ingest.finished || pushes.length === 0) {
      throw new Error(`k6's cloud output pushed ${String(pushes.length)} times and never finished`);
    }
  } finally {
    target.close();
    await ingest.close();
  }
  await writeFile(pushesFile, JSON.stringify(pushes));
  return { samplesFile, pushesFile };
}

async function scaleStep(
  ctx: BenchContext,
  o: {
    agents: number;
    durationS: number;
    script: string;
    transport: ScaleTransport;
    samplesFile: string;
    pushesFile: string;
  },
): Promise<Omit<ScaleRun, 'round'>> {
  const { agents, durationS, script, transport } = o;
  const launchedAt = Date.now();
  const { coordinator, url, secret } = await startCoordinator(ctx, {
    agents,
    coordinatorFlags: ['--transport', transport],
    k6Args: ['-e', 'TARGET=http://127.0.0.1:9', script],
  });
  const coordinatorPid = await coordinator.pid();
  const sim = fork(fileURLToPath(new URL('./scale-agents.js', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const sampler = new Sampler(() => [coordinatorPid], 500);
  let window:
    { t0: number; c0: number; s0: number; t1?: number; c1?: number; s1?: number } | undefined;
  let allStartedAt = NaN;
  const simCpu = () => readProc(sim.pid ?? -1)?.cpuS ?? NaN;
  const done = new Promise<Extract<SimMessage, { type: 'done' }>>((resolve, reject) => {
    sim.once('exit', (code) => reject(new Error(`simulated agents exited ${String(code)}`)));
    sim.on('message', (m: SimMessage) => {
      if (m.type === 'started') {
        allStartedAt = Date.now();
        log(
          `  scale ${String(agents)} (${transport}): all started after ${((Date.now() - launchedAt) / 1000).toFixed(1)} s`,
        );
        // Skip the first two seconds: every agent's first delta carries the metric definitions.
        setTimeout(() => {
          window = { t0: Date.now(), c0: readProc(coordinatorPid)?.cpuS ?? NaN, s0: simCpu() };
          sim.send({ type: 'measure' });
        }, 2_000);
      } else if (m.type === 'ending' && window) {
        window.t1 = Date.now();
        window.c1 = readProc(coordinatorPid)?.cpuS ?? NaN;
        window.s1 = simCpu();
      } else if (m.type === 'done') resolve(m);
    });
  });
  const settings: SimSettings = {
    url,
    secret,
    agents,
    durationS,
    samplesFile: o.samplesFile,
    pushesFile: o.pushesFile,
    transport,
  };
  sim.send({ type: 'settings', settings });
  const result = await done;
  const joinAndStartS = (allStartedAt - launchedAt) / 1000;
  const exit = await coordinator.exited;
  sampler.stop();
  sim.kill();
  if (!window?.t1) throw new Error('the measurement window never closed');
  const windowS = (window.t1 - window.t0) / 1000;
  const metrics = result.latencies.metrics ?? [];
  return {
    agents,
    transport,
    joinAndStartS,
    windowS,
    coordinatorCpuPct: (((window.c1 ?? NaN) - window.c0) / windowS) * 100,
    coordinatorPeakRssMB: Math.max(...sampler.of(coordinatorPid).map((s) => s.rssMB)),
    simulatorCpuPct: (((window.s1 ?? NaN) - window.s0) / windowS) * 100,
    metricsRequests: metrics.length,
    metricsP50Ms: quantile(metrics, 0.5),
    metricsP99Ms: quantile(metrics, 0.99),
    eventsP99Ms: quantile(result.latencies.events ?? [], 0.99),
    deltaBytes: result.deltaBytes.cloud,
    jsonDeltaBytes: result.deltaBytes.json,
    errors: result.errors,
    exitCode: exit.code,
  };
}
