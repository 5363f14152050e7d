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

import { builtinMetric, HTTP_REQ_TRENDS } from '../../src/metrics/builtin.js';
import { ROUTES, type MetricDelta, type SeriesDelta } from '../../src/protocol/messages.js';
import { renderRunMarkdown } from '../../src/report/markdown.js';
import { renderHtmlReport } from '../../src/report/html.js';
import { renderRunReport } from '../../src/report/run-report.js';
import { CompromisedAgent, type Answer } from '../helpers/compromised-agent.js';
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
 * Percentiles (med, p(N)) show as `~`: on the default cloud transport they
 * are k6's bucket estimates (within 0.4 %, tested in
 * engine/cloud-transport.int.test.ts), not the exact values one k6 prints.
 */
function stableSummary(stdout: string): string[] {
  const lines = stdout
    .split('\n')
    .map((l) => l.trimEnd().replace(/((?:med|p\([\d.]+\))=)[\d.]+/g, '$1~'));
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

/** A trend wire holding `count` samples of `value`. */
function trend(value: number, count: number) {
  return {
    t: 'trend' as const,
    h: {
      count,
      sum: value * count,
      min: value,
      max: value,
      pos: [],
      neg: [],
      exact: [value, count],
    },
  };
}

function total(metric: string, sink: unknown): SeriesDelta {
  return { kind: 'total', metric, sink } as SeriesDelta;
}

/** Sends a delta as agent `index`, with the sequence number its next honest delta would take. */
async function sendDelta(
  evil: CompromisedAgent,
  index: number,
  series: readonly SeriesDelta[],
): Promise<Answer> {
  const agent = await evil.agent(index);
  const seq = (agent.seq.get(ROUTES.metrics) ?? 0) + 1;
  // Defined as k6 defines them, as a forger would: the honest agent's own first
  // delta may not have defined them yet (on the cloud transport it often holds
  // only the vus ticks).
  const names = new Set(series.flatMap((s) => (s.kind === 'total' ? [s.metric] : [])));
  const metrics = [...names].flatMap((name) => builtinMetric(name) ?? []);
  const delta: MetricDelta = { metrics, groups: [], series: [...series] };
  return evil.send(index, ROUTES.metrics, { seq, final: false, delta });
}

/**
 * 3 VUs for 3 s against a target of their own answering in 10 ms: p(95)<3
 * fails, as on standalone k6 (99).
 */
async function failingP95() {
  const target = await TargetServer.start({ delayMs: 10 });
  const flags = vars(target, {
    EXECUTOR: 'constant',
    DURATION: '3s',
    SLEEP: '0.05',
    THRESHOLDS: JSON.stringify({ http_req_duration: ['p(95)<3'] }),
  });
  return { target, flags, script: fixtureScript('metrics.js') };
}

/** The run's own count of what the target received must equal the target's. */
function requestsCounted(run: Awaited<ReturnType<typeof distributed>>): number {
  const sink = run.summary.metrics.get('http_reqs')?.sink;
  return sink?.values(run.summary.durationMs, [])['count'] ?? -1;
}

function renderAll(run: Awaited<ReturnType<typeof distributed>>): string[] {
  return [
    renderRunReport(run),
    renderRunMarkdown({
      result: run,
      source: run.summary,
      timeline: run.timeline,
      title: 'metrics.js',
      limit: 1_000_000,
    }),
    renderHtmlReport({
      result: run,
      source: run.summary,
      timeline: run.timeline,
      title: 'metrics.js',
      generatedAt: new Date(),
    }),
  ];
}

describe('issue 17.2: implausible values are refused where they arrive', () => {
  it('issue 17.2: a trend of 1.6e308 is refused with 400; exit 99 stays 99 and every report renders', async () => {
    const { target, flags, script } = await failingP95();
    const evil = new CompromisedAgent();
    const attack = (async () => {
      await evil.sent(1, ROUTES.metrics);
      return [
        await sendDelta(evil, 1, [total('http_req_duration', trend(1.6e308, 1))]),
        await sendDelta(evil, 1, [total('work_time', trend(-1.6e308, 2))]),
        await sendDelta(evil, 1, [{ kind: 'ticks', metric: 'vus', points: [[1000, 1.6e308]] }]),
      ];
    })();
    const [reference, run, answers] = await Promise.all([
      failingP95().then((own) => standalone(script, own.flags)),
      distributed(script, flags, evil),
      attack,
    ]);

    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body).toContain('"code":"BAD_REQUEST"');
    }
    expect(answers[0]?.body).toContain('min and max must lie within ±1e+100');
    expect(reference.exitCode).toBe(99);
    expect(run.exitCode).toBe(99);
    expect(run.file.exitCode).toBe(99);
    expect(requestsCounted(run)).toBe(target.requests().length);
    expect(target.count('/teardown')).toBe(1);
    // Logged once, naming the agent and the rule, for all three refusals.
    const logged = run.log.lines.filter((l) => l.includes('refused its metric delta'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/^warning: agent 2 .*rule schema/);
    for (const report of renderAll(run)) {
      expect(report).not.toMatch(/Infinity|NaN|e\+30\d/);
    }
  });
});

describe('issue 17.5: totals no k6 could have measured are refused', () => {
  it('issue 17.5: 5,000,000 fake 1 ms samples cannot flip a failing p(95) threshold: exit 99 stays 99', async () => {
    const { target, flags, script } = await failingP95();
    const evil = new CompromisedAgent();
    const attack = (async () => {
      await evil.sent(1, ROUTES.metrics);
      return sendDelta(evil, 1, [
        total('http_req_duration', trend(1, 5_000_000)),
        {
          kind: 'sub',
          key: 'http_req_duration{expected_response:true}',
          sink: trend(1, 5_000_000),
        },
      ] as SeriesDelta[]);
    })();
    const [reference, run, answer] = await Promise.all([
      failingP95().then((own) => standalone(script, own.flags)),
      distributed(script, flags, evil),
      attack,
    ]);

    expect(answer.status).toBe(400);
    expect(answer.body).toContain('http-samples');
    expect(reference.exitCode).toBe(99);
    expect(run.exitCode).toBe(99);
    expect(run.file.exitCode).toBe(99);
    expect(run.stdout).toMatch(/✗ 'p\(95\)<3'/);
    expect(requestsCounted(run)).toBe(target.requests().length);
    expect(target.count('/teardown')).toBe(1);
    // The refusal is on the agent's row of every report.
    const marked = run.file.agents.find((a) => a.name === run.agents[1]?.name);
    expect(marked?.notes).toEqual(['refused 1 metric delta that cannot be true (http-samples ×1)']);
    for (const report of renderAll(run)) expect(report).toContain('http-samples ×1');
  });

  it('issue 17.5: negative counters, rates and checks beyond their totals, sums outside count×min…count×max are refused', async () => {
    const { target, flags, script } = await failingP95();
    const evil = new CompromisedAgent();
    const attacks: [string, SeriesDelta[]][] = [
      ['negative-count', [total('http_reqs', { t: 'counter', sum: -400 })]],
      ['negative-count', [total('iterations', { t: 'counter', sum: -1e9 })]],
      ['http-samples', [total('http_reqs', { t: 'counter', sum: 1e6 })]],
      ['http-samples', [total('http_req_failed', { t: 'rate', trues: 0, total: 1e15 })]],
      [
        'checks',
        [
          {
            kind: 'check',
            name: 'status is 200',
            group: '::api',
            scenario: 'main',
            passes: 1e15,
            fails: 0,
          },
        ],
      ],
      ['count×min', [total('work_time', { t: 'trend', h: { ...trend(5, 10).h, sum: 1e6 } })]],
      ['iteration-samples', [total('iteration_duration', trend(5, 1000))]],
      [
        'subset',
        [
          total('http_req_duration', trend(20, 0 + 1)),
          { kind: 'sub', key: 'http_req_duration{expected_response:true}', sink: trend(1, 1000) },
        ] as SeriesDelta[],
      ],
    ];
    const attack = (async () => {
      await evil.sent(1, ROUTES.metrics);
      const answers: Answer[] = [];
      for (const [, series] of attacks) answers.push(await sendDelta(evil, 1, series));
      return answers;
    })();
    const [reference, run, answers] = await Promise.all([
      failingP95().then((own) => standalone(script, own.flags)),
      distributed(script, flags, evil),
      attack,
    ]);

    attacks.forEach(([rule], i) => {
      expect({ rule, status: answers[i]?.status }).toEqual({ rule, status: 400 });
      expect(answers[i]?.body).toContain(rule);
    });
    expect(run.exitCode).toBe(reference.exitCode);
    expect(run.file.exitCode).toBe(99);
    expect(requestsCounted(run)).toBe(target.requests().length);
    const iterations = run.summary.metrics.get('iterations')?.sink;
    expect(iterations?.values(run.summary.durationMs, [])['count']).toBe(
      target.count('/iteration'),
    );
    expect(target.count('/teardown')).toBe(1);
  });

  it('issue 17.5: an agent reporting consistent but invented load is marked as an outlier in every report', async () => {
    const { flags, script } = await failingP95();
    const evil = new CompromisedAgent();
    const n = 20_000;
    const attack = (async () => {
      await evil.sent(1, ROUTES.metrics);
      return sendDelta(evil, 1, [
        total('http_reqs', { t: 'counter', sum: n }),
        ...HTTP_REQ_TRENDS.map((metric) => total(metric, trend(20, n))),
        total('http_req_failed', { t: 'rate', trues: 0, total: n }),
        total('iterations', { t: 'counter', sum: n }),
        total('iteration_duration', trend(25, n)),
      ]);
    })();
    const [run, answer] = await Promise.all([distributed(script, flags, evil), attack]);

    // Consistent with itself: accepted (an agent is trusted for its own share) …
    // (The refusal's reason, when there is one, is in the failure message.)
    expect({ status: answer.status, body: answer.status === 200 ? '' : answer.body }).toEqual({
      status: 200,
      body: '',
    });
    expect(run.exitCode).toBe(99);
    // … but shown for what it is, on its own row only.
    const [honest, marked] = run.file.agents;
    expect(honest?.notes).toBeUndefined();
    expect(marked?.notes?.join('; ')).toMatch(
      /^outlier: [\d.]+× the iterations per VU of the other agents .*; outlier: [\d.]+× the requests per VU/,
    );
    for (const report of renderAll(run)) {
      expect(report).toContain('outlier:');
      expect(report.match(/outlier: [\d.]+× the requests/g)).toHaveLength(1);
    }
  });
});
