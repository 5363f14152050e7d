import { describe, expect, it } from '@jest/globals';

import { codeSpan, markdownText } from '../../src/report/markdown-text.js';
import { renderRunMarkdown } from '../../src/report/markdown.js';
import { compareFigures } from '../../src/report/compare.js';
import { fakeAgent, fakeBaseline, fakeRunOutcome } from '../helpers/run-outcome.js';
import { liveMarkup, liveText, tableCells } from '../helpers/markdown-inline.js';
import { loadCapture, sourceOf } from '../summary/captures.js';

/** Names a script or a compromised agent can choose (issue 17.10). */
const HOSTILE = [
  '[click](https://evil.example)',
  '![](https://evil.example/pixel.png)',
  '<img src=x onerror=alert(1)>',
  '<!-- hide the rest',
  '@org/team please approve',
  'fixes #123',
  'https://evil.example/login',
  'www.evil.example',
  'a | b | c',
  '`code` with ``two`` backticks',
  '`',
  ' spaced ',
  '\\| escaped pipe \\',
  '**bold** _em_ ~~gone~~',
  '&lt;script&gt;',
  'x\n::add-mask::secret\n| forged | row |',
  '\u001b[31mred\u001b[0m',
];

/** CommonMark's code span content: the fence and one padding space each side removed. */
function spanContent(span: string): string {
  const fence = /^`+/.exec(span)?.[0] ?? '';
  const inner = span.slice(fence.length, span.length - fence.length);
  return /^ .* $/s.test(inner) && inner.trim() !== '' ? inner.slice(1, -1) : inner;
}

describe('issue 17.10: untrusted names in GitHub Markdown', () => {
  it.each(HOSTILE)('renders %j in a code span, exactly and inertly', (name) => {
    const span = codeSpan(name);
    expect(liveText(span)).toBe('');
    expect(spanContent(span)).toBe(name.replaceAll('\n', '\\n').replaceAll('\u001b', '\\e'));
    const cell = codeSpan(name, { table: true });
    expect(tableCells(`| ${cell} | 1 |`)).toHaveLength(2);
    expect(liveMarkup(cell)).toEqual([]);
  });

  it.each(HOSTILE)('renders %j as plain text with nothing live', (name) => {
    const text = markdownText(name);
    expect(text).not.toContain('\n');
    expect(liveMarkup(text)).toEqual([]);
    expect(tableCells(`| ${text} | 1 |`)).toHaveLength(2);
  });

  it('leaves ordinary names readable', () => {
    expect(codeSpan('status is 200')).toBe('`status is 200`');
    expect(markdownText('the run finished')).toBe('the run finished');
  });

  it('the job summary and PR comment of a run with hostile names (snapshot)', () => {
    const captured = sourceOf(loadCapture('basic-compact'));
    const source = {
      ...captured,
      checks: captured.checks.map((c) => ({ ...c, name: `${c.name} ${HOSTILE[5] ?? ''}` })),
    };
    const names = HOSTILE.slice(0, 3);
    const result = fakeRunOutcome({
      exitCode: 97,
      message: `agent 2 (${HOSTILE[0] ?? ''}) was lost: ${HOSTILE[4] ?? ''}`,
      agents: [0, 1, 2].map((i) =>
        fakeAgent(i, 3, {
          name: names[i] ?? '',
          tags: { region: HOSTILE[i + 3] ?? '' },
          ...(i === 1 && { lost: HOSTILE[15], k6Exit: undefined }),
        }),
      ),
    });
    const lookup = { ...fakeBaseline(), branch: HOSTILE[0] ?? '', skipped: [] };
    const markdown = renderRunMarkdown({
      result,
      source,
      title: HOSTILE[9] ?? '',
      limit: 65_536,
      baseline: {
        lookup,
        comparison: compareFigures(
          { p95Ms: 260, errorRate: 0.01, requestRate: 500 },
          lookup.figures,
          {},
        ),
      },
    });
    const lines = markdown.split('\n');
    // The one live link is ours: the baseline run's page, from GitHub's API.
    const live = lines.filter((l) => liveMarkup(l).length > 0);
    expect(live).toEqual([
      expect.stringMatching(/^Baseline: \[run #12\]\(https:\/\/github\.com\//),
    ]);
    // Every table row has as many cells as its table's header: no name ended a cell.
    lines.forEach((line, at) => {
      if (!line.startsWith('| --')) return;
      const columns = tableCells(line).length;
      expect(tableCells(lines[at - 1] ?? '')).toHaveLength(columns);
      for (let row = at + 1; lines[row]?.startsWith('|'); row++) {
        expect(tableCells(lines[row] ?? '')).toHaveLength(columns);
      }
    });
    expect(markdown).toMatchSnapshot();
  });
});
