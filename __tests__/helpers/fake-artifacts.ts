import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { unzipSync } from 'fflate';

import { onCleanup } from './cleanup.js';

const TWIRP = '/twirp/github.actions.results.api.v1.ArtifactService/';

interface StoredArtifact {
  id: number;
  name: string;
  blocks: Map<string, Buffer>;
  zip: Buffer;
  finalized: boolean;
}

/**
 * A FAKE of a workflow run's artifact service (artifacts v4), shared by the
 * jobs of a test as GitHub's is by a run's jobs: @actions/artifact's twirp
 * calls (CreateArtifact, FinalizeArtifact, ListArtifacts, GetSignedArtifactURL,
 * DeleteArtifact) and the blob storage behind the signed URLs (Azure's
 * block upload, a zip download). As on GitHub, a name is unique among a
 * run's artifacts (CreateArtifact answers 409) and only finalized artifacts
 * are listed. Point a job at it with `env()`.
 */
export class FakeArtifacts {
  readonly #artifacts: StoredArtifact[] = [];
  readonly #server: Server;
  #nextId = 1;
  /** Twirp methods called, in order. */
  readonly calls: string[] = [];

  private constructor() {
    this.#server = createServer((req, res) => {
      void this.#handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'internal', msg: String(error) }));
      });
    });
  }

  static async start(): Promise<FakeArtifacts> {
    const fake = new FakeArtifacts();
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => {
      fake.#server.closeAllConnections();
      return new Promise<void>((resolve) => fake.#server.close(() => resolve()));
    });
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}`;
  }

  /**
   * What a job's step gets from the runner: the results service URL and a
   * runtime token whose `scp` names the run (@actions/artifact reads the
   * backend ids from it and verifies nothing).
   */
  env(): Record<string, string> {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = `${part({ alg: 'none', typ: 'JWT' })}.${part({
      scp: 'Actions.Results:fake-run:fake-job',
    })}.signature`;
    return { ACTIONS_RUNTIME_TOKEN: token, ACTIONS_RESULTS_URL: `${this.url}/` };
  }

  /** The files of the finalized artifact `name`, unzipped; undefined when there is none. */
  files(name: string): Record<string, string> | undefined {
    const artifact = this.#artifacts.find((a) => a.name === name && a.finalized);
    if (!artifact) return undefined;
    const files = unzipSync(artifact.zip);
    return Object.fromEntries(
      Object.entries(files).map(([path, data]) => [path, Buffer.from(data).toString('utf8')]),
    );
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', this.url);
    if (req.method === 'POST' && url.pathname.startsWith(TWIRP)) {
      const method = url.pathname.slice(TWIRP.length);
      this.calls.push(method);
      const request = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      const { status, answer } = this.#twirp(method, request);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      return;
    }
    const blob = /^\/blob\/(\d+)$/.exec(url.pathname);
    const artifact = this.#artifacts.find((a) => a.id === Number(blob?.[1]));
    if (req.method === 'PUT' && artifact) {
      this.#upload(artifact, url.searchParams, body);
      res.writeHead(201).end();
      return;
    }
    const download = /^\/download\/(\d+)\.zip$/.exec(url.pathname);
    const stored = this.#artifacts.find((a) => a.id === Number(download?.[1]) && a.finalized);
    if (req.method === 'GET' && stored) {
      res.writeHead(200, { 'content-type': 'application/zip' }).end(stored.zip);
      return;
    }
    res.writeHead(404).end();
  }

  /** Azure's block blob upload: blocks staged by id, then committed in the listed order. */
  #upload(artifact: StoredArtifact, query: URLSearchParams, body: Buffer): void {
    if (query.get('comp') === 'block') {
      artifact.blocks.set(query.get('blockid') ?? '', body);
    } else if (query.get('comp') === 'blocklist') {
      const ids = [...body.toString('utf8').matchAll(/<Latest>([^<]*)<\/Latest>/g)];
      artifact.zip = Buffer.concat(
        ids.map(([, id]) => artifact.blocks.get(id ?? '') ?? Buffer.of()),
      );
    }
  }

  #twirp(method: string, request: Record<string, unknown>): { status: number; answer: unknown } {
    const named = (name: unknown) =>
      this.#artifacts.find((a) => a.name === name && a.finalized) ??
      this.#artifacts.find((a) => a.name === name);
    switch (method) {
      case 'CreateArtifact': {
        if (named(request.name)) {
          return {
            status: 409,
            answer: { code: 'already_exists', msg: 'an artifact with this name already exists' },
          };
        }
        const artifact: StoredArtifact = {
          id: this.#nextId++,
          name: String(request.name),
          blocks: new Map(),
          zip: Buffer.of(),
          finalized: false,
        };
        this.#artifacts.push(artifact);
        const upload = `${this.url}/blob/${String(artifact.id)}?sig=fake`;
        return { status: 200, answer: { ok: true, signed_upload_url: upload } };
      }
      case 'FinalizeArtifact': {
        const artifact = named(request.name);
        if (!artifact) return { status: 404, answer: { code: 'not_found', msg: 'no artifact' } };
        artifact.finalized = true;
        return { status: 200, answer: { ok: true, artifact_id: String(artifact.id) } };
      }
      case 'ListArtifacts':
        return { status: 200, answer: { artifacts: this.#list(request) } };
      case 'GetSignedArtifactURL': {
        const artifact = named(request.name);
        if (!artifact) return { status: 404, answer: { code: 'not_found', msg: 'no artifact' } };
        return {
          status: 200,
          answer: { signed_url: `${this.url}/download/${String(artifact.id)}.zip` },
        };
      }
      case 'DeleteArtifact': {
        const artifact = named(request.name);
        if (!artifact) return { status: 404, answer: { code: 'not_found', msg: 'no artifact' } };
        this.#artifacts.splice(this.#artifacts.indexOf(artifact), 1);
        return { status: 200, answer: { ok: true, artifact_id: String(artifact.id) } };
      }
      default:
        return { status: 404, answer: { code: 'bad_route', msg: `no method ${method}` } };
    }
  }

  /** Finalized artifacts, filtered by name or id as ListArtifacts filters them. */
  #list(request: Record<string, unknown>): unknown[] {
    return this.#artifacts
      .filter(
        (a) =>
          a.finalized &&
          (request.name_filter === undefined || a.name === request.name_filter) &&
          (request.id_filter === undefined ||
            String(a.id) === String(request.id_filter as string | number)),
      )
      .map((a) => ({
        workflow_run_backend_id: 'fake-run',
        workflow_job_run_backend_id: 'fake-job',
        database_id: String(a.id),
        name: a.name,
        size: String(a.zip.length),
        created_at: new Date().toISOString(),
      }));
  }
}
