/**
 * Agent overhead: the highest request rate one k6 reaches against a fast
 * loopback target, run three ways side by side in the same rounds:
 *   k6           plain `k6 run script.js` (default end-of-test summary)
 *   k6-json      `k6 run --out json=FILE script.js` (what users do to merge by hand)
 *   distributed  `k6-distributed run --agents 1 script.js` (coordinator + 1 agent)
 *   k6-otel      `k6 run --out opentelemetry script.js` into a loopback OTLP sink, with
 *                exponential histograms: context for what aggregating inside k6 would cost
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { BenchContext } from './lib/context.js';
import { launch } from './lib/proc.js';
import { Target } from './lib/target.js';
import { envNumber, log, rotate, spread, type Spread } from './lib/util.js';

export const SIDES = ['k6', 'k6-json', 'distributed', 'k6-otel'] as const;
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
  ratio: { distributed: Spread; json: Spread; distributedVsJson: Spread; otel: Spread };
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
  const otlp = await otlpSink();
  const runs: OverheadRun[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const side of rotate(SIDES, round)) {
        await target.reset();
        const flags = ['-e', `TARGET=${target.url}`, '-e', `VUS=${String(vus)}`];
        flags.push('-e', `DURATION=${String(durationS)}s`);
        const json = join(ctx.workDir, 'overhead.json');
        const [cmd, args] = {
          distributed: [process.execPath, [ctx.cli, 'run', '--agents', '1', ...flags, script]],
          'k6-json': [ctx.k6, ['run', '--out', `json=${json}`, ...flags, script]],
          'k6-otel': [ctx.k6, ['run', '--out', 'opentelemetry', ...flags, script]],
          k6: [ctx.k6, ['run', ...flags, script]],
        }[side] as [string, string[]];
        const env = side === 'k6-otel' ? { ...ctx.env, ...otlp.env } : ctx.env;
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
    otlp.close();
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
      distributedVsJson: ratios('distributed', 'k6-json'),
      otel: ratios('k6-otel', 'k6'),
    },
  };
}

/** An OTLP/HTTP metrics endpoint that accepts and drops everything, for k6's opentelemetry output. */
async function otlpSink() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: {
      K6_OTEL_EXPORTER_PROTOCOL: 'http/protobuf',
      K6_OTEL_HTTP_EXPORTER_INSECURE: 'true',
      K6_OTEL_HTTP_EXPORTER_ENDPOINT: `127.0.0.1:${String(port)}`,
      K6_OTEL_FLUSH_INTERVAL: '1s',
      K6_OTEL_EXPORT_INTERVAL: '1s',
      // Mergeable histograms for trends, as a distributed run would need.
      OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION:
        'base2_exponential_bucket_histogram',
    },
    close: () => void server.close(),
  };
}
