/**
 * Issue 17.9 and 17.10 on the real coordinator over HTTP with three honest
 * real-k6 agents: names from the script and from a compromised agent (its
 * metrics delta altered on the wire, with its own token and sequence number)
 * must not become workflow commands or terminal escapes in the coordinator
 * job's log, nor links, images, HTML or mentions in the job summary and PR
 * comment. Side by side with standalone k6: the same script's counts and
 * exit code.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { actionsLogger } from '../../src/action/logger.js';
import { endOfTestOutput } from '../../src/action/workflow-commands.js';
import { codeSpan } from '../../src/report/markdown-text.js';
import { renderRunMarkdown } from '../../src/report/markdown.js';
import { ROUTES } from '../../src/protocol/messages.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { CompromisedAgent, withCheckSamples } from '../helpers/compromised-agent.js';
import type { DeltaMessage } from '../../src/protocol/messages.js';
import { CapturingLogger, runDistributed } from '../helpers/distributed.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript, startK6 } from '../helpers/k6.js';
import { liveMarkup, tableCells } from '../helpers/markdown-inline.js';
import { TargetServer } from '../helpers/target-server.js';
import { commandsRun } from '../helpers/workflow-runner.js';

const SCRIPT = fixtureScript('security/hostile-names.js');

/** Check names only a compromised agent can send (k6 itself refuses '::' in them). */
const FORGED = [
  'x\n::add-mask::secret',
  '\u001b[31mred\u001b[0m\r::warning title=forged::from an agent',
  '[click](https://evil.example) ![](https://evil.example/p.png) <img src=x> @org/team',
  'a\u2028::set-output name=result::passed',
];
const FORGED_GROUP = '::evil\u0085::error title=forged::group';

interface Exported {
  root_group: ExportedGroup;
  metrics: Record<string, Record<string, number>>;
}
interface ExportedGroup {
  groups: Record<string, ExportedGroup>;
  checks: Record<string, { passes: number; fails: number }>;
}

/** Every check of an exported summary as `group path / name` → [passes, fails]. */
function checkCounts(group: ExportedGroup, path = ''): Map<string, [number, number]> {
  const counts = new Map<string, [number, number]>();
  for (const [name, c] of Object.entries(group.checks)) {
    counts.set(`${path}/${name}`, [c.passes, c.fails]);
  }
  for (const [name, child] of Object.entries(group.groups)) {
    for (const [k, v] of checkCounts(child, `${path}/${name}`)) counts.set(k, v);
  }
  return counts;
}

async function standalone(dir: string) {
  const target = await TargetServer.start();
  const exportFile = join(dir, 'standalone.json');
  const k6 = await startK6([
    'run',
    '--no-color',
    '--summary-export',
    exportFile,
    '-e',
    `TARGET=${target.url}`,
    SCRIPT,
  ]);
  const exit = await k6.proc.done;
  const exported = JSON.parse(await readFile(exportFile, 'utf8')) as Exported;
  return { target, exitCode: exit.outcome.exitCode, exported, stdout: k6.stdout.join('\n') };
}

/** The coordinator's log as the action prints it (actionsLogger), captured from stdout. */
class ActionsLog extends CapturingLogger {
  override info(m: string): void {
    super.info(m);
    actionsLogger.info(m);
  }
  override warning(m: string): void {
    super.warning(m);
    actionsLogger.warning(m);
  }
  override error(m: string): void {
    super.error(m);
    actionsLogger.error(m);
  }
}

/** Captures what this process writes to stdout while `run` runs (the job log). */
async function capturingStdout<T>(run: () => Promise<T>): Promise<{ value: T; stdout: string }> {
  const written: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array) => written.push(String(chunk)) > 0;
  try {
    const value = await run();
    return { value, stdout: written.join('') };
  } finally {
    process.stdout.write = write;
  }
}

/** Adds the forged checks to one honest metrics delta. */
function withForgedChecks(body: unknown): unknown {
  const report = body as { delta: { groups: string[]; series: unknown[] } };
  const check = (name: string, group: string) => ({
    kind: 'check',
    name,
    group,
    scenario: 'default',
    passes: 1,
    fails: 0,
  });
  report.delta.groups.push(FORGED_GROUP);
  report.delta.series.push(
    ...FORGED.map((name) => check(name, '')),
    check('in the forged group', FORGED_GROUP),
  );
  // Consistent with its own checks metric, or issue 17.5 refuses the delta as impossible.
  withCheckSamples(report as unknown as DeltaMessage, FORGED.length + 1);
  return report;
}

describe('issue 17.9/17.10: hostile names from the script and a compromised agent', () => {
  it('reach the log, the summary and the Markdown inert; the honest run is as standalone k6', async () => {
    const dir = await tempDir();
    const reference = await standalone(dir);
    // k6 itself prints the script's names raw: the legacy '##[add-mask]' runs.
    expect(commandsRun(reference.stdout).map((c) => c.name)).toContain('add-mask');

    const target = await TargetServer.start();
    const evil = new CompromisedAgent();
    const forged = evil
      .tamper(1, ROUTES.metrics, (body) => withForgedChecks(body))
      .answered()
      .then(([answer]) => answer);
    const summaryJson = join(dir, 'result.json');
    const exportFile = join(dir, 'distributed.json');
    const { value: run, stdout: jobLog } = await capturingStdout(() =>
      runDistributed({
        script: SCRIPT,
        flags: [
          '--no-color',
          '--summary-mode=full',
          '--summary-export',
          exportFile,
          '-e',
          `TARGET=${target.url}`,
        ],
        agentUrl: evil.intercept,
        metricsIntervalMs: 100,
        output: endOfTestOutput((text) => process.stdout.write(text)),
        summaryJson,
        log: new ActionsLog(),
      }),
    );
    expect((await forged)?.status).toBe(200);

    // The honest run's outcome is standalone k6's.
    expect(run.exitCode).toBe(reference.exitCode);
    expect(target.count('/setup')).toBe(1);
    expect(target.count('/teardown')).toBe(1);
    expect(target.count('/iteration')).toBe(reference.target.count('/iteration'));
    const exported = JSON.parse(await readFile(exportFile, 'utf8')) as Exported;
    expect(exported.metrics.iterations?.count).toBe(target.count('/iteration'));
    const merged = checkCounts(exported.root_group);
    for (const [name, counts] of checkCounts(reference.exported.root_group)) {
      expect([name, merged.get(name)]).toEqual([name, counts]);
    }
    // The forged checks are the attacker's own share, shown as such.
    expect(merged.get(`/${FORGED[0] ?? ''}`)).toEqual([1, 0]);
    const result = JSON.parse(await readFile(summaryJson, 'utf8')) as { exitCode: number };
    expect(result.exitCode).toBe(run.exitCode);

    // The job log (coordinator log and end-of-test summary): no command but our own.
    const commands = commandsRun(jobLog);
    expect(commands.filter((c) => !['warning', 'error'].includes(c.name))).toEqual([]);
    expect(commands.filter((c) => /forged|secret|passed/.test(c.data))).toEqual([]);
    for (const raw of ['\u001b', '\u0007', '\u0085', '\u2028', '\r'])
      expect(jobLog).not.toContain(raw);
    expect(jobLog).toContain('x\\n::add-mask::secret');
    expect(jobLog).toContain('x\\n##[add-mask]secret');
    expect(jobLog).toContain('GROUP: g\\n##[warning]forged group');

    // The job summary and PR comment: names in code spans, nothing live, tables whole.
    const markdown = renderRunMarkdown({
      result: run,
      source: run.summary,
      title: 'hostile-names.js',
      limit: 65_536,
    });
    const lines = markdown.split('\n');
    expect(lines.filter((l) => liveMarkup(l).length > 0)).toEqual([]);
    lines.forEach((line, at) => {
      if (!line.startsWith('| --')) return;
      const columns = tableCells(line).length;
      expect(tableCells(lines[at - 1] ?? '')).toHaveLength(columns);
      for (let row = at + 1; lines[row]?.startsWith('|'); row++) {
        expect(tableCells(lines[row] ?? '')).toHaveLength(columns);
      }
    });
    expect(markdown).toContain(codeSpan(FORGED[2] ?? '', { table: true }));
    expect(markdown).toContain(codeSpan('pipe | `tick` <b>bold</b>', { table: true }));

    // The HTML report escapes them.
    const html = renderHtmlReport({
      result: run,
      source: run.summary,
      timeline: run.timeline,
      title: 'hostile-names.js',
      generatedAt: new Date(),
    });
    expect(html).not.toMatch(/<img src=x|<b>bold|href="https:\/\/evil/);
    expect(html).toContain('pipe | `tick` &#60;b&#62;bold&#60;/b&#62;');
  });
});
