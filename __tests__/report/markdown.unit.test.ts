import { describe, expect, it } from '@jest/globals';

import type { AgentOutcome } from '../../src/coordinator/outcome.js';
import { LIMITS, markerFor } from '../../src/github/publish.js';
import { renderRunMarkdown } from '../../src/report/markdown.js';
import type { Timeline, TimelinePoint } from '../../src/metrics/timeline.js';
import { compareFigures } from '../../src/report/compare.js';
import { fakeAgent, fakeBaseline, fakeRunOutcome } from '../helpers/run-outcome.js';
import { loadCapture, sourceOf } from '../summary/captures.js';

const agent = (i: number, extra: Partial<AgentOutcome> = {}) => fakeAgent(i, 3, extra);
const result = fakeRunOutcome;

// A real k6 run's data (basic-compact: thresholds, checks, groups; see fixtures/summary).
const source = sourceOf(loadCapture('basic-compact'));

/** A passing run's Markdown with `timeline` charted. */
const passingWith = (timeline: Timeline) =>
  renderRunMarkdown({ result: result(), source, title: 'load.js', limit: 65_536, timeline });

describe('the run as GitHub Markdown', () => {
  it('renders a passing run (snapshot)', () => {
    expect(
      renderRunMarkdown({ result: result(), source, title: 'load.js', limit: 65_536 }),
    ).toMatchSnapshot();
  });

  it('charts load, p(95) and VUs over time in Mermaid (snapshot)', () => {
    // A ramp to 20 VUs over 8 s, latency rising with the load.
    const merged = Array.from({ length: 8 }, (_, i): TimelinePoint => ({
      t: i + 1,
      rps: 100 * (i + 1),
      vus: Math.min(20, 3 * (i + 1)),
      p95: i === 0 ? null : 10 + i * 2.5,
      errorRate: i === 0 ? null : 0.01 * i,
      iterations: 90 * (i + 1),
    }));
    const timeline: Timeline = { intervalS: 1, merged, agents: {} };

    const markdown = passingWith(timeline);

    expect(markdown).toContain('#### Load and latency over time');
    expect(markdown.match(/```mermaid\nxychart-beta/g)).toHaveLength(3);
    expect(markdown).toContain('  line [100, 200, 300, 400, 500, 600, 700, 800]');
    expect(markdown).toMatchSnapshot();
  });

  it("issue 20.7: warns of saturated load generators and gives each agent its machine's peaks", () => {
    const load = (cpuPeak: number, cpuSaturatedSeconds: number, memoryPeak: number) => ({
      samples: 30,
      cpuPeak,
      cpuMean: cpuPeak,
      cpuSaturatedSeconds,
      memoryPeak,
    });
    const markdown = renderRunMarkdown({
      result: result({
        agents: [
          agent(0, { load: load(0.5, 0, 0.3) }),
          agent(1, { load: load(1, 28, 0.3) }),
          agent(2, { load: load(0.6, 0, 0.95) }),
        ],
        warnings: ['1 of 3 agents had its machine at or above 85 % CPU while its k6 ran'],
      }),
      source,
      title: 'load.js',
      limit: 65_536,
    });
    expect(markdown).toContain(
      '⚠️ 1 of 3 agents had its machine at or above 85 % CPU while its k6 ran',
    );
    const lines = markdown.split('\n');
    const header = lines.findIndex((l) => l.startsWith('| Agent |'));
    expect(lines[header]).toMatch(/\| k6 exit \| Peak cpu \| Peak memory \|$/);
    // As many columns in the alignment row as in the header, the figures aligned right.
    const cells = (line: string | undefined) => (line ?? '').split(' | ').length;
    expect(cells(lines[header + 1])).toBe(cells(lines[header]));
    expect(lines[header + 1]).toMatch(/\| ---: \| ---: \|$/);
    expect(lines[header + 3]).toMatch(/\| 100 %, saturated 28 s \| 30 % \|$/);
    expect(lines[header + 4]).toMatch(/\| 60 % \| 95 %, high \|$/);
  });

  it('leaves the chart out of a run shorter than two intervals', () => {
    const timeline: Timeline = {
      intervalS: 1,
      merged: [{ t: 1, rps: 5, vus: 1, p95: 3, errorRate: 0, iterations: 5 }],
      agents: {},
    };
    const markdown = passingWith(timeline);
    expect(markdown).not.toContain('mermaid');
  });

  it('renders a failed run with a lost agent (snapshot)', () => {
    const failed = result({
      exitCode: 99,
      message: "thresholds on metrics 'http_req_duration' have been crossed",
      agents: [
        agent(0),
        agent(1, { lost: 'no heartbeat for 30 s | gone', k6Exit: undefined }),
        agent(2),
      ],
    });
    expect(
      renderRunMarkdown({ result: failed, source, title: 'tests/load.js', limit: 65_536 }),
    ).toMatchSnapshot();
  });

  it('trims agent rows, with a visible note, to fit a limit', () => {
    const many = result({ agents: Array.from({ length: 256 }, (_, i) => agent(i)) });
    const full = renderRunMarkdown({
      result: many,
      source,
      title: 'load.js',
      limit: LIMITS.jobSummaryBytes,
      bytes: true,
    });
    expect(full).not.toContain('Trimmed');
    expect(full.match(/^\| \d+/gm)).toHaveLength(256);

    const limit = Math.floor(full.length / 3);
    const trimmed = renderRunMarkdown({
      result: many,
      source,
      title: 'load.js',
      limit,
      fullResultHint: 'the summary-json output',
    });
    expect(trimmed.length).toBeLessThanOrEqual(limit);
    const shown = trimmed.match(/^\| \d+/gm)?.length ?? 0;
    expect(shown).toBeGreaterThan(0);
    expect(trimmed).toContain(
      `> **Trimmed to fit GitHub's size limit:** ${String(256 - shown)} agents not shown; see the summary-json output.`,
    );
    expect(trimmed).toContain('#### Thresholds');
  });

  it('cuts even the fixed sections under a tiny limit, keeping the note', () => {
    const tiny = renderRunMarkdown({ result: result(), source, title: 'load.js', limit: 300 });
    expect(tiny.length).toBeLessThanOrEqual(300);
    expect(tiny).toMatch(/Trimmed to fit GitHub's size limit:\*\* the rest not shown/);
  });

  it('compares with the base branch: regressions in bold, ❌ past a limit (snapshot)', () => {
    const lookup = fakeBaseline();
    const comparison = compareFigures(
      { p95Ms: 260, errorRate: 0.012, requestRate: 420 },
      lookup.figures,
      { p95: 0.2 },
    );
    const markdown = renderRunMarkdown({
      result: result(),
      source,
      title: 'load.js',
      limit: 65_536,
      baseline: { lookup, comparison },
      reportUrl: 'https://github.com/acme/shop/actions/runs/42/artifacts/7',
    });
    expect(markdown).toContain(
      '| p(95) `http_req_duration` | 200.00 ms | 260.00 ms | **+30.0 %** ❌ over p95=20% |',
    );
    expect(markdown).toContain('| Error rate `http_req_failed` | 1.00 % | 1.20 % | +0.20 pp |');
    expect(markdown).toContain('| Request rate `http_reqs` | 500.0/s | 420.0/s | **−16.0 %** 🔺 |');
    expect(markdown).toContain('Passed over: run #13 failure.');
    expect(markdown).toContain(
      '[HTML report and result JSON](https://github.com/acme/shop/actions/runs/42/artifacts/7)',
    );
    expect(markdown).toMatchSnapshot();
  });

  it('says why there is no baseline', () => {
    const markdown = renderRunMarkdown({
      result: result(),
      source,
      title: 'load.js',
      limit: 65_536,
      baseline: {
        lookup: {
          found: false,
          branch: 'release/1.x',
          reason: 'no completed run of load.yml on release/1.x yet',
          skipped: [],
        },
      },
    });
    expect(markdown).toContain(
      '#### Compared with `release/1.x`\n\nNo baseline: no completed run of load.yml on release/1.x yet.\n',
    );
    expect(markdown).not.toContain('Passed over');
  });

  it('keys the hidden marker by workflow and test', () => {
    expect(markerFor('load', 'k6')).toMatch(/^<!-- k6-distributed:report:[0-9a-f]{16} -->$/);
    expect(markerFor('load', 'k6')).not.toBe(markerFor('load', 'k6-2'));
    expect(markerFor('load', 'k6')).not.toBe(markerFor('nightly', 'k6'));
  });
});
