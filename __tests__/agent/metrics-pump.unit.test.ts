import { describe, expect, it } from '@jest/globals';

import { MetricsPump } from '../../src/agent/metrics-pump.js';
import { MetricAggregator } from '../../src/metrics/aggregator.js';
import type { MetricsPlan, DeltaMessage } from '../../src/protocol/messages.js';
import { onCleanup } from '../helpers/cleanup.js';

const PLAN: MetricsPlan = {
  intervalMs: 3_600_000,
  submetrics: [],
  parts: false,
  transport: 'cloud',
};

describe('MetricsPump', () => {
  it('issue 18.2: a cloud push nudges its delta out at once, not at the next interval (an hour here)', async () => {
    const aggregator = new MetricAggregator(PLAN, () => undefined);
    const sent: DeltaMessage[] = [];
    let delivered: () => void = () => undefined;
    const firstDelta = new Promise<void>((resolve) => (delivered = resolve));
    const pump = new MetricsPump({
      aggregator,
      intervalMs: PLAN.intervalMs,
      send: (report) => {
        sent.push(report);
        delivered();
        return Promise.resolve();
      },
      onError: (error) => {
        throw error;
      },
    });
    onCleanup(() => pump.stop());
    pump.start();

    aggregator.ingestCloud([
      {
        metric: 'http_reqs',
        type: 'counter',
        tags: {},
        values: [{ type: 'counter', timeMs: Date.now(), value: 3 }],
      },
    ]);
    pump.nudge();
    await firstDelta;

    expect(sent).toHaveLength(1);
    expect(sent[0]?.delta.series).toContainEqual({
      kind: 'total',
      metric: 'http_reqs',
      sink: { t: 'counter', sum: 3 },
    });
    expect(sent[0]?.delta.timeline?.map((c) => c.requests)).toEqual([3]);
  });
});
