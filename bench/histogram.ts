/**
 * The trend histogram (src/metrics/histogram.ts) against what k6 itself does
 * (append every sample to a slice, sort for percentiles), in one process:
 * cost per insert, cost of merging 256 agents' deltas as the coordinator does
 * (JSON parse, schema validation, merge), bytes per delta on the wire, and
 * the worst relative error against k6's exact percentile formula.
 */
import { prng } from '../__tests__/helpers/random.js';
import { Histogram, histogramWireSchema } from '../src/metrics/histogram.js';
import type { BenchContext } from './lib/context.js';
import { envNumber, log, quantileSorted, spread, type Spread } from './lib/util.js';

export interface HistogramResult {
  settings: { samples: number; repetitions: number; deltas: number; samplesPerDelta: number };
  /** ns per sample recorded. */
  insertNs: { histogram: Spread; k6Slice: Spread };
  /** Time to get p(95) once all samples are in. */
  percentileMs: { histogram: Spread; k6Sort: Spread };
  /** Merging 256 one-second deltas as they arrive. */
  mergeMs: { mergeOnly: Spread; parseValidateMerge: Spread };
  bytesPerDelta: { samples: number; histogramBytes: number; rawJsonBytes: number }[];
  /** Worst |estimate − exact| / |exact| per percentile, over every distribution. */
  worstRelativeError: { percentile: number; error: number; distribution: string }[];
  bound: number;
}

/** Latency-like distributions, in ms. */
function distributions(rnd: () => number): Record<string, () => number> {
  const normal = () => {
    const u = 1 - rnd();
    const v = rnd();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return {
    'lognormal (median 20 ms)': () => 20 * Math.exp(0.6 * normal()),
    'exponential (mean 50 ms)': () => -50 * Math.log(1 - rnd()),
    'uniform 1–1000 ms': () => 1 + 999 * rnd(),
    'bimodal (cache hit 2 ms / miss 200 ms)': () =>
      rnd() < 0.9 ? 2 * Math.exp(0.2 * normal()) : 200 * Math.exp(0.3 * normal()),
    'pareto tail (α 1.5, from 5 ms)': () => 5 / Math.pow(1 - rnd(), 1 / 1.5),
  };
}

const PERCENTILES = [50, 90, 95, 99, 99.9, 99.99];

function timeNs(f: () => void): number {
  const start = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - start);
}

export function histogram(ctx: BenchContext): Promise<HistogramResult> {
  const samples = envNumber('BENCH_HIST_SAMPLES', ctx.quick ? 100_000 : 1_000_000);
  const repetitions = envNumber('BENCH_HIST_REPS', ctx.quick ? 2 : 7);
  const deltas = 256;
  const samplesPerDelta = envNumber('BENCH_HIST_DELTA_SAMPLES', 2_000);
  const rnd = prng(7);
  const lognormal = distributions(rnd)['lognormal (median 20 ms)'];
  if (!lognormal) throw new Error('unreachable');
  const values = Float64Array.from({ length: samples }, lognormal);

  // Inserts and percentile, alternating the two sides every repetition; the
  // first repetition warms the JIT up and is discarded.
  const insert = { histogram: [] as number[], k6Slice: [] as number[] };
  const pct = { histogram: [] as number[], k6Sort: [] as number[] };
  for (let r = -1; r < repetitions; r++) {
    const keep = <T>(list: T[], value: T) => {
      if (r >= 0) list.push(value);
    };
    for (const side of r % 2 === 0 ? ['histogram', 'slice'] : ['slice', 'histogram']) {
      if (side === 'histogram') {
        const h = new Histogram();
        keep(insert.histogram, timeNs(() => values.forEach((v) => h.add(v))) / samples);
        keep(pct.histogram, timeNs(() => void h.percentile(0.95)) / 1e6);
      } else {
        // k6's Trend sink appends every sample to a slice and sorts it for a percentile.
        const slice: number[] = [];
        keep(insert.k6Slice, timeNs(() => values.forEach((v) => slice.push(v))) / samples);
        const read = () => void quantileSorted(Float64Array.from(slice).sort(), 0.95);
        keep(pct.k6Sort, timeNs(read) / 1e6);
      }
    }
  }
  log(`  histogram: insert ${spread(insert.histogram).median.toFixed(1)} ns`);

  // 256 agents' one-second deltas, as JSON on the wire.
  const wires = Array.from({ length: deltas }, () => {
    const h = new Histogram();
    for (let i = 0; i < samplesPerDelta; i++) h.add(lognormal());
    return JSON.stringify(h.toWire());
  });
  const parsed = wires.map((w) => histogramWireSchema.parse(JSON.parse(w)));
  const mergeOnly: number[] = [];
  const full: number[] = [];
  for (let r = -1; r < repetitions; r++) {
    const keep = (list: number[], value: number) => {
      if (r >= 0) list.push(value);
    };
    keep(
      mergeOnly,
      timeNs(() => {
        const merged = new Histogram();
        for (const w of parsed) merged.mergeWire(w);
      }) / 1e6,
    );
    keep(
      full,
      timeNs(() => {
        const merged = new Histogram();
        for (const w of wires) merged.mergeWire(histogramWireSchema.parse(JSON.parse(w)));
      }) / 1e6,
    );
  }

  // Bytes per delta, against the raw samples as JSON numbers (k6's --out json carries more).
  const bytesPerDelta = [100, 1_000, 10_000, 100_000].map((n) => {
    const h = new Histogram();
    const raw: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = lognormal();
      h.add(v);
      raw.push(v);
    }
    return {
      samples: n,
      histogramBytes: Buffer.byteLength(JSON.stringify(h.toWire())),
      rawJsonBytes: Buffer.byteLength(JSON.stringify(raw)),
    };
  });

  // Accuracy against k6's formula on the raw samples.
  const worst = new Map<number, { error: number; distribution: string }>();
  for (const [name, draw] of Object.entries(distributions(prng(11)))) {
    const h = new Histogram();
    const raw = new Float64Array(samples);
    for (let i = 0; i < samples; i++) {
      raw[i] = draw();
      h.add(raw[i] ?? NaN);
    }
    raw.sort();
    for (const p of PERCENTILES) {
      const exact = quantileSorted(raw, p / 100);
      const error = Math.abs(h.percentile(p / 100) - exact) / Math.abs(exact);
      if (error >= (worst.get(p)?.error ?? -1)) worst.set(p, { error, distribution: name });
    }
  }
  return Promise.resolve({
    settings: { samples, repetitions, deltas, samplesPerDelta },
    insertNs: { histogram: spread(insert.histogram), k6Slice: spread(insert.k6Slice) },
    percentileMs: { histogram: spread(pct.histogram), k6Sort: spread(pct.k6Sort) },
    mergeMs: { mergeOnly: spread(mergeOnly), parseValidateMerge: spread(full) },
    bytesPerDelta,
    worstRelativeError: PERCENTILES.map((percentile) => ({
      percentile,
      ...(worst.get(percentile) ?? { error: NaN, distribution: '' }),
    })),
    bound: 1 / 256,
  });
}
