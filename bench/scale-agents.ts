/**
 * Simulated agents for the coordinator scale benchmark (a child process):
 * protocol v1 at the HTTP level, no k6. Each agent registers from its own
 * loopback address (127.1.x.y, as agents on separate machines would), holds a
 * long-poll at all times, answers every instruction as a real agent would, and
 * from the start instant pushes a realistic metric delta every second: one
 * second of a real k6 run, as a cloud-transport agent gets it (k6's cloud
 * output pushes, decoded by CloudIngest), aggregated by the agent's own
 * MetricAggregator under the plan the coordinator sent. The same second from
 * k6's JSON lines is aggregated too, for its size.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { Pool } from 'undici';

import type { CloudSeries } from '../src/metrics/cloud-series.js';
import { K6JsonOutput } from '../src/k6/json-output.js';
import { MetricAggregator } from '../src/metrics/aggregator.js';
import {
  PollResponse,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  RegisterResponse,
  ROUTES,
  type AgentEvent,
  type MetricsPlan,
} from '../src/protocol/messages.js';
import { PACKAGE_VERSION } from '../src/version.js';

export interface SimSettings {
  url: string;
  secret: string;
  agents: number;
  /** Seconds of metric pushes per agent, from the start instant. */
  durationS: number;
  /** k6 --out json lines of one second of one agent's load. */
  samplesFile: string;
  /** The same second's k6 cloud-output pushes, decoded (CloudSeries[][] as JSON). */
  pushesFile: string;
  /** Which deltas the agents send: made from the pushes (cloud) or from the JSON lines. */
  transport: 'cloud' | 'json';
}

/** One second of one agent's load, both ways an agent gets it. */
interface Recorded {
  lines: string[];
  pushes: CloudSeries[][];
  /** The earliest aggregation bucket in `pushes` (epoch ms). */
  firstBucketMs: number;
  /** The earliest sample time in `lines` (epoch ms). */
  firstLineMs: number;
}

type DeltaPair = [string, string];

/** What the child tells the benchmark. */
export type SimMessage =
  | { type: 'started'; agents: number }
  | { type: 'ending' }
  | {
      type: 'done';
      latencies: Record<string, number[]>;
      errors: number;
      /** First and later delta, as sent (cloud) and as the JSON transport makes them. */
      deltaBytes: { cloud: number[]; json: number[] };
    };

const latencies: Record<string, number[]> = { metrics: [], events: [] };
let measuring = false;
let errors = 0;
let started = 0;
let ending = false;
let deltas: { cloud: DeltaPair; json: DeltaPair } | undefined;

/**
 * One send interval of k6's output (the recorded second, once per second of
 * the plan's interval), aggregated under `plan`: the first delta (with metric
 * definitions), then the rest. Cloud buckets are moved to the seconds after
 * the start instant `atMs`, as a live agent's k6 would have stamped them.
 */
function deltasFor(plan: MetricsPlan, recorded: Recorded, atMs: number) {
  if (deltas) return deltas;
  const seconds = Math.max(1, Math.round(plan.intervalMs / 1000));
  const make = (ingest: (aggregator: MetricAggregator, second: number) => void): DeltaPair => {
    const aggregator = new MetricAggregator(plan, () => undefined);
    const interval = (first: number) => {
      for (let i = 0; i < seconds; i++) ingest(aggregator, first + i);
    };
    interval(0);
    const first = JSON.stringify(aggregator.takeDelta());
    interval(seconds);
    return [first, JSON.stringify(aggregator.takeDelta())];
  };
  const json = make((aggregator, second) => {
    const json = new K6JsonOutput(aggregator);
    const shift = atMs + second * 1000 - recorded.firstLineMs;
    for (const line of recorded.lines) json.ingestLine(shiftedLine(line, shift));
  });
  const cloud = make((aggregator, second) => {
    const shift = atMs + second * 1000 - recorded.firstBucketMs;
    for (const push of recorded.pushes) aggregator.ingestCloud(shifted(push, shift));
  });
  deltas = { cloud, json };
  return deltas;
}

/** A k6 JSON line whose sample time is `ms` later (its metric definitions as they are). */
function shiftedLine(line: string, ms: number): string {
  const parsed = JSON.parse(line) as { type?: string; data?: { time?: string } };
  if (parsed.type !== 'Point' || !parsed.data?.time) return line;
  parsed.data.time = new Date(Date.parse(parsed.data.time) + ms).toISOString();
  return JSON.stringify(parsed);
}

function shifted(push: CloudSeries[], ms: number): CloudSeries[] {
  return push.map((s) => ({
    ...s,
    values: s.values.map((v) => ({ ...v, timeMs: v.timeMs + ms })),
  }));
}

class SimAgent {
  readonly #pool: Pool;
  #token = '';
  #seq = 0;
  #metricSeq = 0;
  #plan: MetricsPlan | undefined;
  #startAtMs = 0;
  #stopPushing = false;

  constructor(
    private readonly index: number,
    private readonly s: SimSettings,
    private readonly recorded: Recorded,
  ) {
    const localAddress = `127.1.${String(Math.floor(index / 250))}.${String((index % 250) + 1)}`;
    this.#pool = new Pool(s.url, { connections: 4, localAddress, headersTimeout: 120_000 });
  }

  async #call(method: 'GET' | 'POST', path: string, body?: string, auth?: string) {
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      const response = await this.#pool.request({
        method,
        path,
        body,
        headers: {
          [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
          authorization: `Bearer ${auth ?? this.#token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
      });
      const text = await response.body.text();
      const ms = performance.now() - t0;
      if (response.statusCode === 200) return { json: JSON.parse(text) as unknown, ms };
      errors++;
      if (attempt >= 5 || (response.statusCode !== 429 && response.statusCode < 500)) {
        throw new Error(`${method} ${path}: ${String(response.statusCode)} ${text}`);
      }
      await sleep(1_000);
    }
  }

  async #event(event: AgentEvent): Promise<void> {
    const { ms } = await this.#call(
      'POST',
      ROUTES.events,
      JSON.stringify({ seq: ++this.#seq, event }),
    );
    latencies.events?.push(ms);
  }

  async run(): Promise<void> {
    const register = await this.#call(
      'POST',
      ROUTES.register,
      JSON.stringify({
        protocol: PROTOCOL_VERSION,
        version: PACKAGE_VERSION,
        key: `sim-agent-key-${String(this.index).padStart(6, '0')}`,
        name: `sim-${String(this.index + 1)}`,
        weight: '1',
        tags: {},
        k6Version: '2.2.0',
      }),
      this.s.secret,
    );
    const { token } = RegisterResponse.parse(register.json);
    this.#token = token;
    let after = 0;
    for (;;) {
      const { json } = await this.#call('GET', `${ROUTES.instruction}?after=${String(after)}`);
      const poll = PollResponse.parse(json);
      if (poll.version === after) continue;
      after = poll.version;
      const done = await this.#handle(poll.instruction);
      if (done) break;
    }
    await this.#pool.close();
  }

  async #handle(instruction: PollResponse['instruction']): Promise<boolean> {
    switch (instruction.type) {
      case 'prepare': {
        this.#plan = instruction.assignment.metrics;
        const archive = await this.#pool.request({
          method: 'GET',
          path: ROUTES.archive,
          headers: {
            [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
            authorization: `Bearer ${this.#token}`,
          },
        });
        await archive.body.arrayBuffer();
        await this.#event({ type: 'ready', vusMax: 20 });
        return false;
      }
      case 'setup':
        await this.#event({ type: 'setup-done', data: { token: 'from-setup' } });
        return false;
      case 'setup-data':
        await this.#event({ type: 'data-set' });
        return false;
      case 'start': {
        this.#startAtMs = instruction.at;
        const wait = instruction.at - Date.now();
        if (wait > 0) await sleep(wait);
        await this.#event({ type: 'started', at: Date.now(), offsetMs: 0, rttMs: 1 });
        if (++started === this.s.agents) process.send?.({ type: 'started', agents: started });
        void this.#push().catch((error: unknown) => {
          errors++;
          process.stderr.write(`sim agent metrics failed: ${String(error)}\n`);
        });
        return false;
      }
      case 'stop':
        await this.#finish();
        return false;
      case 'teardown':
        await this.#event({ type: 'teardown-done' });
        return false;
      case 'release':
        await this.#finish();
        await this.#event({
          type: 'k6-exited',
          exit: { code: 0, signal: null, description: 'exit code 0' },
          expected: true,
        });
        return true;
      case 'wait':
        return false;
    }
  }

  /** One delta per the plan's interval for durationS, then the final one and `finished`. */
  async #push(): Promise<void> {
    const plan = this.#plan;
    if (!plan) throw new Error('start before prepare');
    const [first, rest] = deltasFor(plan, this.recorded, this.#startAtMs)[this.s.transport];
    const end = Date.now() + this.s.durationS * 1000;
    let next = Date.now() + plan.intervalMs;
    while (!this.#stopPushing && Date.now() < end) {
      await sleep(Math.max(0, next - Date.now()));
      next += plan.intervalMs;
      const delta = this.#metricSeq === 0 ? first : rest;
      const { ms } = await this.#call(
        'POST',
        ROUTES.metrics,
        `{"seq":${String(++this.#metricSeq)},"final":false,"delta":${delta}}`,
      );
      if (measuring) latencies.metrics?.push(ms);
    }
    if (!ending) {
      ending = true;
      measuring = false;
      process.send?.({ type: 'ending' });
    }
    await this.#finish();
  }

  #finished = false;
  async #finish(): Promise<void> {
    this.#stopPushing = true;
    if (this.#finished) return;
    this.#finished = true;
    const empty = '{"metrics":[],"groups":[],"series":[]}';
    await this.#call(
      'POST',
      ROUTES.metrics,
      `{"seq":${String(++this.#metricSeq)},"final":true,"delta":${empty}}`,
    );
    await this.#event({ type: 'finished', status: 9, aborted: false });
  }
}

async function main(s: SimSettings): Promise<void> {
  const lines = readFileSync(s.samplesFile, 'utf8').split('\n').filter(Boolean);
  const pushes = JSON.parse(readFileSync(s.pushesFile, 'utf8')) as CloudSeries[][];
  const times = pushes.flatMap((p) => p.flatMap((series) => series.values.map((v) => v.timeMs)));
  const lineTimes = lines.flatMap((line) => {
    const parsed = JSON.parse(line) as { type?: string; data?: { time?: string } };
    return parsed.type === 'Point' && parsed.data?.time ? [Date.parse(parsed.data.time)] : [];
  });
  const recorded: Recorded = {
    lines,
    pushes,
    firstBucketMs: Math.min(...times),
    firstLineMs: Math.min(...lineTimes),
  };
  const agents = Array.from({ length: s.agents }, (_, i) => new SimAgent(i, s, recorded));
  const runs = agents.map((a) =>
    a.run().catch((error: unknown) => {
      errors++;
      process.stderr.write(`sim agent failed: ${String(error)}\n`);
    }),
  );
  await Promise.all(runs);
  const size = (pair: DeltaPair | undefined) => (pair ?? []).map((d) => Buffer.byteLength(d));
  const deltaBytes = { cloud: size(deltas?.cloud), json: size(deltas?.json) };
  process.send?.({ type: 'done', latencies, errors, deltaBytes } satisfies SimMessage);
}

process.on('message', (m: { type: 'settings'; settings: SimSettings } | { type: 'measure' }) => {
  if (m.type === 'measure') measuring = true;
  else
    void main(m.settings).catch((error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    });
});
