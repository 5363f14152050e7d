/**
 * Issue 17, items 4, 7 and 8: what one agent (or anyone on the network) can
 * make the coordinator hold: distinct checks and series, connections, and
 * request bodies. Each on the real coordinator over HTTP with honest real-k6
 * agents, whose run must end as it would undisturbed.
 */
import { stat, readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import {
  METRIC_LIMITS,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  ROUTES,
  type DeltaMessage,
} from '../../src/protocol/messages.js';
import { ROUTE_MAX_BYTES } from '../../src/coordinator/server.js';
import { onCleanup } from '../helpers/cleanup.js';
import { CliProcess } from '../helpers/cli-process.js';
import { CompromisedAgent, withCheckSamples } from '../helpers/compromised-agent.js';
import { runDistributed } from '../helpers/distributed.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

function vars(target: TargetServer, extra: Record<string, string>): string[] {
  return Object.entries({ TARGET: target.url, ...extra }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
}

/** What every honest run of metrics.js with ITERATIONS=60 ends with, whatever an attacker did. */
function expectHonestOutcome(
  run: Awaited<ReturnType<typeof runDistributed>>,
  target: TargetServer,
): void {
  expect(run.exitCode).toBe(0);
  expect(target.count('/setup')).toBe(1);
  expect(target.count('/iteration')).toBe(60);
  expect(target.count('/teardown')).toBe(1);
  const count = (metric: string) => run.summary.metrics.get(metric)?.sink.values(0, []).count;
  expect(count('iterations')).toBe(60);
  expect(count('http_reqs')).toBe(62);
  const check = (name: string) => run.summary.checks.find((c) => c.name === name);
  expect(check('status is 200')).toMatchObject({ passes: 60, fails: 0 });
  expect(check('token arrived')).toMatchObject({ passes: 60, fails: 0 });
  // Which VU runs which of the 60 shared iterations is timing, in one k6 too: each VU's
  // __ITER counts from 0, so at least half are even (CI once saw 31 and 29).
  const even = check('iteration is even');
  expect((even?.passes ?? 0) + (even?.fails ?? 0)).toBe(60);
  expect(even?.passes).toBeGreaterThanOrEqual(30);
}

describe('issue 17.4: cumulative per-agent limits at the coordinator', () => {
  it('issue 17.4: 150k unique checks from one agent end quickly with a small summary; the run is unchanged', async () => {
    const target = await TargetServer.start();
    const evil = new CompromisedAgent();
    const dir = await tempDir();
    const summaryJson = join(dir, 'summary.json');
    const exportPath = join(dir, 'export.json');
    const stdout: string[] = [];
    const perDelta = METRIC_LIMITS.maxSeriesPerDelta;
    // Agent 2's own next three deltas carry 50,000 unique checks each besides its
    // real data: a compromised agent job, keeping its sequence numbers honest.
    const tamper = evil.tamper(
      1,
      ROUTES.metrics,
      (body, nth) => {
        const report = body as DeltaMessage;
        const fakes = perDelta - report.delta.series.length - 1;
        for (let i = 0; i < fakes; i++) {
          report.delta.series.push({
            kind: 'check',
            name: `c${String(nth)}-${String(i)}`,
            group: '',
            scenario: 'main',
            passes: 1,
            fails: 0,
          });
        }
        // Consistent with its own checks metric, or issue 17.5 refuses the delta as impossible.
        withCheckSamples(report, fakes);
        return report;
      },
      3,
    );
    const started = performance.now();
    const run = await runDistributed({
      agents: 2,
      script: fixtureScript('metrics.js'),
      flags: [...vars(target, { ITERATIONS: '60', SLEEP: '0.2' }), '--summary-export', exportPath],
      metricsIntervalMs: 200,
      // The JSON stream: the agent's first deltas carry its real checks before the fakes
      // spend its budget. On the cloud transport they come 1-2 s later, after the three
      // poisoned deltas, and this agent's own checks are dropped (its own share only).
      transport: 'json',
      agentUrl: evil.intercept,
      summaryJson,
      output: { stdout: (t) => stdout.push(String(t)), stderr: () => {}, isTTY: false },
    });
    const seconds = (performance.now() - started) / 1000;

    // Each poisoned delta was taken (its honest part counts), none refused.
    expect((await tamper.answered()).map((a) => a.status)).toEqual([200, 200, 200]);
    expectHonestOutcome(run, target);
    // The agent's checks stop at its limit (its own 3 included): at most 1,000 besides the other's.
    expect(run.summary.checks.length).toBeLessThanOrEqual(3 + METRIC_LIMITS.maxChecks);
    expect(run.summary.checks.length).toBeGreaterThanOrEqual(METRIC_LIMITS.maxChecks);
    const warnings = run.log.lines.filter((l) => /more than 1000 distinct checks/.test(l));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^warning: agent 2 \(local-2\) reported more than 1000 distinct checks/,
      ),
    ]);
    // Small outputs: on main, 150k checks made a 40 MB summary.json.
    const sizes = {
      summaryJson: (await stat(summaryJson)).size,
      export: (await stat(exportPath)).size,
      stdout: stdout.join('').length,
    };
    expect(sizes.summaryJson).toBeLessThan(2_000_000);
    expect(sizes.export).toBeLessThan(1_000_000);
    expect(JSON.parse(await readFile(summaryJson, 'utf8'))).toMatchObject({ exitCode: 0 });
    console.log(`issue 17.4: run ${seconds.toFixed(1)} s, sizes ${JSON.stringify(sizes)}`);
  });
});

/** One POST as agent `token` whose body is sent but for its last byte until `finish()`. */
function heldBody(url: string, token: string, body: Buffer) {
  const req = httpRequest(url, {
    method: 'POST',
    agent: false,
    headers: {
      [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'content-length': body.length,
    },
  });
  const held: {
    flushed: boolean;
    status?: number | 'reset';
    answer: Promise<number | 'reset'>;
    finish: () => void;
  } = {
    flushed: false,
    answer: new Promise<number | 'reset'>((resolve) => {
      req.once('response', (res) => {
        res.resume();
        resolve((held.status = res.statusCode ?? 0));
      });
      req.once('error', () => resolve((held.status ??= 'reset')));
    }),
    finish: () => {
      if (!req.destroyed) req.end(body.subarray(body.length - 1));
    },
  };
  req.write(body.subarray(0, body.length - 1), () => (held.flushed = true));
  return held;
}

/** Resolves when `ready()` holds, checking as the event loop turns (at most `ms`). */
async function until(ready: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!ready() && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
  return ready();
}

describe('issue 17.8: memory from request bodies', () => {
  it("issue 17.8: an honest run at the agent's own limits (1,000 groups and checks, full summary) still passes", async () => {
    const target = await TargetServer.start();
    const sizes: number[] = [];
    const evil = new CompromisedAgent();
    // The wiretap only measures here: the largest deltas an honest agent sends.
    evil.tamper(
      0,
      ROUTES.metrics,
      (body) => {
        sizes.push(JSON.stringify(body).length);
        return body;
      },
      1_000,
    );
    const run = await runDistributed({
      agents: 2,
      script: fixtureScript('many-groups.js'),
      flags: ['-e', `TARGET=${target.url}`, '--summary-mode=full'],
      agentUrl: evil.intercept,
    });

    expect(run.exitCode).toBe(0);
    expect(target.count('/iteration')).toBe(4_000);
    expect(run.summary.metrics.get('http_reqs')?.sink.values(0, []).count).toBe(4_000);
    expect(run.summary.checks).toHaveLength(METRIC_LIMITS.maxChecks);
    expect(run.summary.checks.reduce((n, c) => n + c.passes, 0)).toBe(4_000);
    expect(run.summary.parts.length).toBeGreaterThanOrEqual(METRIC_LIMITS.maxParts);
    // The agents warn of their own limit (1,000 groups and the root part); the coordinator accepts all.
    expect(run.log.lines.filter((l) => /reported more than|refused a connection/.test(l))).toEqual(
      [],
    );
    // Large, and within the route's limit with room (ROUTE_MAX_BYTES.metrics, 8 MiB).
    expect(Math.max(...sizes)).toBeGreaterThan(500_000);
    expect(Math.max(...sizes)).toBeLessThan(ROUTE_MAX_BYTES.metrics / 2);
    console.log(`issue 17.8: largest honest delta ${String(Math.max(...sizes))} bytes`);
  });

  it('issue 17.8: N concurrent large bodies with a valid token are refused early; memory does not grow with N', async () => {
    const target = await TargetServer.start();
    const evil = new CompromisedAgent();
    const n = 30;
    const size = 4 * 1024 * 1024;
    const body = Buffer.alloc(size, 'x');
    const results: {
      statuses: (number | 'reset')[];
      growth: number;
      tooLarge: (number | 'reset' | undefined)[];
    } = {
      statuses: [],
      growth: 0,
      tooLarge: [],
    };
    const attacked = (async () => {
      const { token } = await evil.sent(1, ROUTES.metrics);
      const url = `${evil.coordinatorUrl}${ROUTES.metrics}`;
      const before = process.memoryUsage().arrayBuffers;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      }, 5);
      const bodies = Array.from({ length: n }, () => heldBody(url, token, body));
      const answered = new Set<number>();
      bodies.forEach((b, i) => void b.answer.then(() => answered.add(i)));
      // Each body is either answered or handed to the coordinator (all but its last byte).
      await until(() => bodies.every((b, i) => b.flushed || answered.has(i)), 15_000);
      // Let the coordinator read what it was handed (main read every body at once).
      await until(() => false, 200);
      clearInterval(sampler);
      results.growth = peak - before;
      for (const b of bodies) b.finish();
      results.statuses = await Promise.all(bodies.map((b) => b.answer));
      // Over the route's limit: refused from its declared length, before it is read.
      const big = heldBody(url, token, Buffer.alloc(9 * 1024 * 1024, 'x'));
      const event = heldBody(
        `${evil.coordinatorUrl}${ROUTES.events}`,
        token,
        Buffer.alloc(1024 * 1024, 'x'),
      );
      // Answered before their last byte is sent (main read up to 16 MiB of either first).
      await until(() => big.status !== undefined && event.status !== undefined, 5_000);
      results.tooLarge = [big.status, event.status];
      big.finish();
      event.finish();
    })();
    const run = await runDistributed({
      agents: 2,
      script: fixtureScript('metrics.js'),
      flags: vars(target, { ITERATIONS: '60', SLEEP: '0.2' }),
      metricsIntervalMs: 200,
      agentUrl: evil.intercept,
    });
    await attacked;
    const counted = (status: number | 'reset') =>
      results.statuses.filter((s) => s === status).length;
    console.log(
      `issue 17.8: ${String(n)} × 4 MiB bodies: statuses ${JSON.stringify(
        Object.fromEntries([400, 429, 'reset'].map((s) => [s, counted(s as never)])),
      )}, memory growth ${(results.growth / 1024 / 1024).toFixed(1)} MiB`,
    );

    expectHonestOutcome(run, target);
    // Two bodies read at once (then refused as not JSON), every other one answered 429 unread.
    expect(counted(400)).toBeLessThanOrEqual(2);
    expect(counted(429) + counted('reset')).toBeGreaterThanOrEqual(n - 2);
    expect(counted(429)).toBeGreaterThan(0);
    // The coordinator held at most the two bodies it reads, not N of them (main: N × 4 MiB).
    expect(results.growth).toBeLessThan(6 * size);
    expect(results.tooLarge).toEqual([413, 413]);
    // Each refusal said once per agent and limit, naming both; the rest at debug level.
    expect(run.log.lines.filter((l) => /refused a request body/.test(l))).toEqual([
      expect.stringMatching(
        /^warning: refused a request body: agent 2 \(local-2\) is already sending 2 request bodies/,
      ),
      expect.stringMatching(
        /^warning: refused a request body: agent 2 \(local-2\): request body over 8388608 bytes/,
      ),
    ]);
  });
});

/** A socket from `localAddress` that sends nothing, or a header line every `trickleMs`. */
function slowSocket(url: string, localAddress: string, trickleMs?: number) {
  const { hostname, port } = new URL(url);
  const state = { closed: false, answer: '' };
  const socket: Socket = connect({ host: hostname, port: Number(port), localAddress });
  let trickle: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    if (trickleMs === undefined) return;
    socket.write(`GET ${ROUTES.health} HTTP/1.1\r\nHost: x\r\n`);
    trickle = setInterval(() => socket.write('X-Slow: 1\r\n'), trickleMs);
  });
  socket.on('data', (chunk: Buffer) => (state.answer += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.on('close', () => {
    clearInterval(trickle);
    state.closed = true;
  });
  onCleanup(() => void socket.destroy());
  return state;
}

describe('issue 17.7: connection exhaustion without a credential', () => {
  it('issue 17.7: 400 idle sockets against a coordinator with ulimit -n 256 leave the run and its output files intact', async () => {
    const target = await TargetServer.start();
    const dir = await tempDir();
    const out = {
      export: join(dir, 'export.json'),
      result: join(dir, 'result.json'),
      report: join(dir, 'report.html'),
    };
    const env = { K6_DISTRIBUTED_SECRET: 'a-test-secret-of-32-characters!!' };
    const coordinator = new CliProcess(
      [
        'coordinator',
        '--agents',
        '2',
        ...vars(target, { ITERATIONS: '60', SLEEP: '0.1' }),
        '--summary-export',
        out.export,
        '--summary-json',
        out.result,
        '--report-html',
        out.report,
        fixtureScript('metrics.js'),
      ],
      env,
      { fdLimit: 256 },
    );
    const url = (await coordinator.waitForLine(/^http:\/\/127\.0\.0\.1:\d+$/)).trim();
    // More sockets than the coordinator has descriptors, from one address, before any agent.
    const sockets = Array.from({ length: 400 }, () => slowSocket(url, '127.0.0.2'));
    await until(() => sockets.filter((s) => s.closed).length >= 300, 10_000);
    const agents = [0, 1].map(() => new CliProcess(['agent', '--coordinator', url], env));

    expect((await coordinator.exited).code).toBe(0);
    expect((await Promise.all(agents.map((a) => a.exited))).map((e) => e.code)).toEqual([0, 0]);
    expect(target.count('/setup')).toBe(1);
    expect(target.count('/iteration')).toBe(60);
    expect(target.count('/teardown')).toBe(1);
    expect(JSON.parse(await readFile(out.result, 'utf8'))).toMatchObject({ exitCode: 0 });
    expect(JSON.parse(await readFile(out.export, 'utf8'))).toHaveProperty('metrics.iterations');
    expect(await readFile(out.report, 'utf8')).toContain('<span class="verdict passed">');
    expect(coordinator.text()).not.toMatch(/EMFILE/);
    expect(coordinator.text()).toMatch(/refused a connection: more than 24 connections from/);
  });

  it('issue 17.7: slow and idle sockets are capped per address and overall and closed soon; the run is unchanged', async () => {
    const target = await TargetServer.start();
    const limits = { perAddress: 12, total: 48, firstByteMs: 1_000 };
    const attackers: { closed: boolean; answer: string }[] = [];
    const slowHeaders: { closed: boolean; answer: string }[] = [];
    let closedAtTeardown = -1;
    void target.waitForCount('/teardown', 1).then(() => {
      closedAtTeardown = [...attackers, ...slowHeaders].filter((a) => a.closed).length;
    });
    const run = await runDistributed({
      agents: 2,
      script: fixtureScript('metrics.js'),
      flags: vars(target, { ITERATIONS: '60', SLEEP: '0.2' }),
      serverLimits: { connections: limits, headersTimeoutMs: 1_000 },
      // Before any agent joins: 60 idle sockets from one address, 30 more from
      // 30 others (past the overall cap), 5 that trickle their headers.
      agentUrl: (url) => {
        for (let i = 0; i < 60; i++) attackers.push(slowSocket(url, '127.0.0.2'));
        for (let i = 0; i < 30; i++) attackers.push(slowSocket(url, `127.0.1.${String(i + 1)}`));
        for (let i = 0; i < 5; i++) slowHeaders.push(slowSocket(url, '127.0.0.3', 200));
        return Promise.resolve(url);
      },
    });

    expectHonestOutcome(run, target);
    // Every attacking socket was closed by the coordinator before the run's end:
    // past a cap at once, the rest once silent for firstByteMs (main kept idle ones forever).
    expect(closedAtTeardown).toBe(attackers.length + slowHeaders.length);
    // Trickled headers got 408 at the (shortened) headers timeout.
    for (const s of slowHeaders) expect(s.answer).toMatch(/^HTTP\/1\.1 408/);
    // Refusals are said once, as a warning; the rest at debug level.
    const refusals = run.log.lines.filter((l) => /refused a connection/.test(l));
    expect(refusals.filter((l) => l.startsWith('warning: '))).toHaveLength(1);
    expect(refusals.length).toBeGreaterThanOrEqual(60 - limits.perAddress);
    console.log(`issue 17.7: ${String(refusals.length)} connections refused at once`);
  });
});
