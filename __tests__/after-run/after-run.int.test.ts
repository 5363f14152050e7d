import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { afterRun, releaseHtmlReport, reserveHtmlReport } from '../../src/after-run/after-run.js';
import { keyFigures } from '../../src/coordinator/result-file.js';
import { renderHtmlReport } from '../../src/report/html.js';
import type { Logger } from '../../src/runtime/logger.js';
import { tempDir } from '../helpers/fs.js';
import { fakeBaseline, fakeRunOutcome } from '../helpers/run-outcome.js';
import { loadCapture, sourceOf } from '../summary/captures.js';

// A real k6 run's data with HTTP requests (fixtures/summary).
const summary = sourceOf(loadCapture('basic-compact'));
const current = keyFigures(summary);
const result = { ...fakeRunOutcome(), summary, timeline: { intervalS: 1, merged: [], agents: {} } };
const generatedAt = new Date('2026-12-01T12:00:00Z');

/** p(95) was half of this run's: this run is 100 % slower. */
const fasterBase = { ...current, p95Ms: (current.p95Ms ?? 0) / 2 };

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warning: at('warning'),
    error: at('error'),
  };
}

describe('issue 19.1: afterRun, what the action and the CLI do once the run has ended', () => {
  it('writes the HTML report to the file opened before the load, and fails a passing run that regressed', async () => {
    const path = join(await tempDir(), 'report.html');
    const html = await reserveHtmlReport(path);
    const log = recordingLog();
    const after = await afterRun({
      result,
      title: 'load.js',
      html,
      baseline: { figures: fasterBase, limits: { p95: 0.5 } },
      log,
      generatedAt,
    });
    await releaseHtmlReport(html);
    expect(current.p95Ms).toBeGreaterThan(0);
    expect(after.comparison?.failures.map((row) => row.label)).toEqual(['p95']);
    expect(after.verdict.exitCode).toBe(99);
    // The CLI's file baseline has no GitHub lookup: its HTML report shows no comparison.
    expect(after.view).toBeUndefined();
    expect(await readFile(path, 'utf8')).toBe(
      renderHtmlReport({
        result,
        source: summary,
        timeline: result.timeline,
        title: 'load.js',
        generatedAt,
      }),
    );
    expect(log.lines).toEqual([`info: HTML report: ${path}`]);
  });

  it("shows the action's GitHub lookup in the HTML report, and compares with the run it found", async () => {
    const path = join(await tempDir(), 'report.html');
    const lookup = { ...fakeBaseline(), figures: fasterBase };
    const after = await afterRun({
      result,
      title: 'load.js',
      html: { path },
      baseline: { lookup },
      log: recordingLog(),
      generatedAt,
    });
    // Without fail-on-regression the slower p(95) is highlighted, not failed.
    expect(after.comparison?.rows.find((row) => row.label === 'p95')?.regressed).toBe(true);
    expect(after.verdict.exitCode).toBe(0);
    expect(after.view).toEqual({ lookup, comparison: after.comparison });
    const page = await readFile(path, 'utf8');
    expect(page).toContain('Compared with');
    expect(page).toContain(`run #${String(lookup.run.number)}`);
  });

  it('a lookup that found no baseline compares nothing; the reports still say why', async () => {
    const lookup = { found: false as const, branch: 'main', reason: 'no run yet', skipped: [] };
    const after = await afterRun({
      result,
      title: 'load.js',
      baseline: { lookup, limits: { p95: 0.1 } },
      log: recordingLog(),
      generatedAt,
    });
    expect(after.comparison).toBeUndefined();
    expect(after.view).toEqual({ lookup, comparison: undefined });
    expect(after.verdict.exitCode).toBe(0);
  });

  it('an HTML report that cannot be written is logged; the verdict stands', async () => {
    const path = join(await tempDir(), 'missing-dir', 'report.html');
    const log = recordingLog();
    const failed = { ...result, exitCode: 99, message: 'thresholds crossed' };
    const after = await afterRun({
      result: failed,
      title: 'load.js',
      html: { path },
      log,
      generatedAt,
    });
    expect(after.verdict.exitCode).toBe(99);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(
      new RegExp(
        `^error: could not write the HTML report to ${path}: .*ENOENT.*; the run's verdict stands$`,
      ),
    );
  });
});
