import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The demo's built-in load target on 127.0.0.1: answers every request with a
 * small body after a short delay and counts requests per path, so the demo can
 * show that the totals add up.
 */
export class DemoTarget {
  readonly counts = new Map<string, number>();
  readonly #server: Server;

  private constructor() {
    this.#server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://target').pathname;
      this.counts.set(path, (this.counts.get(path) ?? 0) + 1);
      req.resume();
      setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'), 5);
    });
  }

  static async start(): Promise<DemoTarget> {
    const target = new DemoTarget();
    await new Promise<void>((resolve) => target.#server.listen(0, '127.0.0.1', resolve));
    return target;
  }

  get url(): string {
    return `http://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
