import { describe, expect, it } from '@jest/globals';

import type { Timeline, TimelinePoint } from '../../src/metrics/timeline.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { svgLineChart } from '../../src/report/svg-chart.js';
import { compareFigures } from '../../src/report/compare.js';
import { fakeAgent, fakeBaseline, fakeRunOutcome, SATURATED_LOAD } from '../helpers/run-outcome.js';
import { loadCapture, sourceOf } from '../summary/captures.js';

const agent = (i: number) =>
  fakeAgent(i, 2, {
    startedAt: Date.parse('2026-12-01T11:58:00Z') + i * 2.5,
    totals: { iterations: 40, httpReqs: 44, httpReqFailures: 1 },
  });

const result = fakeRunOutcome({
  exitCode: 99,
  message: "thresholds on metrics 'http_req_duration' have been crossed",
  agents: [agent(0), agent(1)],
  startSkewMs: 2.5,
});

const point = (i: number, scale: number): TimelinePoint => ({
  t: i + 1,
  rps: (10 + i) * scale,
  vus: 2 * scale,
  p95: i === 2 ? null : 20 + i,
  errorRate: i === 2 ? null : 0.01 * i,
  iterations: 9 * scale,
});

const timeline: Timeline = {
  intervalS: 1,
  merged: Array.from({ length: 6 }, (_, i) => point(i, 2)),
  agents: {
    'id-0': Array.from({ length: 6 }, (_, i) => point(i, 1)),
    'id-1': Array.from({ length: 6 }, (_, i) => point(i, 1)),
  },
};

// A real k6 run's data (basic-compact: thresholds, checks, groups; see fixtures/summary).
const source = sourceOf(loadCapture('basic-compact'));
const generatedAt = new Date('2026-12-01T12:00:00Z');

describe('the HTML report', () => {
  const html = renderHtmlReport({
    result,
    source,
    timeline,
    title: 'tests/<load>.js',
    generatedAt,
  });

  it('is one self-contained page: no script, no external resource', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|src=|href=|url\(/i);
  });

  it('charts rate, p(95), VUs, failures and per-agent rate, with gaps where there is no data', () => {
    expect(html.match(/<svg class="chart"/g)).toHaveLength(5);
    // The p(95) and failure lines break at the interval without requests.
    expect(html.match(/data-series="http_req_duration p\(95\)"/g)).toHaveLength(2);
    expect(html.match(/data-series="agent-\d"/g)).toHaveLength(2);
    expect(html).toContain('>agent-2</text>');
  });

  it("issue 20.9: draws k6's web-dashboard bands (avg, p90, p95, p99) for request and iteration durations, and bytes per second", () => {
    const banded = (i: number) => ({
      ...point(i, 2),
      ...(i === 2
        ? {}
        : {
            latency: { avg: 10 + i, p90: 18 + i, p95: 20 + i, p99: 31 + i },
            iterationDuration: { avg: 110 + i, p90: 118 + i, p95: 120 + i, p99: 131 + i },
            received: 64_000,
            sent: 8_000,
          }),
    });
    const page = renderHtmlReport({
      result,
      source,
      timeline: { ...timeline, merged: Array.from({ length: 6 }, (_, i) => banded(i)) },
      title: 'bands.js',
      generatedAt,
    });
    for (const title of ['http_req_duration', 'iteration_duration']) {
      expect(page).toContain(`>${title}</text>`);
    }
    expect(page).toContain('>Data transferred per second</text>');
    // Four lines each, broken at the interval without samples.
    expect(page.match(/data-series="p\(99\)"/g)).toHaveLength(4);
    expect(page.match(/data-series="avg"/g)).toHaveLength(4);
    expect(page).toMatch(/<title>p\(99\) at [^<]+: 31 ms<\/title>/);
    expect(page).toMatch(/<title>received at [^<]+: 64 kB\/s<\/title>/);
    // Without bands (an older result), the p(95) line as before.
    expect(html).not.toContain('data-series="p(99)"');
  });

  it('shows each value on hover, with no script: a titled point per value (issue 20.9)', () => {
    // p(95): 6 intervals, one without requests.
    const p95 = [
      ...html.matchAll(
        /<title>http_req_duration p\(95\) at ([\d:]+ UTC \(\+\d+s\)): ([^<]+)<\/title>/g,
      ),
    ];
    expect(p95.map((m) => [m[1], m[2]])).toEqual([
      ['11:58:01 UTC (+1s)', '20 ms'],
      ['11:58:02 UTC (+2s)', '21 ms'],
      ['11:58:04 UTC (+4s)', '23 ms'],
      ['11:58:05 UTC (+5s)', '24 ms'],
      ['11:58:06 UTC (+6s)', '25 ms'],
    ]);
    expect(html).toContain('<title>agent-2 at 11:58:06 UTC (+6s): 15 req/s</title>');
    expect(html.match(/<circle class="point"/g)?.length).toBeGreaterThan(30);
  });

  it("gives the run's date and start time, and wall-clock time on the charts' axes (issue 20.9)", () => {
    expect(html).toContain('<p class="meta">started 2026-12-01 11:58:00 UTC · 2 agents · test run');
    expect(html).toMatch(/text-anchor="middle">11:58:00<\/text>/);
    expect(html).toMatch(/text-anchor="middle">11:58:05<\/text>/);
    expect(html).not.toMatch(/text-anchor="middle">\d+s<\/text>/);
  });

  it('at 40 agents draws their spread, highest, median and lowest, not 40 lines (issue 20.9)', () => {
    const many = Array.from({ length: 40 }, (_, i) => fakeAgent(i, 40));
    const rates = (i: number) =>
      Array.from({ length: 6 }, (_, t) => ({ ...point(t, 1), rps: 10 * (i + 1) + t }));
    const page = renderHtmlReport({
      result: fakeRunOutcome({ agents: many }),
      source,
      timeline: {
        intervalS: 1,
        merged: Array.from({ length: 6 }, (_, i) => point(i, 40)),
        agents: Object.fromEntries(many.map((a, i) => [a.id, rates(i)])),
      },
      title: 'many.js',
      generatedAt,
    });
    expect(page).toContain('>Requests per second by agent (40 agents)</text>');
    expect([...page.matchAll(/data-series="([a-z ]+ agent)"/g)].map((m) => m[1])).toEqual([
      'highest agent',
      'median agent',
      'lowest agent',
    ]);
    expect(page).not.toContain('more</text>');
    // At the first interval: agents at 10, 20, … 400 req/s.
    expect(page).toMatch(
      /<title>highest agent at [^:]+:\d\d:\d\d UTC \(\+1s\): 400 req\/s<\/title>/,
    );
    expect(page).toMatch(
      /<title>median agent at [^:]+:\d\d:\d\d UTC \(\+1s\): 200 req\/s<\/title>/,
    );
    expect(page).toMatch(/<title>lowest agent at [^:]+:\d\d:\d\d UTC \(\+1s\): 10 req\/s<\/title>/);
  });

  it('escapes what it did not write itself', () => {
    expect(html).toContain('<code>tests/&#60;load&#62;.js</code>');
    expect(html).not.toContain('<load>');
    expect(html).toContain('&#39;http_req_duration&#39; have been crossed');
  });

  it('renders verdict, thresholds, checks, metrics and agents (snapshot)', () => {
    expect(html).toContain('<span class="verdict failed">failed</span>');
    expect(html).toContain('<h2>Thresholds</h2>');
    expect(html).toContain('<h2>Checks</h2>');
    expect(html).toContain('<h2>Agents</h2>');
    expect(html).toContain('<h2>Groups</h2>');
    expect(html).toMatchSnapshot();
  });

  it('issue 20.7: warns of saturated load generators and gives each agent its peaks', () => {
    const page = renderHtmlReport({
      result: fakeRunOutcome({
        agents: [agent(0), { ...agent(1), load: SATURATED_LOAD }],
        warnings: ['1 of 2 agents had its machine at or above 85 % CPU <b>'],
      }),
      source,
      timeline,
      title: 'load.js',
      generatedAt,
    });
    expect(page).toContain(
      '<p class="warning">⚠ 1 of 2 agents had its machine at or above 85 % CPU &#60;b&#62;</p>',
    );
    expect(page).toContain('<th>peak cpu</th><th>peak memory</th>');
    expect(page).toContain('>100 %, saturated 28 s</td><td');
  });

  it('says so instead of charting a run shorter than two intervals', () => {
    const short = renderHtmlReport({ result, source, title: 'load.js', generatedAt });
    expect(short).toContain('too short to chart');
    expect(short).not.toContain('<svg');
  });
});

describe('the HTML report compared with the base branch', () => {
  const lookup = fakeBaseline();

  it('shows each figure then and now, regressions marked, past a limit or not', () => {
    const comparison = compareFigures(
      { p95Ms: 260, errorRate: 0.01, requestRate: 420 },
      lookup.figures,
      { p95: 0.2 },
    );
    const html = renderHtmlReport({
      result,
      source,
      title: 'load.js',
      generatedAt,
      baseline: { lookup, comparison },
    });
    const section = html.slice(html.indexOf('<h2>Compared with'), html.indexOf('<h2>Over time'));
    expect(section).toContain('<h2>Compared with <code>main</code></h2>');
    expect(section).toContain('run #12 (<code>eeeeeee</code>)');
    expect(section).toContain(
      '<td class="num">200.00 ms</td><td class="num">260.00 ms</td><td class="num"><span class="bad"><strong>+30.0 %</strong> ✗ over p95=20%</span></td>',
    );
    expect(section).toContain('<span class="bad"><strong>−16.0 %</strong> ▲ regression</span>');
    expect(section).toContain('<td class="num">±0.00 pp</td>');
    expect(section).toContain('Passed over: run #13 failure.');
  });

  it('says why there is no baseline', () => {
    const html = renderHtmlReport({
      result,
      source,
      title: 'load.js',
      generatedAt,
      baseline: {
        lookup: {
          found: false,
          branch: 'main',
          reason: 'no completed run of load.yml on main yet',
          skipped: [],
        },
      },
    });
    expect(html).toContain('<p>No baseline: no completed run of load.yml on main yet.</p>');
  });
});

describe('an SVG line chart', () => {
  it('keeps its legend between title and plot, at most two rows, then "+N more"', () => {
    const series = Array.from({ length: 10 }, (_, i) => ({
      name: `agent-${String(i + 1)}`,
      values: [i, i + 1],
    }));
    const svg = svgLineChart({ title: 'by agent', unit: 'req/s', xs: [1, 2], series });

    expect(svg.match(/<polyline class="series"/g)).toHaveLength(10);
    const labels = [...svg.matchAll(/<text class="legend"[^>]*>([^<]*)</g)].map((m) => m[1]);
    expect(labels).toEqual([...series.slice(0, 7).map((s) => s.name), '+3 more']);
    // The plot starts below the legend's two rows: no line runs through it.
    const tops = [...svg.matchAll(/<line class="grid"[^>]* y1="([\d.]+)"/g)].map((m) =>
      Number(m[1]),
    );
    const legendBottom = Math.max(
      ...[...svg.matchAll(/<text class="legend"[^>]* y="([\d.]+)"/g)].map((m) => Number(m[1])),
    );
    expect(Math.min(...tops)).toBeGreaterThan(legendBottom);
  });
});
