import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { onCleanup } from './cleanup.js';
import { prng } from './random.js';

/**
 * What the network between agents and coordinator does wrong, each a
 * probability per request (seeded, so a failure replays): the faults a
 * Cloudflare quick tunnel shows (design.md §4).
 */
export interface FaultProfile {
  /** PRNG seed; the same seed makes the same choices for the same request order. */
  seed?: number;
  /** Paths that get faults (default: every path but /v1/health). */
  paths?: readonly string[];
  /** Added before forwarding and again before answering: base ± jitter. */
  latencyMs?: number;
  jitterMs?: number;
  /** Answered 429/502/503 by "the edge"; never reaches the coordinator. */
  reject?: number;
  /** Connection reset before forwarding. */
  reset?: number;
  /** Forwarded, then the connection is reset before the answer (applied, answer lost). */
  dropAnswer?: number;
  /** Forwarded, the answer replaced by Cloudflare's 524 (applied, answer lost). */
  timeout524?: number;
  /** Forwarded twice (a replay); the second answer is returned. */
  replay?: number;
  /** Held for `stallMs` (past the long-poll hold), then 524; never forwarded. */
  stall?: number;
  stallMs?: number;
  /**
   * Instead of the probabilities: the faults of consecutive faulty requests,
   * repeated ('ok' passes one through), so every fault surely happens.
   */
  cycle?: ReadonlyArray<Fault | 'ok'>;
  /** Keep a copy of every request that passes (for replay and fuzzing). */
  record?: boolean;
  /**
   * Answers a request itself, never forwarding it, when this returns an
   * answer (a man in the middle that swallows what an agent says).
   */
  answerInstead?: (request: RecordedRequest) => { status: number; body: unknown } | undefined;
  /** Called with each forwarded request and the coordinator's answer (what a wiretap sees). */
  onExchange?: (request: RecordedRequest, answer: { status: number; body: Buffer }) => void;
  /** Replaces a request's body before it is forwarded (a man in the middle); undefined keeps it. */
  rewrite?: (request: RecordedRequest) => Buffer | undefined;
  /** Forwards these, then drops the answer (as `dropAnswer` does). */
  dropAnswerWhen?: (request: RecordedRequest) => boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

export type Fault = 'reject' | 'reset' | 'dropAnswer' | 'timeout524' | 'replay' | 'stall';

/**
 * A loopback HTTP proxy between agents and the coordinator that injects the
 * profile's faults and counts each; `partition()` cuts every connection for a
 * while (a network partition).
 */
export class FaultProxy {
  readonly counts: Record<Fault | 'forwarded', number> = {
    reject: 0,
    reset: 0,
    dropAnswer: 0,
    timeout524: 0,
    replay: 0,
    stall: 0,
    forwarded: 0,
  };
  readonly recorded: RecordedRequest[] = [];
  readonly #random: () => number;
  #partitioned = false;
  #faulty = 0;

  private constructor(
    readonly url: string,
    private readonly upstream: string,
    private readonly profile: FaultProfile,
    private readonly closeServer: () => Promise<void>,
  ) {
    this.#random = prng(profile.seed ?? 1);
  }

  static async start(upstream: string, profile: FaultProfile): Promise<FaultProxy> {
    const holder: { proxy?: FaultProxy } = {};
    const server = createServer((req, res) => {
      void holder.proxy?.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const proxy = new FaultProxy(
      `http://127.0.0.1:${String(port)}`,
      upstream,
      profile,
      async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      },
    );
    holder.proxy = proxy;
    onCleanup(() => proxy.closeServer());
    return proxy;
  }

  /** While partitioned, every request's connection is reset. */
  partition(on: boolean): void {
    this.#partitioned = on;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = Buffer.concat(await req.toArray());
    const path = new URL(req.url ?? '/', this.upstream).pathname;
    const faulty = this.profile.paths ? this.profile.paths.includes(path) : path !== '/v1/health';
    const fault = faulty ? this.#choose() : undefined;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    const recorded = { method: req.method ?? 'GET', path: req.url ?? '/', headers, body };
    if (this.profile.record) this.recorded.push(recorded);
    try {
      if (this.#cut()) return void res.socket?.destroy();
      await this.#delay();
      if (fault) this.counts[fault]++;
      switch (fault) {
        case 'reject': {
          const status = [429, 502, 503][Math.floor(this.#random() * 3)] ?? 502;
          return void res.writeHead(status, { 'content-type': 'text/html' }).end('edge error');
        }
        case 'reset':
          return void res.socket?.destroy();
        case 'stall':
          await sleep(this.profile.stallMs ?? 30_000);
          return void res.writeHead(524, { 'content-type': 'text/html' }).end('a timeout occurred');
        default:
      }
      const instead = this.profile.answerInstead?.(recorded);
      if (instead) {
        const json = JSON.stringify(instead.body);
        return void res.writeHead(instead.status, { 'content-type': 'application/json' }).end(json);
      }
      const sent = this.profile.rewrite?.(recorded) ?? body;
      if (fault === 'replay') await forward(this.upstream, req, sent);
      const answer = await forward(this.upstream, req, sent);
      this.counts.forwarded++;
      this.profile.onExchange?.(recorded, answer);
      // A partition may have started while the request was upstream.
      const drop = fault === 'dropAnswer' || this.profile.dropAnswerWhen?.(recorded) === true;
      if (drop || this.#cut()) return void res.socket?.destroy();
      if (fault === 'timeout524') {
        return void res.writeHead(524, { 'content-type': 'text/html' }).end('a timeout occurred');
      }
      await this.#delay();
      res.writeHead(answer.status, answer.headers).end(answer.body);
    } catch {
      res.socket?.destroy();
    }
  }

  #cut(): boolean {
    return this.#partitioned;
  }

  #choose(): Fault | undefined {
    const cycle = this.profile.cycle;
    if (cycle) {
      const pick = cycle[this.#faulty++ % cycle.length];
      return pick === 'ok' ? undefined : pick;
    }
    const p = this.profile;
    const order: Array<[Fault, number | undefined]> = [
      ['reject', p.reject],
      ['reset', p.reset],
      ['stall', p.stall],
      ['dropAnswer', p.dropAnswer],
      ['timeout524', p.timeout524],
      ['replay', p.replay],
    ];
    return order.find(([, rate]) => this.#random() < (rate ?? 0))?.[0];
  }

  async #delay(): Promise<void> {
    const base = this.profile.latencyMs ?? 0;
    const jitter = this.profile.jitterMs ?? 0;
    const ms = Math.max(0, base + (this.#random() * 2 - 1) * jitter);
    if (ms > 0) await sleep(ms);
  }
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function forward(upstream: string, req: IncomingMessage, body: Buffer): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && key !== 'connection') headers[key] = value;
  }
  if (headers['content-length'] !== undefined) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const out = request(
      new URL(req.url ?? '/', upstream),
      { method: req.method, headers },
      (res) => {
        void res.toArray().then((chunks) =>
          resolve({
            status: res.statusCode ?? 502,
            headers: { 'content-type': res.headers['content-type'] ?? 'application/json' },
            body: Buffer.concat(chunks as Buffer[]),
          }),
        );
      },
    );
    out.once('error', reject);
    out.end(body);
  });
}
