import { describe, expect, it } from '@jest/globals';

import type { TimelinePoint } from '../../src/metrics/timeline.js';
import { downsample, mermaidCharts } from '../../src/report/charts.js';

const point = (t: number, extra: Partial<TimelinePoint> = {}): TimelinePoint => ({
  t,
  rps: 10,
  vus: 1,
  p95: 5,
  errorRate: 0,
  iterations: 10,
  ...extra,
});

describe('downsample', () => {
  it('keeps short series as they are', () => {
    const points = [point(1), point(2)];
    expect(downsample(points, 60)).toEqual(points);
  });

  it('merges runs of neighbours: mean rate, last VUs, summed iterations, highest p(95)', () => {
    const points = [
      point(1, { rps: 10, vus: 1, p95: 5, errorRate: 0, iterations: 10 }),
      point(2, { rps: 30, vus: 2, p95: 50, errorRate: 0.5, iterations: 30 }),
      point(3, { rps: 0, vus: 3, p95: null, errorRate: null, iterations: 0 }),
    ];

    expect(downsample(points, 2)).toEqual([
      { t: 2, rps: 20, vus: 2, p95: 50, errorRate: (0 * 10 + 0.5 * 30) / 40, iterations: 40 },
      { t: 3, rps: 0, vus: 3, p95: null, errorRate: null, iterations: 0 },
    ]);
  });

  it('never returns more than the maximum', () => {
    const points = Array.from({ length: 601 }, (_, i) => point(i + 1));
    const out = downsample(points, 60);
    expect(out.length).toBeLessThanOrEqual(60);
    expect(out.reduce((s, p) => s + p.iterations, 0)).toBe(6010);
    expect(out.at(-1)?.t).toBe(601);
  });
});

describe('mermaidCharts', () => {
  it('draws request rate, p(95) and VUs over time; p(95) only where there were requests (issue 20.9)', () => {
    const lines = mermaidCharts({
      intervalS: 1,
      merged: [
        point(1, { rps: 12.345, p95: 3 }),
        point(2, { rps: 0, p95: null }),
        point(3, { rps: 20, p95: 7.891, vus: 4 }),
      ],
      agents: {},
    });

    expect(lines.join('\n')).toBe(
      [
        '```mermaid',
        'xychart-beta',
        '  title "Requests per second"',
        '  x-axis "seconds" ["1", "2", "3"]',
        '  y-axis "req/s"',
        '  line [12.3, 0, 20]',
        '```',
        '',
        '```mermaid',
        'xychart-beta',
        '  title "http_req_duration p(95), ms"',
        '  x-axis "seconds" ["1", "3"]',
        '  y-axis "ms"',
        '  line [3, 7.89]',
        '```',
        '',
        '```mermaid',
        'xychart-beta',
        '  title "Active VUs"',
        '  x-axis "seconds" ["1", "2", "3"]',
        '  y-axis "VUs"',
        '  bar [1, 1, 4]',
        '```',
      ].join('\n'),
    );
  });

  it('leaves the p(95) chart out when fewer than two intervals had requests', () => {
    const lines = mermaidCharts({
      intervalS: 1,
      merged: [point(1, { p95: null }), point(2, { p95: 4 }), point(3, { p95: null })],
      agents: {},
    }).join('\n');
    expect(lines).toContain('Requests per second');
    expect(lines).toContain('Active VUs');
    expect(lines).not.toContain('p(95)');
  });

  it('draws nothing for fewer than two intervals', () => {
    expect(mermaidCharts(undefined)).toEqual([]);
    expect(mermaidCharts({ intervalS: 1, merged: [point(1)], agents: {} })).toEqual([]);
  });
});
