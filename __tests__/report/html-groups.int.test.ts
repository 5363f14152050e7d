/**
 * Issue 20.9: the HTML report shows the run's groups also without
 * `--summary-mode=full`, each with the requests and checks standalone k6's
 * full summary gives that group (real k6, 3 agents, the same script).
 */
import { describe, expect, it } from '@jest/globals';

import { renderHtmlReport } from '../../src/report/html.js';
import { runDistributed } from '../helpers/distributed.js';
import { fixtureScript, k6FullSummary } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const SCRIPT = fixtureScript('groups-report.js');

interface GroupFigures {
  httpReqs: string;
  checks: string;
}

/**
 * Each group block of k6's full text summary, keyed `scenario|outer › inner`
 * (scenario '' for the root's groups): its http_reqs count and checks.
 */
function k6Groups(stdout: string): Map<string, GroupFigures> {
  const groups = new Map<string, GroupFigures>();
  let stack: { indent: number; kind: string; name: string }[] = [];
  for (const line of stdout.split('\n')) {
    const heading = /^(\s*)(█|↳) (?:(GROUP|SCENARIO): (.+?)|.+?)\s*$/.exec(line);
    if (heading) {
      const indent = heading[1]?.length ?? 0;
      if (heading[2] === '█') stack = [];
      stack = stack.filter((s) => s.indent < indent);
      if (heading[3]) stack.push({ indent, kind: heading[3], name: heading[4] ?? '' });
      if (heading[3] !== 'GROUP') continue;
      const scenario = stack.find((s) => s.kind === 'SCENARIO')?.name ?? '';
      const path = stack.filter((s) => s.kind === 'GROUP').map((s) => s.name);
      groups.set(`${scenario}|${path.join(' › ')}`, { httpReqs: '-', checks: '-' });
      continue;
    }
    const top = stack.at(-1);
    if (top?.kind !== 'GROUP') continue;
    const key = [...groups.keys()].at(-1) ?? '';
    const figures = groups.get(key);
    const reqs = /^\s*http_reqs\.*: (\d+)/.exec(line);
    if (figures && reqs?.[1]) figures.httpReqs = reqs[1];
    const checks = /^\s*checks_succeeded\.*: \S+ +(\d+) out of (\d+)/.exec(line);
    if (figures && checks) figures.checks = `${String(checks[1])} of ${String(checks[2])} passed`;
  }
  return groups;
}

function unescapeHtml(text: string): string {
  return text
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** The report's Groups table as header names to cell text, one object per row. */
function reportGroups(html: string): Record<string, string>[] {
  const section = /<h2>Groups<\/h2>\s*<table>([\s\S]*?)<\/table>/.exec(html)?.[1];
  if (section === undefined) return [];
  const header = [...section.matchAll(/<th>([\s\S]*?)<\/th>/g)].map((m) =>
    unescapeHtml(m[1] ?? ''),
  );
  return [...section.matchAll(/<tr>((?:<td[^>]*>[\s\S]*?<\/td>)+)<\/tr>/g)].map((row) => {
    const cells = [...(row[1] ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)];
    return Object.fromEntries(header.map((h, i) => [h, unescapeHtml(cells[i]?.[1] ?? '')]));
  });
}

function asK6Keys(rows: Record<string, string>[]): Map<string, GroupFigures> {
  return new Map(
    rows.map((row) => [
      `${row.Scenario === '-' ? '' : String(row.Scenario)}|${String(row.Group)}`,
      { httpReqs: String(row.http_reqs), checks: String(row.Checks) },
    ]),
  );
}

async function distributedReport(target: TargetServer, flags: string[]): Promise<string> {
  const result = await runDistributed({
    script: SCRIPT,
    flags: [...flags, '-e', `TARGET=${target.url}`],
  });
  expect(result.exitCode).toBe(0);
  return renderHtmlReport({
    result,
    source: result.summary,
    timeline: result.timeline,
    title: 'groups-report.js',
    generatedAt: new Date(0),
  });
}

describe('issue 20.9: groups in the HTML report (real k6, 3 agents)', () => {
  it('lists every group with the requests and checks of standalone k6’s full summary, in compact mode too', async () => {
    const target = await TargetServer.start();
    const expected = k6Groups(await k6FullSummary(SCRIPT, target.url));
    // The script's groups as k6 shows them: both scenarios' and setup()'s nested one.
    expect([...expected.keys()].sort()).toEqual(
      [
        '|setup',
        '|setup › warm up',
        'api|v1',
        'shop|browse',
        'shop|browse › item',
        'shop|pay',
      ].sort(),
    );
    expect(expected.get('shop|browse › item')).toEqual({
      httpReqs: '24',
      checks: '6 of 12 passed',
    });
    // k6 shows setup's own group heading without samples of its own.
    expected.delete('|setup');

    const compact = reportGroups(await distributedReport(target, []));
    expect(asK6Keys(compact)).toEqual(expected);
    for (const row of compact) {
      expect(row.group_duration).toMatch(/^avg \d.*, p\(95\) \d/);
      expect(row.http_req_duration).toMatch(/^avg \d.*, p\(95\) \d/);
      expect(row.http_req_failed).toBe('0.00%');
    }
    // The same rows with every sample split (--summary-mode=full).
    const full = reportGroups(await distributedReport(target, ['--summary-mode=full']));
    expect(asK6Keys(full)).toEqual(expected);
  });
});
