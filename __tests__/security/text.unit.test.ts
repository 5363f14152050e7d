/**
 * Issue 17.9 at the print points: k6's text summary and the run report
 * print names from the script and agents on one line, without control
 * characters, with colors on or off; the data keeps them as they are.
 */
import { describe, expect, it } from '@jest/globals';

import { renderRunReport } from '../../src/report/run-report.js';
import { legacySummaryData } from '../../src/summary/legacy.js';
import type { SummarySource } from '../../src/summary/source.js';
import { renderTextSummary } from '../../src/summary/text.js';
import { fakeAgent, fakeRunOutcome } from '../helpers/run-outcome.js';
import { commandsRun } from '../helpers/workflow-runner.js';
import { loadCapture, sourceOf } from '../summary/captures.js';

const INJECTED = 'x\n::add-mask::secret\r::error::forged\u001b[2J\u2028::notice::n\u009b';
/** What a line may hold of what is left: our own colors, `ESC [ digits m`. */
// eslint-disable-next-line no-control-regex
const OUR_COLORS = /\u001b\[[0-9;]*m/g;

function hostileSource(): SummarySource {
  const source = sourceOf(loadCapture('basic-full'));
  return {
    ...source,
    checks: source.checks.map((c) => ({ ...c, name: `${c.name} ${INJECTED}` })),
    groups: source.groups.map((g) => `${g}${INJECTED}`),
    parts: source.parts.map((p) => ({
      ...p,
      scenario: `${p.scenario}${INJECTED}`,
      group: p.group === '' ? '' : `${p.group}${INJECTED}`,
    })),
  };
}

/** Control characters other than newline, and Unicode line separators. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

function unprintable(text: string): string[] {
  return text.replace(OUR_COLORS, '').match(UNPRINTABLE) ?? [];
}

describe('issue 17.9: names in the text summary and the run report', () => {
  it.each([false, true])('prints every name on one line (colors %s)', (enableColors) => {
    const text = renderTextSummary(hostileSource(), { mode: 'full', enableColors });
    expect(unprintable(text)).toEqual([]);
    expect(commandsRun(text)).toEqual([]);
    expect(text).toContain(
      'x\\n::add-mask::secret\\r::error::forged\\e[2J\\u{2028}::notice::n\\u{9b}',
    );
  });

  it('keeps the names as they are in handleSummary() data', () => {
    const data = legacySummaryData(hostileSource());
    expect(JSON.stringify(data.root_group)).toContain(JSON.stringify(INJECTED).slice(1, -1));
  });

  it('prints agent names, tags and loss reasons on one line in the run report', () => {
    const report = renderRunReport(
      fakeRunOutcome({
        agents: [0, 1].map((i) =>
          fakeAgent(i, 2, { name: INJECTED, tags: { region: INJECTED }, lost: INJECTED }),
        ),
        message: `agent 1 lost: ${INJECTED}`,
      }),
    );
    expect(unprintable(report)).toEqual([]);
    expect(commandsRun(report)).toEqual([]);
  });
});
