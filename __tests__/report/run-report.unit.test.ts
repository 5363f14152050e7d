import { describe, expect, it } from '@jest/globals';

import { MAX_LISTED_AGENTS } from '../../src/defaults.js';
import { renderRunReport } from '../../src/report/run-report.js';
import { fakeAgent, fakeRunOutcome, SATURATED_LOAD } from '../helpers/run-outcome.js';

/** The agent numbers in the text's table rows. */
function listed(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^ {4}\d+\*? /.test(l))
    .map((l) => l.trim().split(/\s+/)[0] ?? '');
}

describe('the DISTRIBUTED RUN section at scale (issue 20.6)', () => {
  it(`lists every agent up to ${String(MAX_LISTED_AGENTS)}`, () => {
    const agents = Array.from({ length: MAX_LISTED_AGENTS }, (_, i) =>
      fakeAgent(i, MAX_LISTED_AGENTS),
    );
    const text = renderRunReport(fakeRunOutcome({ agents }));
    expect(listed(text)).toHaveLength(MAX_LISTED_AGENTS);
    expect(text).not.toContain('more agents, not listed');
  });

  it('beyond, lists agent 1, the agents worth a look and the latest starters, and counts the rest', () => {
    const of = 300;
    const agents = Array.from({ length: of }, (_, i) => fakeAgent(i, of));
    agents[41] = fakeAgent(41, of, { lost: 'it stopped polling 40 s ago' });
    agents[99] = fakeAgent(99, of, { notes: ['outlier: 9.0× the requests per VU of the others'] });
    agents[150] = fakeAgent(150, of, {
      k6Exit: { code: 107, signal: null, description: 'exit code 107' },
    });
    // The latest starters: 7, 8 and 9 ms after the others.
    for (const [i, late] of [
      [12, 7],
      [200, 8],
      [5, 9],
    ] as const) {
      agents[i] = fakeAgent(i, of, { startedAt: 1_000 + of * 1.5 + late });
    }
    const text = renderRunReport(fakeRunOutcome({ agents }));

    expect(listed(text)).toEqual(['1*', '6', '13', '42', '100', '151', '201']);
    expect(text).toContain(
      '    … 293 more agents, not listed: each ran its share and its k6 exited 0 (every agent is ' +
        'in the result file, --summary-json, and the HTML report)',
    );
    expect(text).toContain('LOST: it stopped polling 40 s ago');
    expect(text).toContain('outlier: 9.0×');
    expect(text.split('\n').length).toBeLessThan(30);
  });

  it(`issue 20.7: with 300 saturated agents still lists ${String(MAX_LISTED_AGENTS)} at most, and counts the rest`, () => {
    const agents = Array.from({ length: 300 }, (_, i) =>
      fakeAgent(i, 300, { load: SATURATED_LOAD }),
    );
    const text = renderRunReport(fakeRunOutcome({ agents }));
    expect(listed(text)).toHaveLength(MAX_LISTED_AGENTS);
    expect(text).toContain(
      `    … ${String(300 - MAX_LISTED_AGENTS)} more agents, not listed: ` +
        `${String(300 - MAX_LISTED_AGENTS)} of them lost, marked, saturated or with a k6 exit other than 0`,
    );
    expect(text).toMatch(/peak cpu\s+peak memory/);
    expect(text).toContain('100 %, saturated 28 s  40 %');
  });
});
