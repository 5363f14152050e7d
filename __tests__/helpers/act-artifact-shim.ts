import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { onCleanup } from './cleanup.js';

/**
 * A loopback pass-through in front of act's artifact server that drops the
 * `mime_type` field @actions/artifact 6 sends in CreateArtifact: act v0.2.87
 * rejects unknown fields (nektos/act#6022, open). Everything else, and the
 * server itself, is act's; act points jobs here when ACTIONS_RUNTIME_URL is
 * set in its environment (pkg/runner/run_context.go setActionRuntimeVars).
 * It also restores the `=` padding of the signed upload URL's `sig`, which
 * the blob client drops and act's base64 decoder needs (artifacts_v4.go
 * verifySignature answers "Error unauthorized" without it).
 */
export class ActArtifactShim {
  readonly #server: Server;
  readonly #upstreamPort: number;
  createCalls = 0;

  private constructor(upstreamPort: number) {
    this.#upstreamPort = upstreamPort;
    this.#server = createServer((req, res) => {
      void this.#forward(req).then(
        (upstream) => {
          res.writeHead(upstream.statusCode ?? 502, upstream.headers);
          upstream.pipe(res);
        },
        (error: unknown) => res.writeHead(502).end(String(error)),
      );
    });
  }

  static async start(upstreamPort: number): Promise<ActArtifactShim> {
    const shim = new ActArtifactShim(upstreamPort);
    await new Promise<void>((resolve) => shim.#server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => shim.close());
    return shim;
  }

  get url(): string {
    return `http://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}/`;
  }

  async #forward(req: IncomingMessage): Promise<IncomingMessage> {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    let body = Buffer.concat(chunks);
    if (req.url?.endsWith('/CreateArtifact')) {
      this.createCalls++;
      const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      delete json.mime_type;
      body = Buffer.from(JSON.stringify(json));
    }
    const headers = { ...req.headers, 'content-length': String(body.length) };
    const path = repadSignature(req.url ?? '/');
    return new Promise((resolve, reject) => {
      const upstream = request(
        { host: '127.0.0.1', port: this.#upstreamPort, method: req.method, path, headers },
        resolve,
      );
      upstream.once('error', reject);
      upstream.end(body);
    });
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Pads the `sig` query value back to a multiple of 4 base64 characters. */
export function repadSignature(url: string): string {
  return url.replace(/([?&]sig=)([A-Za-z0-9_-]+)(?=&|$)/, (_, key: string, sig: string) => {
    return key + sig + '='.repeat((4 - (sig.length % 4)) % 4);
  });
}
