import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { onCleanup } from './cleanup.js';

export interface ReplayProxyOptions {
  /** Requests on this path get the faults; others pass through. */
  path: string;
  /** Every Nth request: forwarded, then the connection is dropped before the answer. */
  dropAnswerEvery: number;
  /** Every Nth request: forwarded twice (a replay), the second answer returned. */
  replayEvery: number;
}

/**
 * A loopback proxy between agents and the coordinator that loses answers and
 * replays requests on one path, counting what it did. A dropped answer means
 * the coordinator applied the request but the agent must retry it.
 */
export class ReplayProxy {
  dropped = 0;
  replayed = 0;
  #seen = 0;

  private constructor(
    readonly url: string,
    private readonly close: () => Promise<void>,
  ) {}

  static async start(upstream: string, options: ReplayProxyOptions): Promise<ReplayProxy> {
    const holder: { proxy?: ReplayProxy } = {};
    const server = createServer((req, res) => {
      void holder.proxy?.handle(upstream, options, req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const proxy = new ReplayProxy(`http://127.0.0.1:${String(port)}`, async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    holder.proxy = proxy;
    onCleanup(() => proxy.close());
    return proxy;
  }

  private async handle(
    upstream: string,
    options: ReplayProxyOptions,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const body = Buffer.concat(await req.toArray());
    const faulty = new URL(req.url ?? '/', upstream).pathname === options.path;
    const n = faulty ? ++this.#seen : 0;
    try {
      if (faulty && n % options.replayEvery === 0) {
        await forward(upstream, req, body);
        this.replayed++;
      }
      const answer = await forward(upstream, req, body);
      if (faulty && n % options.dropAnswerEvery === 0) {
        this.dropped++;
        res.socket?.destroy();
        return;
      }
      res.writeHead(answer.status, answer.headers).end(answer.body);
    } catch {
      res.socket?.destroy();
    }
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
