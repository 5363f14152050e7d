import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { onCleanup } from './cleanup.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
  /** When the request arrived (epoch ms). */
  atMs: number;
}

export interface TargetResponse {
  status?: number;
  delayMs?: number;
  body?: string | Buffer;
}

/**
 * A load-test target on 127.0.0.1 (port 0) that records every request and
 * counts them per path. Responses are configurable per path or for all paths.
 * Closed automatically after the test.
 */
export class TargetServer {
  readonly #server: Server;
  readonly #requests: RecordedRequest[] = [];
  readonly #responses = new Map<string, TargetResponse>();
  readonly #waiters = new Set<() => void>();
  #fallback: TargetResponse = {};

  private constructor(fallback: TargetResponse) {
    this.#fallback = fallback;
    this.#server = createServer((req, res) => {
      void this.handle(req).then(({ status, body }) => res.writeHead(status).end(body));
    });
    this.#server.keepAliveTimeout = 1_000;
  }

  static async start(response: TargetResponse = {}): Promise<TargetServer> {
    const target = new TargetServer(response);
    await new Promise<void>((resolve) => target.#server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => target.close());
    return target;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Sets the response for one path ('*' for every path without its own). */
  respond(path: string, response: TargetResponse): void {
    if (path === '*') this.#fallback = response;
    else this.#responses.set(path, response);
  }

  requests(path?: string): RecordedRequest[] {
    return this.#requests.filter((r) => path === undefined || r.path === path);
  }

  count(path: string): number {
    return this.requests(path).length;
  }

  /** Resolves once `path` has received at least `n` requests. */
  async waitForCount(path: string, n: number): Promise<void> {
    while (this.count(path) < n) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
      });
    }
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<{ status: number; body: string | Buffer }> {
    const atMs = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', this.url);
    this.#requests.push({
      atMs,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      body: Buffer.concat(chunks).toString('utf8'),
    });
    for (const wake of [...this.#waiters]) wake();
    const {
      status = 200,
      delayMs = 0,
      body = 'ok',
    } = this.#responses.get(url.pathname) ?? this.#fallback;
    if (delayMs > 0) await sleep(delayMs);
    return { status, body };
  }
}
