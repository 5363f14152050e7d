/**
 * A fuzzer against a live coordinator while a real run is in progress (real
 * k6, 3 agents): unauthenticated, wrong-token, malformed, schema-breaking,
 * oversized and replayed requests on every route, some with the agents' own
 * tokens captured on the wire. The run's totals and verdict must not change,
 * and the coordinator must never answer 5xx.
 */
import { describe, expect, it } from '@jest/globals';
import { request } from 'undici';

import { PROTOCOL_HEADER, PROTOCOL_VERSION, ROUTES } from '../../src/protocol/messages.js';
import { runDistributed } from '../helpers/distributed.js';
import { FaultProxy, type RecordedRequest } from '../helpers/fault-proxy.js';
import { fixtureScript } from '../helpers/k6.js';
import { prng } from '../helpers/random.js';
import { TargetServer } from '../helpers/target-server.js';

/** Upper bound; the fuzzer stops when the run ends. */
const FUZZ_REQUESTS = 3_000;

interface Shot {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** One hostile request, built from what the agents really sent so far. */
function shot(random: () => number, seen: readonly RecordedRequest[]): Shot {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const protocol = { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };
  const real = seen.length ? pick(seen) : undefined;
  const token = real?.headers.authorization ?? 'Bearer none';
  const routes = Object.values(ROUTES);
  switch (Math.floor(random() * 7)) {
    case 0: // no credentials at all
      return { method: pick(['GET', 'POST'] as const), path: pick(routes), headers: protocol };
    case 1: // a made-up token
      return {
        method: 'POST',
        path: pick([ROUTES.events, ROUTES.metrics, ROUTES.register]),
        headers: { ...protocol, authorization: `Bearer ${Math.random().toString(36)}` },
        body: '{}',
      };
    case 2: // malformed JSON with a real token
      return {
        method: 'POST',
        path: pick([ROUTES.events, ROUTES.metrics]),
        headers: { ...protocol, authorization: token, 'content-type': 'application/json' },
        body: pick(['{', 'null', '[]', '{"seq":', '\u0000\u0001', '{"seq":"1"}']),
      };
    case 3: // schema-breaking bodies with a real token
      return {
        method: 'POST',
        path: pick([ROUTES.events, ROUTES.metrics]),
        headers: { ...protocol, authorization: token, 'content-type': 'application/json' },
        body: JSON.stringify(
          pick([
            { seq: -1, event: { type: 'finished' } },
            { seq: 1e20, event: { type: 'nope' } },
            { seq: 1, final: 'yes', delta: { metrics: 7 } },
            {
              seq: 2,
              final: false,
              delta: {
                metrics: [],
                groups: [],
                series: [{ kind: 'total', metric: 'x', sink: { t: 'trend', h: 'bad' } }],
              },
            },
          ]),
        ),
      };
    case 4: // oversized, with a real token
      return {
        method: 'POST',
        path: pick([ROUTES.events, ROUTES.metrics, ROUTES.register]),
        headers: { ...protocol, authorization: token, 'content-type': 'application/json' },
        body: Buffer.alloc(20 * 1024 * 1024, 0x20),
      };
    case 5: // a wrong protocol version, unknown routes and methods
      return {
        method: pick(['GET', 'PUT'] as const),
        path: pick([
          '/v2/register',
          '/../../etc/passwd',
          '/v1/instruction?after=-1',
          '/v1/instruction?after=x',
        ]),
        headers: { [PROTOCOL_HEADER]: '999', authorization: token },
      };
    default: // an exact replay of something an agent sent
      if (!real || real.path.startsWith(ROUTES.instruction)) {
        return { method: 'GET', path: ROUTES.health, headers: {} };
      }
      return {
        method: real.method as Shot['method'],
        path: real.path,
        headers: real.headers,
        body: real.body.length ? real.body : undefined,
      };
  }
}

describe('fuzzing a live coordinator (real k6, 3 agents)', () => {
  it('keeps the run totals and verdict, and never answers 5xx', async () => {
    const target = await TargetServer.start();
    const statuses = new Map<number, number>();
    let fuzzing: Promise<void> = Promise.resolve();
    let proxy: FaultProxy | undefined;
    const state = { over: false, sent: 0 };
    const run = await runDistributed({
      script: fixtureScript('metrics.js'),
      flags: [
        '-e',
        `TARGET=${target.url}`,
        '-e',
        'EXECUTOR=constant',
        '-e',
        'DURATION=3s',
        '-e',
        'SLEEP=0.05',
        '-e',
        // Passes only if every iteration's checks arrived: the even check passes half the time.
        'THRESHOLDS={"checks":["rate>0.4"]}',
      ],
      startLeadMs: 1_000,
      agentUrl: async (url) => {
        const recorder = await FaultProxy.start(url, { paths: [], record: true });
        proxy = recorder;
        const random = prng(7);
        fuzzing = (async () => {
          for (let i = 0; i < FUZZ_REQUESTS && !state.over; i++) {
            const s = shot(random, recorder.recorded);
            state.sent++;
            const answer = await request(`${url}${s.path}`, {
              method: s.method,
              headers: s.headers,
              body: s.body,
            }).catch(() => undefined);
            if (!answer) continue; // an oversized body may be cut off by the server
            statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
            await answer.body.dump();
          }
        })();
        return recorder.url;
      },
    });
    state.over = true;
    await fuzzing;

    // The verdict and the totals are those of an undisturbed run.
    expect(run.exitCode).toBe(0);
    expect(run.agents.every((a) => a.lost === undefined)).toBe(true);
    expect(target.count('/setup')).toBe(1);
    expect(target.count('/teardown')).toBe(1);
    const count = (metric: string) => run.summary.metrics.get(metric)?.sink.values(0, []).count;
    expect(count('iterations')).toBe(target.count('/iteration'));
    expect(count('http_reqs')).toBe(target.count('/iteration') + 2);
    expect(run.agents.reduce((sum, a) => sum + (a.totals?.iterations ?? 0), 0)).toBe(
      target.count('/iteration'),
    );
    // Every hostile request was refused as a client error (replays are answered 200, applied once).
    const answered = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(answered).toBeGreaterThan(200);
    expect(proxy?.recorded.length).toBeGreaterThan(20);
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    for (const status of [400, 401, 404, 413]) expect(statuses.get(status)).toBeGreaterThan(0);
  }, 120_000);
});
