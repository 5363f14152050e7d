/**
 * Issue 18: the agent's loopback ingest for k6's cloud output, over real
 * HTTP. Pushes here are encoded from our own schema (cloud-wire.ts); the
 * real k6 pushes in __tests__/engine/cloud-transport.int.test.ts.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { PbfWriter } from 'pbf';
import snappy from 'snappyjs';

import { CloudIngest } from '../../src/agent/cloud-ingest.js';
import { MetricAggregator } from '../../src/metrics/aggregator.js';
import { k6HdrIndex } from '../../src/metrics/k6-hdr.js';
import { MetricStore } from '../../src/metrics/store.js';
import type { MetricsPlan } from '../../src/protocol/messages.js';

const PLAN: MetricsPlan = {
  intervalMs: 1000,
  parts: true,
  transport: 'cloud',
  submetrics: [
    { key: 'http_req_duration{status:500}', metric: 'http_req_duration', tags: { status: '500' } },
  ],
  metrics: [{ name: 'work', type: 'trend', contains: 'time' }],
};

type Series =
  | { type: 'counter'; tags: Record<string, string>; value: number }
  | { type: 'rate'; tags: Record<string, string>; nonzero: number; total: number }
  | { type: 'gauge'; tags: Record<string, string>; last: number; min: number; max: number }
  | { type: 'trend'; tags: Record<string, string>; samples: number[] };

const TYPE = { counter: 1, gauge: 2, rate: 3, trend: 4 } as const;
const FIELD = { counter: 2, gauge: 3, rate: 4, trend: 5 } as const;

/** A MetricSet as k6 v2.2.0 pushes it (field numbers of cloud-wire.ts), snappy block compressed. */
function push(metrics: Record<string, Series[]>, timeS = 1_700_000_000): Uint8Array {
  const w = new PbfWriter();
  w.writeStringField(1, '1');
  w.writeVarintField(2, 1);
  for (const [name, series] of Object.entries(metrics)) {
    const first = series[0];
    if (!first) continue;
    w.writeMessage(
      3,
      (_: unknown, m: PbfWriter) => {
        m.writeStringField(1, name);
        m.writeVarintField(2, TYPE[first.type]);
        for (const s of series) m.writeMessage(3, () => writeSeries(m, s, timeS), null);
      },
      null,
    );
  }
  return snappy.compress(w.finish());
}

function writeSeries(w: PbfWriter, s: Series, timeS: number): void {
  for (const [name, value] of Object.entries(s.tags)) {
    w.writeMessage(
      1,
      () => {
        w.writeStringField(1, name);
        w.writeStringField(2, value);
      },
      null,
    );
  }
  w.writeMessage(
    FIELD[s.type],
    () =>
      w.writeMessage(
        1,
        () => {
          w.writeMessage(1, () => w.writeVarintField(1, timeS), null);
          writeValue(w, s);
        },
        null,
      ),
    null,
  );
}

function writeValue(w: PbfWriter, s: Series): void {
  if (s.type === 'counter') w.writeDoubleField(2, s.value);
  else if (s.type === 'rate') {
    w.writeVarintField(2, s.nonzero);
    w.writeVarintField(3, s.total);
  } else if (s.type === 'gauge') {
    w.writeDoubleField(2, s.last);
    w.writeVarintField(3, 3);
    w.writeDoubleField(4, s.min);
    w.writeDoubleField(5, s.max);
  } else {
    const counts = new Map<number, number>();
    for (const v of s.samples) {
      const i = k6HdrIndex(v) as number;
      counts.set(i, (counts.get(i) ?? 0) + 1);
    }
    const indexes = [...counts.keys()].sort((a, b) => a - b);
    w.writePackedVarint(
      2,
      indexes.map((i) => counts.get(i) ?? 0),
    );
    let previous = -1;
    for (const i of indexes) {
      const offset = previous < 0 ? i : i - previous - 1;
      w.writeMessage(
        3,
        () => {
          w.writeVarintField(1, offset);
          w.writeVarintField(2, 1);
        },
        null,
      );
      previous = i;
    }
    w.writeDoubleField(
      5,
      s.samples.reduce((a, b) => a + b, 0),
    );
    w.writeVarintField(6, s.samples.length);
    w.writeDoubleField(7, Math.min(...s.samples));
    w.writeDoubleField(8, Math.max(...s.samples));
    w.writeDoubleField(11, 0.001);
  }
}

let ingest: CloudIngest | undefined;
afterEach(async () => {
  await ingest?.close();
  ingest = undefined;
});

async function started(aggregator = new MetricAggregator(PLAN, () => undefined)) {
  const warnings: string[] = [];
  ingest = await CloudIngest.start({
    onSeries: (s) => aggregator.ingestCloud(s),
    warn: (m) => warnings.push(m),
    maxBodyBytes: 64 * 1024,
  });
  return { ingest, aggregator, warnings };
}

function post(
  target: CloudIngest,
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string> = {},
) {
  return fetch(`${target.url}${path}`, {
    method: 'POST',
    body,
    headers: { authorization: `Token ${target.k6Environment().K6_CLOUD_TOKEN}`, ...headers },
  });
}

const API = { scenario: 'main', group: '::api', status: '500', name: 'x', method: 'GET' };

describe('issue 18: the loopback ingest of k6 cloud output', () => {
  it('issue 18: answers the test creation with the agent settings and a run id', async () => {
    const { ingest } = await started();
    const res = await post(ingest, '/v1/tests', JSON.stringify({ name: 'x', vus: 1 }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      reference_id: '1',
      config: expect.objectContaining({
        aggregationPeriod: '1s',
        aggregationWaitPeriod: '1s',
        metricPushInterval: '100ms',
        tracesEnabled: false,
      }) as unknown,
    });
    expect(ingest.k6Environment()).toMatchObject({
      K6_CLOUD_HOST: ingest.url,
      K6_NO_ARCHIVE_UPLOAD: 'true',
      K6_CLOUD_TRACES_ENABLED: 'false',
    });
    expect(ingest.finished).toBe(false);
    expect((await post(ingest, '/v1/tests/1', '{}')).status).toBe(200);
    expect(ingest.finished).toBe(true);
  });

  it('issue 18: a push becomes total, submetric, part and check series the coordinator accepts', async () => {
    const { ingest, aggregator } = await started();
    const body = push({
      http_reqs: [{ type: 'counter', tags: API, value: 3 }],
      checks: [{ type: 'rate', tags: { ...API, check: 'ok' }, nonzero: 2, total: 3 }],
      work: [{ type: 'trend', tags: API, samples: [1.5, 20, 300] }],
      http_req_duration: [{ type: 'trend', tags: API, samples: [10, 11, 12] }],
      level: [{ type: 'gauge', tags: API, last: 4, min: 2, max: 9 }],
    });
    expect((await post(ingest, '/v2/metrics/1', body)).status).toBe(200);
    // The same bucket pushed again later (late samples): it adds.
    expect((await post(ingest, '/v2/metrics/1', body)).status).toBe(200);
    const store = new MetricStore({ submetrics: PLAN.submetrics, metrics: PLAN.metrics });
    store.apply('a', aggregator.takeDelta());

    expect(store.sink('http_reqs')?.thresholdInput()).toMatchObject({ count: 6 });
    expect(store.sink('checks')?.values(1000, [])).toMatchObject({ passes: 4, fails: 2 });
    expect(store.sink('work')?.values(1000, ['count', 'min', 'max'])).toEqual({
      count: 6,
      min: 1.5,
      max: 300,
    });
    expect(store.sink('http_req_duration{status:500}')?.values(1000, ['count'])).toEqual({
      count: 6,
    });
    expect(store.sink('level')?.values(1000, [])).toEqual({ value: 4, min: 2, max: 9 });
    expect(aggregator.samples).toBe(2 * (1 + 3 + 3 + 3 + 3));
  });

  it('issue 18: a retried push (same idempotency key) counts once', async () => {
    const { ingest, aggregator } = await started();
    const body = push({ iterations: [{ type: 'counter', tags: {}, value: 5 }] });
    const key = { 'k6-idempotency-key': 'abc123' };
    expect((await post(ingest, '/v2/metrics/1', body, key)).status).toBe(200);
    expect((await post(ingest, '/v2/metrics/1', body, key)).status).toBe(200);
    const store = new MetricStore({ submetrics: [] });
    store.apply('a', aggregator.takeDelta());
    expect(store.sink('iterations')?.thresholdInput()).toMatchObject({ count: 5 });
    expect(ingest.stats).toEqual({ pushes: 1, refused: 0 });
  });

  it('issue 18: refuses other tokens, undecodable and oversized pushes; warns once', async () => {
    const { ingest, aggregator, warnings } = await started();
    const body = push({ iterations: [{ type: 'counter', tags: {}, value: 5 }] });
    const other = await fetch(`${ingest.url}/v2/metrics/1`, {
      method: 'POST',
      body,
      headers: { authorization: 'Token someone-else' },
    });
    expect(other.status).toBe(401);
    expect((await post(ingest, '/v2/metrics/1', 'not snappy')).status).toBe(400);
    expect((await post(ingest, '/v2/metrics/1', 'still not snappy')).status).toBe(400);
    await expect(post(ingest, '/v2/metrics/1', new Uint8Array(65 * 1024))).rejects.toThrow();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/could not read a metric push .*--transport json/);
    expect(aggregator.idle).toBe(true);
  });

  it("issue 18: the agent's own vus ticks carry their definition before k6 pushed any", () => {
    const aggregator = new MetricAggregator(PLAN, () => undefined);
    aggregator.addTick('vus', 1000, 3);
    const store = new MetricStore({ submetrics: [] });
    expect(() => store.apply('a', aggregator.takeDelta())).not.toThrow();
  });
});
