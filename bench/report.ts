/** Renders benchmark results as the generated block of BENCHMARKS.md. */
import type { AbortResult } from './abort.js';
import type { HistogramResult } from './histogram.js';
import type { Machine } from './lib/machine.js';
import { fmt, fmtSpread, type Spread } from './lib/util.js';
import type { LongRunResult, ProcessProfile } from './longrun.js';
import type { OverheadResult } from './overhead.js';
import type { ScaleResult } from './scale.js';
import type { SkewResult } from './skew.js';

/** Where and when one benchmark was last measured. */
export interface Measured {
  date: string;
  commit: string;
}

/**
 * bench/results/latest.json: the latest result of every benchmark. Rerunning
 * some benchmarks replaces theirs and keeps the others.
 */
export interface BenchResults {
  date: string;
  quick: boolean;
  machine: Machine;
  measured: Partial<Record<BenchName, Measured>>;
  overhead?: OverheadResult;
  longrun?: LongRunResult;
  skew?: SkewResult;
  histogram?: HistogramResult;
  scale?: ScaleResult;
  abort?: AbortResult;
}

export const BENCH_NAMES = ['overhead', 'longrun', 'skew', 'histogram', 'scale', 'abort'] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

export const BLOCK_START = '<!-- distributed:start -->';
export const BLOCK_END = '<!-- distributed:end -->';

/** The targets of issue #7, each checked against the median (or the worst where it says so). */
export const TARGETS = {
  overheadRatio: 0.95,
  skewLoopbackMs: 10,
  skewProxyMs: 20,
  coordinatorCpuPct: 10,
  coordinatorRssMB: 256,
  abortReactionMs: 3_000,
  /** Agent memory "flat": its RSS ceiling rose by at most this much from the middle to the last third. */
  flatPeakGrowthMB: 5,
} as const;

const verdict = (ok: boolean) => (ok ? '✅ met' : '❌ missed');

function row(cells: (string | number)[]): string {
  return `| ${cells.map(String).join(' | ')} |`;
}

function table(header: string[], rows: (string | number)[][]): string {
  return [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');
}

function summaryRows(r: BenchResults): string[][] {
  const rows: string[][] = [];
  const o = r.overhead;
  if (o) {
    const m = o.ratio.distributed.median;
    rows.push([
      'Agent overhead: request rate, 1 agent (`--transport cloud`) ÷ plain `k6 run`',
      `≥ ${String(TARGETS.overheadRatio)}`,
      fmtSpread(o.ratio.distributed, 3),
      verdict(m >= TARGETS.overheadRatio),
    ]);
    rows.push([
      '… with `--transport json` (every sample as a JSON line)',
      'context',
      fmtSpread(o.ratio.distributedJson, 3),
      '',
    ]);
  }
  const l = r.longrun;
  if (l) {
    const worst = Math.max(l.agent.peakGrowthMB, l.agentK6.peakGrowthMB);
    rows.push([
      `Memory over ${String(l.settings.durationS)} s at ${String(l.settings.rate)} req/s: RSS ceiling growth, last ⅓ vs middle ⅓ (agent / its k6 / plain k6)`,
      `flat (≤ ${String(TARGETS.flatPeakGrowthMB)} MB)`,
      `${fmt(l.agent.peakGrowthMB, 1)} / ${fmt(l.agentK6.peakGrowthMB, 1)} / ${fmt(l.k6.peakGrowthMB, 1)} MB`,
      verdict(worst <= TARGETS.flatPeakGrowthMB),
    ]);
  }
  const s = r.skew;
  if (s) {
    rows.push([
      `Start skew, ${String(s.settings.agents)} agents, loopback (max over rounds)`,
      `≤ ${String(TARGETS.skewLoopbackMs)} ms`,
      `${fmtSpread(s.skewMs.loopback, 1)} ms (k6 alone: ${fmtSpread(s.skewMs['k6-only'], 1)} ms)`,
      verdict(s.skewMs.loopback.max <= TARGETS.skewLoopbackMs),
    ]);
    rows.push([
      `Start skew, ${String(s.settings.agents)} agents, 100 ms RTT proxy (max over rounds)`,
      `≤ ${String(TARGETS.skewProxyMs)} ms`,
      `${fmtSpread(s.skewMs.proxy, 1)} ms`,
      verdict(s.skewMs.proxy.max <= TARGETS.skewProxyMs),
    ]);
  }
  const h = r.histogram;
  if (h) {
    const worst = Math.max(...h.worstRelativeError.map((e) => e.error));
    rows.push([
      'Histogram: worst relative error, p(50)–p(99.99)',
      `≤ ${fmt(h.bound * 100, 2)} % (design bound)`,
      `${fmt(worst * 100, 3)} %`,
      verdict(worst <= h.bound),
    ]);
  }
  const scaleSteps = r.scale?.steps ?? [];
  const onCloud = scaleSteps.filter((step) => (step.transport ?? 'cloud') === 'cloud');
  for (const step of onCloud) {
    const cpu = step.coordinatorCpuPct.median;
    const rss = step.coordinatorPeakRssMB.max;
    rows.push([
      `Coordinator with ${String(step.agents)} agents: CPU (median), peak RSS (max)`,
      `≤ ${String(TARGETS.coordinatorCpuPct)} % of a core, ≤ ${String(TARGETS.coordinatorRssMB)} MB`,
      `${fmtSpread(step.coordinatorCpuPct, 1)} %, ${fmt(rss, 0)} MB`,
      step.agents <= 256
        ? verdict(cpu <= TARGETS.coordinatorCpuPct && rss <= TARGETS.coordinatorRssMB)
        : 'beyond the target',
    ]);
    const json = scaleSteps.find((j) => j.transport === 'json' && j.agents === step.agents);
    if (json) {
      const jsonCpu = json.coordinatorCpuPct.median;
      const jsonRss = json.coordinatorPeakRssMB.max;
      rows.push([
        `Coordinator with ${String(step.agents)} agents: cloud-made ÷ JSON-made deltas (same run), CPU, peak RSS`,
        '≤ 1 (no worse than the JSON transport)',
        `${fmt(cpu / jsonCpu, 2)} (${fmt(cpu, 1)} / ${fmt(jsonCpu, 1)} %), ${fmt(rss / jsonRss, 2)} (${fmt(rss, 0)} / ${fmt(jsonRss, 0)} MB)`,
        verdict(cpu <= jsonCpu && rss <= jsonRss),
      ]);
    }
  }
  const a = r.abort;
  if (a) {
    rows.push([
      `abortOnFail reaction, ${String(a.settings.agents)} agents, \`--transport cloud\` (max over rounds)`,
      `≤ ${String(TARGETS.abortReactionMs)} ms`,
      `${fmtSpread(a.loadStoppedMs.distributed)} ms (\`--transport json\`: ` +
        `${fmtSpread(a.loadStoppedMs['distributed-json'])} ms; plain k6: ${fmtSpread(a.loadStoppedMs.k6)} ms)`,
      verdict(a.loadStoppedMs.distributed.max <= TARGETS.abortReactionMs),
    ]);
  }
  return rows;
}

const spreadCell = (s: Spread, digits = 0) => fmtSpread(s, digits);

function overheadSection(o: OverheadResult): string {
  const { vus, durationS, rounds } = o.settings;
  const side = (name: string, key: keyof OverheadResult['rate']) => [
    name,
    spreadCell(o.rate[key]),
    spreadCell(o.cpuPer1k[key], 3),
  ];
  return [
    `### 1. Agent overhead (${String(vus)} VUs, ${String(durationS)} s, ${String(rounds)} rounds)`,
    '',
    table(
      ['Side', 'Requests/s', 'CPU s per 1,000 requests (whole process tree)'],
      [
        side('plain `k6 run`', 'k6'),
        side('`k6 run --out json=FILE`', 'k6-json'),
        side('`k6-distributed run --agents 1 --transport cloud`', 'distributed'),
        side('`k6-distributed run --agents 1 --transport json` (context)', 'distributed-json'),
        side("`GOGC=400 k6 run`: the agent k6's garbage collection (context)", 'k6-gogc'),
      ],
    ),
    '',
    table(
      ['Ratio of request rates (same round)', 'min / **median** / max'],
      [
        ['distributed, cloud transport ÷ plain k6', spreadCell(o.ratio.distributed, 3)],
        ['distributed, JSON transport ÷ plain k6', spreadCell(o.ratio.distributedJson, 3)],
        ['`--out json` ÷ plain k6', spreadCell(o.ratio.json, 3)],
        ['cloud transport ÷ JSON transport', spreadCell(o.ratio.cloudVsJsonTransport, 3)],
        ['`GOGC=400 k6 run` ÷ plain k6', spreadCell(o.ratio.k6Gogc, 3)],
        [
          'distributed, cloud transport ÷ `GOGC=400 k6 run`',
          spreadCell(o.ratio.distributedVsK6Gogc, 3),
        ],
      ],
    ),
  ].join('\n');
}

function profileRow(name: string, p: ProcessProfile): string[] {
  return [
    name,
    fmt(p.rssEarlyMB, 1),
    fmt(p.rssEndMB, 1),
    fmt(p.rssPeakMB, 1),
    fmt(p.growthMBPerMin, 2),
    fmt(p.peakGrowthMB, 1),
    fmt(p.cpuPct, 1),
  ];
}

function longRunSection(l: LongRunResult): string {
  return [
    `### 2. CPU and memory over a long run (${String(l.settings.rate)} req/s for ${String(l.settings.durationS)} s)`,
    '',
    table(
      [
        'Process',
        'RSS at 20 % (MB)',
        'RSS at end (MB)',
        'Peak (MB)',
        'Slope from 20 % (MB/min)',
        'Ceiling growth (MB)',
        'CPU (% of a core)',
      ],
      [
        profileRow('plain `k6 run`', l.k6),
        profileRow(`agent (Node.js, \`--transport ${l.settings.transport ?? 'json'}\`)`, l.agent),
        profileRow("agent's k6 (summary off)", l.agentK6),
        profileRow('coordinator (Node.js)', l.coordinator),
      ],
    ),
    '',
    `Requests: plain k6 ${String(l.requests.k6)}, distributed ${String(l.requests.distributed)}.`,
  ].join('\n');
}

function skewSection(s: SkewResult): string {
  return [
    `### 3. Start skew (${String(s.settings.agents)} agents, ${String(s.settings.rounds)} rounds per mode)`,
    '',
    table(
      ['Agents reach the coordinator', 'Skew (ms): min / **median** / max'],
      [
        ['directly (loopback)', spreadCell(s.skewMs.loopback, 1)],
        [
          `through the fault proxy (${String(s.settings.proxyRttMs)} ms RTT ± ${String(s.settings.proxyJitterMs * 2)} ms)`,
          spreadCell(s.skewMs.proxy, 1),
        ],
        [
          'no agents: the same paused k6 processes unpaused at once by one process (floor)',
          spreadCell(s.skewMs['k6-only'], 1),
        ],
      ],
    ),
  ].join('\n');
}

function histogramSection(h: HistogramResult): string {
  return [
    `### 4. Histogram (${String(h.settings.samples)} samples, ${String(h.settings.repetitions)} repetitions)`,
    '',
    table(
      ['Operation', 'Histogram', "k6's slice of every sample"],
      [
        [
          'ns per sample recorded',
          spreadCell(h.insertNs.histogram, 1),
          spreadCell(h.insertNs.k6Slice, 1),
        ],
        [
          'ms to read p(95) after all samples',
          spreadCell(h.percentileMs.histogram, 3),
          spreadCell(h.percentileMs.k6Sort, 1),
        ],
      ],
    ),
    '',
    table(
      [
        `Merging ${String(h.settings.deltas)} deltas of ${String(h.settings.samplesPerDelta)} samples`,
        'ms',
      ],
      [
        ['merge only', spreadCell(h.mergeMs.mergeOnly, 2)],
        [
          'JSON.parse + schema validation + merge (what the coordinator does)',
          spreadCell(h.mergeMs.parseValidateMerge, 2),
        ],
      ],
    ),
    '',
    table(
      [
        'Samples in one delta',
        'Histogram on the wire (bytes)',
        'The samples as a JSON array (bytes)',
      ],
      h.bytesPerDelta.map((b) => [b.samples, b.histogramBytes, b.rawJsonBytes]),
    ),
    '',
    table(
      ['Percentile', 'Worst relative error', 'Distribution'],
      h.worstRelativeError.map((e) => [
        `p(${String(e.percentile)})`,
        `${fmt(e.error * 100, 4)} %`,
        e.distribution,
      ]),
    ),
  ].join('\n');
}

function scaleSection(s: ScaleResult): string {
  return [
    `### 5. Coordinator scale (${String(s.settings.durationS)} s of deltas per agent, ${String(s.settings.rounds)} rounds)`,
    '',
    table(
      [
        'Agents',
        'Deltas',
        'Round',
        'Join + start (s)',
        'Coordinator CPU (% of a core)',
        'Coordinator peak RSS (MB)',
        'Metric POST p50 / p99 (ms)',
        'Event POST p99 (ms)',
        'Delta size, bytes first / later: cloud (JSON-made)',
        'Simulator CPU (%)',
        'Errors',
      ],
      s.runs.map((r) => [
        r.agents,
        r.transport ?? 'cloud',
        r.round + 1,
        fmt(r.joinAndStartS, 1),
        fmt(r.coordinatorCpuPct, 1),
        fmt(r.coordinatorPeakRssMB, 0),
        `${fmt(r.metricsP50Ms, 1)} / ${fmt(r.metricsP99Ms, 1)}`,
        fmt(r.eventsP99Ms, 1),
        `${r.deltaBytes.join(' / ')} (${(r.jsonDeltaBytes ?? []).join(' / ')})`,
        fmt(r.simulatorCpuPct, 0),
        r.errors,
      ]),
    ),
  ].join('\n');
}

function abortSection(a: AbortResult): string {
  const agents = `\`k6-distributed run --agents ${String(a.settings.agents)}`;
  const side = (name: string, key: keyof AbortResult['loadStoppedMs']) => [
    name,
    spreadCell(a.loadStoppedMs[key]),
    spreadCell(a.exitedMs[key]),
  ];
  return [
    `### 6. abortOnFail reaction (${String(a.settings.rate)} req/s, ${String(a.settings.rounds)} rounds)`,
    '',
    table(
      ['Side', 'Crossing → load stopped (ms)', 'Crossing → process exited (ms)'],
      [
        side('plain `k6 run`', 'k6'),
        side(`${agents} --transport cloud\``, 'distributed'),
        side(`${agents} --transport json\``, 'distributed-json'),
      ],
    ),
  ].join('\n');
}

export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const parts = [
    BLOCK_START,
    '',
    `Measured ${r.date.slice(0, 10)} on ${m.cpu} (${String(m.cores)} cores, ${String(m.memoryGiB)} GiB, ` +
      `Linux ${m.kernel}), Node.js ${m.node}, k6 ${m.k6}, commit ${m.commit}` +
      (r.quick ? ' — **quick smoke run, not a measurement**' : '') +
      '. Cells are min / **median** / max over the rounds.',
    '',
    table(['Benchmark', 'Target', 'Result', ''], summaryRows(r)),
  ];
  const when = (name: BenchName) => {
    const m = r.measured[name];
    return m && (m.date.slice(0, 10) !== r.date.slice(0, 10) || m.commit !== r.machine.commit)
      ? `\n\n_Measured ${m.date.slice(0, 10)} at commit ${m.commit}._`
      : '';
  };
  if (r.overhead) parts.push('', overheadSection(r.overhead) + when('overhead'));
  if (r.longrun) parts.push('', longRunSection(r.longrun) + when('longrun'));
  if (r.skew) parts.push('', skewSection(r.skew) + when('skew'));
  if (r.histogram) parts.push('', histogramSection(r.histogram) + when('histogram'));
  if (r.scale) parts.push('', scaleSection(r.scale) + when('scale'));
  if (r.abort) parts.push('', abortSection(r.abort) + when('abort'));
  parts.push('', BLOCK_END, '');
  return parts.join('\n');
}

/** Replaces the generated block of BENCHMARKS.md, leaving the prose around it alone. */
export function replaceBlock(document: string, block: string): string {
  const start = document.indexOf(BLOCK_START);
  const end = document.indexOf(BLOCK_END);
  if (start < 0 || end < start) {
    throw new Error(
      `BENCHMARKS.md has no ${BLOCK_START} … ${BLOCK_END} block: restore the markers`,
    );
  }
  return document.slice(0, start) + block.trimEnd() + document.slice(end + BLOCK_END.length);
}
