/**
 * The load target: a minimal HTTP server on loopback in its own process (so
 * it never shares an event loop with what is measured). It counts requests,
 * stamps the first and last, remembers the first request of every key
 * (`/first?key=…`), and can start answering 500 after a number of requests.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

import { wallMs } from './util.js';

export interface TargetStats {
  count: number;
  /** Wall-clock ms of the first and last request. */
  first: number;
  last: number;
  /** First request time per key. */
  firstByKey: Record<string, number>;
  /** When the first 500 was answered. */
  firstFailAt: number;
  failed: number;
}

type Command = { type: 'reset'; failAfter?: number } | { type: 'stats' };

function runChild(): void {
  let stats: TargetStats;
  let failAfter = Infinity;
  const reset = (after?: number) => {
    stats = { count: 0, first: 0, last: 0, firstByKey: {}, firstFailAt: 0, failed: 0 };
    failAfter = after ?? Infinity;
  };
  reset();
  const server = createServer((req, res) => {
    const t = wallMs();
    const s = stats;
    s.count++;
    if (s.count === 1) s.first = t;
    s.last = t;
    const url = req.url ?? '/';
    if (url.startsWith('/first?')) {
      const key = new URLSearchParams(url.slice(7)).get('key') ?? '';
      s.firstByKey[key] ??= t;
    }
    if (s.count > failAfter) {
      if (s.failed++ === 0) s.firstFailAt = t;
      res.statusCode = 500;
    }
    res.end('ok');
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.send?.({ type: 'listening', url: `http://127.0.0.1:${String(port)}` });
  });
  process.on('message', (m: Command) => {
    if (m.type === 'reset') reset(m.failAfter);
    process.send?.({ type: 'reply', stats });
  });
  process.on('disconnect', () => process.exit(0));
}

export class Target {
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(): Promise<Target> {
    const child = fork(fileURLToPath(import.meta.url), ['--target-child'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.once('error', reject);
      child.once('message', (m: { url: string }) => resolve(m.url));
    });
    return new Target(url, child);
  }

  #ask(command: Command): Promise<TargetStats> {
    const answer = this.#queue.then(
      () =>
        new Promise<TargetStats>((resolve) => {
          this.child.once('message', (m: { stats: TargetStats }) => resolve(m.stats));
          this.child.send(command);
        }),
    );
    this.#queue = answer;
    return answer;
  }

  /** Forgets every count; with `failAfter`, answers 500 from request failAfter+1 on. */
  async reset(failAfter?: number): Promise<void> {
    await this.#ask({ type: 'reset', failAfter });
  }

  stats(): Promise<TargetStats> {
    return this.#ask({ type: 'stats' });
  }

  /** Requests per second between the first and the last request (the load phase). */
  static rate(s: TargetStats): number {
    return s.count > 1 ? ((s.count - 1) * 1000) / (s.last - s.first) : NaN;
  }

  close(): void {
    this.child.disconnect();
  }
}

if (process.argv.includes('--target-child')) runChild();
