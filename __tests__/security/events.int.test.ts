/**
 * Issue 17, items 1, 3, 6 and 13: run-wide events, setup() data, sequence
 * numbers, the run's deadline and secrets in the result file. Each test
 * attacks a live run of 2 honest agents (real k6, the real coordinator over
 * HTTP) with one agent's token captured on the wire (CompromisedAgent), and
 * checks the run ends as the undisturbed one does: standalone k6's exit code,
 * setup() and teardown() once on the target, every VU with setup()'s own
 * data, totals equal to what the target counted, the result file written.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from '@jest/globals';

import { ROUTES } from '../../src/protocol/messages.js';
import { type Answer, CompromisedAgent } from '../helpers/compromised-agent.js';
import { type DistributedRunOptions, runDistributed } from '../helpers/distributed.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript, startK6 } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const SCRIPT = 'run-wide.js';
const SECRET = 's3cr3t-from-the-environment';

function vars(target: TargetServer, extra: Record<string, string> = {}): string[] {
  return Object.entries({ TARGET: target.url, SECRET, ...extra }).flatMap(([k, v]) => [
    '-e',
    `${k}=${v}`,
  ]);
}

interface Baseline {
  exitCode: number;
  iterations: number;
}

/** Standalone `k6 run` on the same script: the reference outcome. */
async function standalone(): Promise<Baseline> {
  const target = await TargetServer.start();
  const k6 = await startK6(['run', '--quiet', ...vars(target), fixtureScript(SCRIPT)]);
  const exit = await k6.proc.done;
  expect(target.count('/setup')).toBe(1);
  expect(target.count('/teardown')).toBe(1);
  return { exitCode: exit.outcome.exitCode, iterations: target.count('/iteration') };
}

type Attack = (evil: CompromisedAgent, target: TargetServer) => Promise<Answer[]>;

/** A 2-agent run whose agent tokens `attack` holds from the moment the agents register. */
async function attackedRun(
  attack: Attack,
  options: { vars?: Record<string, string>; run?: Partial<DistributedRunOptions> } = {},
) {
  const target = await TargetServer.start();
  const evil = new CompromisedAgent();
  const summaryJson = join(await tempDir(), 'result.json');
  let attacking: Promise<Answer[]> = Promise.resolve([]);
  const run = await runDistributed({
    script: fixtureScript(SCRIPT),
    agents: 2,
    flags: vars(target, options.vars),
    summaryJson,
    output: { stdout: () => {}, stderr: () => {}, isTTY: false },
    agentUrl: async (url) => {
      const tapped = await evil.intercept(url);
      attacking = attack(evil, target);
      return tapped;
    },
    ...options.run,
  });
  const answers = await attacking;
  const result = JSON.parse(await readFile(summaryJson, 'utf8')) as Record<string, unknown>;
  return { run, target, answers, result, resultText: JSON.stringify(result) };
}

type Attacked = Awaited<ReturnType<typeof attackedRun>>;

/** The attacked run ended exactly as standalone k6 and an undisturbed run do. */
function expectUnchanged({ run, target, result }: Attacked, baseline: Baseline): void {
  expect(run.exitCode).toBe(baseline.exitCode);
  expect(result.exitCode).toBe(baseline.exitCode);
  expect(run.agents.map((a) => a.lost)).toEqual([undefined, undefined]);
  expect(run.agentResults.map((r) => r.exitCode)).toEqual([0, 0]);
  expect(target.count('/setup')).toBe(1);
  expect(target.count('/teardown')).toBe(1);
  expect(target.requests('/teardown')[0]?.body).toBe(JSON.stringify({ token: 'from-setup' }));
  expect(target.count('/iteration')).toBe(baseline.iterations);
  const tokens = new Set(target.requests('/iteration').map((r) => r.query.get('token')));
  expect([...tokens]).toEqual(['from-setup']);
  const iterations = run.summary.metrics.get('iterations')?.sink.values(0, []).count;
  expect(iterations).toBe(baseline.iterations);
  expect(run.agents.reduce((n, a) => n + (a.totals?.iterations ?? 0), 0)).toBe(baseline.iterations);
}

function errorOf(answer: Answer): { code: string; message: string } {
  return (JSON.parse(answer.body) as { error: { code: string; message: string } }).error;
}

function expectRefused(answers: Answer[], status: number, code: string, message: RegExp): void {
  expect(answers.length).toBeGreaterThan(0);
  for (const answer of answers) {
    expect(answer.status).toBe(status);
    expect(errorOf(answer).code).toBe(code);
    expect(errorOf(answer).message).toMatch(message);
  }
}

/** What the coordinator logged (debug lines left out: they are not shown by default). */
function linesMatching(run: Attacked['run'], pattern: RegExp): string[] {
  return run.log.lines.filter((line) => !line.startsWith('debug:') && pattern.test(line));
}

/** '[[[…]]]' nested `depth` levels, written directly: JSON.stringify overflows on it. */
function nestedJson(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

let baseline: Baseline;

beforeAll(async () => {
  baseline = await standalone();
  expect(baseline.exitCode).toBe(0);
  expect(baseline.iterations).toBe(20);
}, 60_000);

describe('issue 17.1: run-wide events count only from the agent chosen for that step', () => {
  it('issue 17.1: setup-done from a non-leader right after joining is refused (403, logged once)', async () => {
    const attacked = await attackedRun(async (evil) => {
      await evil.agent(1);
      const evilData = { token: 'evil', secret: 'evil' };
      return [
        await evil.event(1, { type: 'setup-done', data: evilData }),
        await evil.event(1, { type: 'setup-done', data: evilData }),
        await evil.event(1, { type: 'setup-failed', message: 'evil', aborted: true }),
        // Not run-wide, but too early: no data was sent yet, and its run has not started.
        await evil.event(1, { type: 'data-set' }),
        await evil.event(1, { type: 'finished', status: 9, aborted: true }),
      ];
    });

    expectRefused(attacked.answers, 403, 'EVENT_REFUSED', /from agent 2 \(local-2\)/);
    expect(errorOf(attacked.answers[0] as Answer).message).toMatch(
      /refused setup-done from agent 2 \(local-2\): no agent was asked to run setup\(\) yet/,
    );
    expect(linesMatching(attacked.run, /refused setup-done from agent 2/)).toHaveLength(1);
    expectUnchanged(attacked, baseline);
    expect(attacked.run.setupRan).toBe(true);
  }, 120_000);

  it('issue 17.1: setup and teardown outcomes injected mid-run are refused, teardown runs once', async () => {
    const attacked = await attackedRun(async (evil, target) => {
      await target.waitForCount('/iteration', 4);
      return [
        await evil.event(1, { type: 'teardown-done', durationMs: 1 }),
        await evil.event(1, { type: 'teardown-failed', message: 'evil' }),
        await evil.event(1, { type: 'setup-failed', message: 'test aborted: evil', aborted: true }),
        // The leader's token: setup()'s outcome is in, teardown() was not asked for yet.
        await evil.event(0, { type: 'setup-failed', message: 'evil', aborted: false }),
        await evil.event(0, { type: 'teardown-done', durationMs: 1 }),
        // Its k6 cannot have exited as planned before it was released.
        await evil.event(1, {
          type: 'k6-exited',
          expected: true,
          exit: { code: 110, signal: null, description: 'evil' },
        }),
      ];
    });

    expectRefused(attacked.answers, 403, 'EVENT_REFUSED', /from agent [12] \(local-[12]\)/);
    expect(errorOf(attacked.answers[0] as Answer).message).toMatch(
      /no agent was asked to run teardown\(\) yet/,
    );
    expect(errorOf(attacked.answers[3] as Answer).message).toMatch(
      /setup\(\)'s outcome was already reported/,
    );
    expectUnchanged(attacked, baseline);
    expect(attacked.run.teardownRan).toBe(true);
  }, 120_000);
});

describe('issue 17.3: setup() data is bounded where it arrives', () => {
  it('issue 17.3: 20,000 nested arrays as setup-done data are refused at the schema (400)', async () => {
    const attacked = await attackedRun(async (evil) => {
      const deep = async (index: number) => {
        const seq = await evil.nextSeq(index, ROUTES.events);
        const body = `{"seq":${String(seq)},"event":{"type":"setup-done","data":${nestedJson(20_000)}}}`;
        return evil.sendText(index, ROUTES.events, body);
      };
      await evil.agent(1);
      return [await deep(0), await deep(1)];
    });

    expectRefused(attacked.answers, 400, 'BAD_REQUEST', /nested deeper than 1000 levels/);
    expectUnchanged(attacked, baseline);
  }, 120_000);

  it('issue 17.3: setup() data deeper than the limit ends the run with 107 and says why', async () => {
    const target = await TargetServer.start();
    const run = await runDistributed({
      script: fixtureScript(SCRIPT),
      agents: 2,
      flags: vars(target, { DEPTH: '1500' }),
    });

    expect(run.exitCode).toBe(107);
    expect(run.message).toMatch(/setup\(\) data is nested deeper than 1000 levels/);
    expect(run.agentResults.map((r) => r.exitCode)).toEqual([0, 0]);
    expect(target.count('/setup')).toBe(1);
    expect(target.count('/iteration')).toBe(0);
    expect(target.count('/teardown')).toBe(0);
  }, 120_000);
});

describe('issue 17.6: sequence numbers and the run deadline', () => {
  it('issue 17.6: an event or delta with seq 2^53-1 is refused (409); later reports still count', async () => {
    const attacked = await attackedRun(async (evil, target) => {
      await target.waitForCount('/iteration', 4);
      const seq = Number.MAX_SAFE_INTEGER;
      const started = { type: 'started', at: 0, offsetMs: 0, rttMs: 0 };
      const empty = { metrics: [], groups: [], series: [] };
      return [
        await evil.send(1, ROUTES.events, { seq, event: started }),
        await evil.send(1, ROUTES.events, { seq, event: started }),
        await evil.send(1, ROUTES.metrics, { seq, final: false, delta: empty }),
      ];
    });

    expectRefused(
      attacked.answers,
      409,
      'SEQUENCE_OUT_OF_RANGE',
      /refused sequence number 9007199254740991 for the (events|metric deltas) of agent 2 \(local-2\)/,
    );
    expect(
      linesMatching(attacked.run, /refused sequence number .* events of agent 2/),
    ).toHaveLength(1);
    expectUnchanged(attacked, baseline);
  }, 120_000);

  it("issue 17.6: reports that take an agent's next seq do not silence its own", async () => {
    const attacked = await attackedRun(async (evil, target) => {
      await target.waitForCount('/iteration', 4);
      await evil.sent(1, ROUTES.metrics);
      const empty = { metrics: [], groups: [], series: [] };
      return [
        // An event type the agent already sent (acknowledged, ignored), under its next seq.
        await evil.event(1, { type: 'ready', vusMax: 999 }),
        await evil.send(1, ROUTES.metrics, {
          seq: await evil.nextSeq(1, ROUTES.metrics),
          final: false,
          delta: empty,
        }),
      ];
    });

    expect(attacked.answers.map((a) => a.status)).toEqual([200, 200]);
    expectUnchanged(attacked, baseline);
  }, 120_000);

  it("issue 17.6: an agent that stops reporting cannot hang the run past the test's deadline", async () => {
    const attacked = await attackedRun(
      (evil) => {
        // Agent 2's job keeps polling but its `finished` never reaches the coordinator.
        evil.swallow(1, 'finished');
        return Promise.resolve([]);
      },
      {
        vars: {
          MAX_DURATION: '3s',
          GRACEFUL_STOP: '0s',
          SETUP_TIMEOUT: '2s',
          TEARDOWN_TIMEOUT: '2s',
        },
        run: { deadlineGraceMs: 1_500 },
      },
    );
    const { run, target, result } = attacked;
    if (process.env.DUMP) console.log(run.log.text());

    // 2 s setupTimeout + 0.3 s start lead + 3 s maxDuration + 2 s teardownTimeout + 1.5 s grace.
    expect(run.exitCode).toBe(102);
    expect(run.message).toMatch(
      /the run passed its deadline of 8\.8 s .* waiting for agent 2 \(local-2\)/,
    );
    expect(result.exitCode).toBe(102);
    expect(run.agents[1]?.lost).toMatch(/did not finish within the run's deadline/);
    expect(run.agents[0]?.lost).toBeUndefined();
    // Everyone else still gets the end of a k6 run: teardown() once, on agent 1.
    expect(target.count('/setup')).toBe(1);
    expect(target.count('/teardown')).toBe(1);
    expect(target.count('/iteration')).toBe(baseline.iterations);
  }, 120_000);
});

describe('issue 17.13: setup() data stays out of the result file unless asked for', () => {
  it('issue 17.13: the result JSON holds no setup() data by default, and all of it when asked', async () => {
    const noAttack: Attack = () => Promise.resolve([]);
    const plain = await attackedRun(noAttack);
    expectUnchanged(plain, baseline);
    expect(plain.resultText).not.toContain(SECRET);
    expect(plain.resultText).not.toContain('setup_data');

    const asked = await attackedRun(noAttack, { run: { summaryJsonSetupData: true } });
    expectUnchanged(asked, baseline);
    const data = asked.result.data as { setup_data?: unknown };
    expect(data.setup_data).toEqual({ token: 'from-setup', secret: SECRET });
  }, 120_000);
});
