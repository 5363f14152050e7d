/**
 * Issue 17 items 2, 5 and 11: what a compromised agent's numbers can do to a
 * run, and names a script may legitimately use. Each test runs the real
 * coordinator over HTTP with honest real-k6 agents behind a wiretap
 * (CompromisedAgent), sends what an attacker holding one agent's token would,
 * and checks that the honest run ends as standalone `k6 run` does.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { ROUTES } from '../../src/protocol/messages.js';
import { CompromisedAgent } from '../helpers/compromised-agent.js';
import { runDistributed, type DistributedRunOptions } from '../helpers/distributed.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript, startK6 } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

interface Run {
  exitCode: number;
  stdout: string;
}

function vars(target: TargetServer, extra: Record<string, string> = {}): string[] {
  return Object.entries({ TARGET: target.url, ...extra }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
}

/** One standalone k6 on the same script: the reference. */
async function standalone(script: string, flags: string[]): Promise<Run> {
  const k6 = await startK6(['run', '--quiet', '--no-color', ...flags, script]);
  const exit = await k6.proc.done;
  return { exitCode: exit.outcome.exitCode, stdout: k6.stdout.join('\n') };
}

/** The same script on a coordinator and 2 agents, agent traffic through the wiretap. */
async function distributed(
  script: string,
  flags: string[],
  evil: CompromisedAgent,
  extra: Partial<DistributedRunOptions> = {},
) {
  const out: string[] = [];
  const dir = await tempDir();
  const summaryJson = join(dir, 'result.json');
  const result = await runDistributed({
    script,
    agents: 2,
    flags: ['--no-color', ...flags],
    agentUrl: evil.intercept,
    summaryJson,
    output: { stdout: (chunk) => out.push(String(chunk)), stderr: () => undefined, isTTY: false },
    ...extra,
  });
  const file = JSON.parse(await readFile(summaryJson, 'utf8')) as {
    exitCode: number;
    agents: { name: string; notes?: string[] }[];
  };
  return { ...result, stdout: out.join(''), file };
}

/**
 * The parts of k6's text summary that do not depend on timing: threshold
 * lines, check lines and custom metric lines without their per-second rate.
 */
function stableSummary(stdout: string): string[] {
  const lines = stdout.split('\n').map((l) => l.trimEnd());
  const custom = lines.slice(lines.findIndex((l) => l.trim() === 'CUSTOM'));
  const end = custom.findIndex((l) => l.trim() === '');
  return [
    ...lines.filter((l) => /^\s+[✓✗] /.test(l) || /^\s+↳/.test(l)),
    ...custom.slice(1, end).map((l) => l.replace(/\s+[\d.]+\/s$/, '').replace(/\s+/g, ' ')),
  ];
}

describe('issue 17.11: names that every JavaScript object has', () => {
  it('issue 17.11: new Counter("constructor"), a check named __proto__ and friends run as on standalone k6', async () => {
    const target = await TargetServer.start();
    const script = fixtureScript('security/object-names.js');
    const evil = new CompromisedAgent();
    const [reference, run] = await Promise.all([
      standalone(script, vars(target)),
      distributed(script, vars(target), evil),
    ]);

    expect(reference.exitCode).toBe(0);
    expect(run.exitCode).toBe(reference.exitCode);
    expect(run.message).not.toMatch(/lost/);
    const expected = stableSummary(reference.stdout);
    // The reference shows every name: the comparison is not empty.
    expect(expected.join('\n')).toMatch(/constructor[\s\S]*__proto__[\s\S]*valueOf/);
    expect(expected).toContain("    ✓ 'count==60' count=60");
    expect(stableSummary(run.stdout)).toEqual(expected);
    expect(target.count('/iteration')).toBe(60);
  });

  it('issue 17.11: an agent cannot redefine a script metric named like an Object.prototype property', async () => {
    const target = await TargetServer.start();
    const script = fixtureScript('security/object-names.js');
    const evil = new CompromisedAgent();
    const attack = (async () => {
      const agent = await evil.sent(1, ROUTES.metrics);
      const seq = (agent.seq.get(ROUTES.metrics) ?? 0) + 1;
      return Promise.all(
        (['constructor', 'hasOwnProperty'] as const).map((name, i) =>
          evil.send(1, ROUTES.metrics, {
            seq: seq + i,
            final: false,
            delta: {
              metrics: [{ name, type: 'trend', contains: 'time' }],
              groups: [],
              series: [
                {
                  kind: 'total',
                  metric: name,
                  sink: {
                    t: 'trend',
                    h: { count: 1, sum: 5, min: 5, max: 5, pos: [], neg: [], exact: [5, 1] },
                  },
                },
              ],
            },
          }),
        ),
      );
    })();
    const [reference, run, answers] = await Promise.all([
      standalone(script, vars(target)),
      distributed(script, vars(target), evil),
      attack,
    ]);

    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body).toMatch(/is a (counter|rate), not a trend/);
    }
    expect(run.exitCode).toBe(reference.exitCode);
    expect(stableSummary(run.stdout)).toEqual(stableSummary(reference.stdout));
  });
});
