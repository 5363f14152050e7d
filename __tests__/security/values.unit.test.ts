/** Issue 17 items 2, 5 and 11, below the HTTP edge: names, values and charts. */
import { describe, expect, it } from '@jest/globals';

import { builtinMetric } from '../../src/metrics/builtin.js';
import { legacySummaryData } from '../../src/summary/legacy.js';
import { createSink } from '../../src/metrics/sinks.js';
import type { SummarySource } from '../../src/summary/source.js';

describe('issue 17.11: names from a script are never Object.prototype properties', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'issue 17.11: %s is not a built-in metric',
    (name) => {
      expect(builtinMetric(name)).toBeUndefined();
    },
  );

  it('issue 17.11: a metric named __proto__ is a key of the handleSummary() data', () => {
    const sink = createSink('counter');
    sink.add(3, 0);
    const source: SummarySource = {
      durationMs: 1_000,
      metrics: new Map([['__proto__', { type: 'counter', contains: 'default', sink }]]),
      submetrics: new Map(),
      thresholds: new Map(),
      checks: [],
      groups: [],
      parts: [],
      options: { summaryTrendStats: ['avg'], summaryTimeUnit: '', noColor: true },
      state: { isStdOutTTY: false, isStdErrTTY: false },
      setupData: undefined,
    };
    const data = legacySummaryData(source);
    expect(Object.hasOwn(data.metrics, '__proto__')).toBe(true);
    expect(JSON.parse(JSON.stringify(data.metrics))).toEqual(
      JSON.parse(
        '{"__proto__":{"type":"counter","contains":"default","values":{"count":3,"rate":3}}}',
      ),
    );
  });
});
