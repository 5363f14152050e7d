import { createHash } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import {
  type LegacyGroup,
  legacyId,
  legacySummaryData,
  summaryExport,
} from '../../src/summary/legacy.js';
import { stringifyLikeK6 } from '../../src/summary/json.js';
import type { SummarySource } from '../../src/summary/source.js';
import { captureNames, loadCapture, sourceOf } from './captures.js';
import { FakeSink } from './fake-sink.js';

/** `value` with its objects' keys in the order `like` has them. */
function inOrderOf(value: unknown, like: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => inOrderOf(v, Array.isArray(like) ? like[i] : undefined));
  }
  if (value === null || typeof value !== 'object') return value;
  const v = value as Record<string, unknown>;
  const l = (like !== null && typeof like === 'object' ? like : {}) as Record<string, unknown>;
  const keys = [
    ...Object.keys(l).filter((k) => k in v),
    ...Object.keys(v).filter((k) => !(k in l)),
  ];
  return Object.fromEntries(keys.map((k) => [k, inOrderOf(v[k], l[k])]));
}

/** JSON with every object's keys sorted: k6 lists Go map keys in no fixed order. */
function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value), null, 4);
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

function* walk(group: LegacyGroup): Generator<LegacyGroup> {
  yield group;
  for (const child of group.groups) yield* walk(child);
}

describe('legacySummaryData and summaryExport on captured k6 v2.2.0 runs', () => {
  const names = captureNames();

  it.each(names)('%s: handleSummary() data equals what k6 passed', (name) => {
    const capture = loadCapture(name);
    const data = legacySummaryData(sourceOf(capture));
    expect(data).toEqual(capture.data);
    // Same groups and checks in the same order (toEqual compares arrays in order).
    expect(data.root_group).toEqual(capture.data.root_group);
  });

  it.each(names)('%s: --summary-export equals the file k6 wrote', (name) => {
    const capture = loadCapture(name);
    const exported = summaryExport(legacySummaryData(sourceOf(capture)));
    const k6 = JSON.parse(capture.summaryExport) as unknown;
    expect(JSON.parse(exported)).toEqual(k6);
    expect(canonical(JSON.parse(exported))).toBe(canonical(k6));
    // k6 lists Go map keys in no fixed order, and its runtime's indentation
    // depends on that order: in k6's order, ours is byte for byte k6's file.
    expect(exported).toBe(stringifyLikeK6(JSON.parse(exported), '    '));
    expect(stringifyLikeK6(inOrderOf(JSON.parse(exported), k6), '    ')).toBe(
      capture.summaryExport,
    );
  });

  it('gives every group and check the MD5 of its path as id, as k6 does', () => {
    const data = legacySummaryData(sourceOf(loadCapture('scenarios-full')));
    const groups = [...walk(data.root_group)];
    expect(groups.map((g) => g.path)).toEqual([
      '',
      '::setup',
      '::setup::warm up',
      '::home',
      '::home::menu',
      '::checkout',
      '::v1',
    ]);
    for (const group of groups) {
      expect(group.id).toBe(md5(group.path));
      for (const check of group.checks) {
        expect(check.path).toBe(`${group.path}::${check.name}`);
        expect(check.id).toBe(md5(check.path));
      }
    }
    expect(legacyId('')).toBe('d41d8cd98f00b204e9800998ecf8427e');
  });
});

describe('legacySummaryData on hand-built sources', () => {
  const base: SummarySource = {
    durationMs: 2000,
    metrics: new Map([
      [
        'http_req_duration',
        { type: 'trend', contains: 'time', sink: FakeSink.of('trend', { avg: 5, 'p(95)': 9 }) },
      ],
      [
        'successes',
        {
          type: 'rate',
          contains: 'default',
          sink: FakeSink.of('rate', { rate: 0.5, passes: 1, fails: 1 }),
        },
      ],
    ]),
    submetrics: new Map(),
    thresholds: new Map(),
    checks: [],
    groups: [],
    parts: [],
    options: { summaryTrendStats: ['avg', 'p(95)'], summaryTimeUnit: 'ms', noColor: false },
    state: { isStdOutTTY: true, isStdErrTTY: false },
  };

  it('merges checks of one group and name across scenarios, and builds ancestors of a group', () => {
    const data = legacySummaryData({
      ...base,
      groups: ['::b::c', '::a'],
      checks: [
        { name: 'x', group: '::a', scenario: 's1', passes: 2, fails: 1 },
        { name: 'y', group: '', scenario: 's1', passes: 1, fails: 0 },
        { name: 'x', group: '::a', scenario: 's2', passes: 3, fails: 0 },
      ],
    });
    expect(data.root_group.groups.map((g) => g.path)).toEqual(['::b', '::a']);
    expect(data.root_group.groups[0]?.groups.map((g) => g.path)).toEqual(['::b::c']);
    expect(data.root_group.checks).toEqual([
      { name: 'y', path: '::y', id: md5('::y'), passes: 1, fails: 0 },
    ]);
    expect(data.root_group.groups[1]?.checks).toEqual([
      { name: 'x', path: '::a::x', id: md5('::a::x'), passes: 5, fails: 1 },
    ]);
  });

  it('shows a threshold submetric without samples with zero values, and keeps setup data', () => {
    const data = legacySummaryData({
      ...base,
      thresholds: new Map([
        ['http_req_duration{status:500}', [{ source: 'p(95)<1', ok: true }]],
        ['successes', [{ source: 'rate>0.9', ok: false }]],
      ]),
      setupData: { token: 'abc' },
    });
    expect(data.metrics['http_req_duration{status:500}']).toEqual({
      type: 'trend',
      contains: 'time',
      values: { avg: 0, 'p(95)': 0 },
      thresholds: { 'p(95)<1': { ok: true } },
    });
    expect(data.setup_data).toEqual({ token: 'abc' });
    expect(data.state).toEqual({ isStdOutTTY: true, isStdErrTTY: false, testRunDurationMs: 2000 });
    const exported = JSON.parse(summaryExport(data)) as {
      metrics: Record<string, Record<string, unknown>>;
      setup_data: unknown;
    };
    // Failed thresholds are `true` in the export; a rate's `rate` is its `value` there.
    expect(exported.metrics.successes).toEqual({
      passes: 1,
      fails: 1,
      thresholds: { 'rate>0.9': true },
      value: 0.5,
    });
    expect(Object.keys(exported)).toEqual(['root_group', 'metrics', 'setup_data']);
  });

  it('leaves setup_data out when setup() returned nothing', () => {
    const data = legacySummaryData(base);
    expect('setup_data' in data).toBe(false);
    expect(summaryExport(data)).not.toContain('setup_data');
  });
});
