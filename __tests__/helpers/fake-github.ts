import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { strToU8, zipSync } from 'fflate';

import { onCleanup } from './cleanup.js';

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
  authorization: string | undefined;
}

/** A workflow run as the runs list returns it (the fields the action reads). */
export interface FakeRun {
  id: number;
  run_number: number;
  event: string;
  status: 'completed';
  conclusion: string | null;
  head_branch: string;
  head_sha: string;
  html_url: string;
  /** Listed under GET /repos/o/r/actions/workflows/{workflow}/runs. */
  workflow: string;
}

/** A run's artifact: its files are served zipped, as GitHub's blob storage serves them. */
export interface FakeArtifact {
  id: number;
  runId: number;
  name: string;
  expired: boolean;
  files: Record<string, string>;
  /** As listed; the files' length unless set. */
  sizeInBytes?: number;
}

export interface FakeComment {
  id: number;
  body: string;
  user: { login: string; type: 'Bot' | 'User' };
}

/**
 * A recording FAKE of the few GitHub REST routes the action uses (the real
 * API cannot be reached from tests): issue comments with pagination (Link
 * headers, per_page), comment edits, check runs, /user (403 for the
 * workflow's GITHUB_TOKEN, as on GitHub), a workflow's runs by branch and
 * status, a run's artifacts, and an artifact's download (302 to a zip on
 * fake blob storage). Any route can be told to fail.
 */
export class FakeGitHub {
  readonly calls: RecordedCall[] = [];
  readonly comments = new Map<number, FakeComment[]>();
  readonly checkRuns: Array<Record<string, unknown>> = [];
  /** Newest first, as GitHub lists them. */
  readonly runs: FakeRun[] = [];
  readonly artifacts: FakeArtifact[] = [];
  /** `METHOD /path-prefix` → status to answer instead. */
  readonly failures = new Map<string, number>();
  readonly #server: Server;
  #nextId = 1000;

  private constructor() {
    this.#server = createServer((req, res) => {
      const blob = /^\/blob\/(\d+)\.zip$/.exec(req.url ?? '');
      if (blob) {
        const artifact = this.artifacts.find((a) => a.id === Number(blob[1]));
        this.calls.push({
          method: 'GET',
          path: req.url ?? '',
          body: undefined,
          authorization: undefined,
        });
        if (!artifact) return void res.writeHead(404).end();
        const zip = zipSync(
          Object.fromEntries(Object.entries(artifact.files).map(([k, v]) => [k, strToU8(v)])),
        );
        res.writeHead(200, { 'content-type': 'application/zip' }).end(Buffer.from(zip));
        return;
      }
      void this.#handle(req).then(({ status, body, headers }) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      });
    });
  }

  static async start(): Promise<FakeGitHub> {
    const fake = new FakeGitHub();
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => fake.#server.close(() => resolve())));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${String((this.#server.address() as AddressInfo).port)}`;
  }

  /** Seeds a PR with comments by others. */
  addComment(issue: number, body: string, login: string, type: 'Bot' | 'User' = 'User'): void {
    const list = this.comments.get(issue) ?? [];
    list.push({ id: this.#nextId++, body, user: { login, type } });
    this.comments.set(issue, list);
  }

  /** Seeds a completed run of `workflow` (newest first) and returns it. */
  addRun(run: Partial<FakeRun> & Pick<FakeRun, 'workflow' | 'conclusion'>): FakeRun {
    const id = this.#nextId++;
    const full: FakeRun = {
      id,
      run_number: id,
      event: 'push',
      status: 'completed',
      head_branch: 'main',
      head_sha: 'b'.repeat(40),
      html_url: `https://github.com/acme/shop/actions/runs/${String(id)}`,
      ...run,
    };
    this.runs.unshift(full);
    return full;
  }

  /** Seeds an artifact of a run, with its files. */
  addArtifact(runId: number, name: string, files: Record<string, string>, expired = false) {
    const artifact: FakeArtifact = { id: this.#nextId++, runId, name, expired, files };
    this.artifacts.push(artifact);
    return artifact;
  }

  writes(): RecordedCall[] {
    return this.calls.filter((c) => c.method !== 'GET');
  }

  async #handle(
    req: IncomingMessage,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    this.calls.push({
      method,
      path: url.pathname,
      body: text ? (JSON.parse(text) as unknown) : undefined,
      authorization: req.headers.authorization,
    });
    for (const [route, status] of this.failures) {
      const [m, prefix] = route.split(' ');
      if (m === method && prefix !== undefined && url.pathname.startsWith(prefix)) {
        return { status, body: { message: 'Resource not accessible by integration' } };
      }
    }
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (method === 'GET' && url.pathname === '/user') {
      return { status: 403, body: { message: 'Resource not accessible by integration' } };
    }
    let match = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(url.pathname);
    if (match) {
      const issue = Number(match[1]);
      const list = this.comments.get(issue) ?? [];
      if (method === 'POST') {
        const comment: FakeComment = {
          id: this.#nextId++,
          body: String(body.body),
          user: { login: 'github-actions[bot]', type: 'Bot' },
        };
        this.comments.set(issue, [...list, comment]);
        return { status: 201, body: comment };
      }
      return this.#page(url, list);
    }
    match = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (match && method === 'PATCH') {
      const id = Number(match[1]);
      const comment = [...this.comments.values()].flat().find((c) => c.id === id);
      if (!comment) return { status: 404, body: { message: 'Not Found' } };
      comment.body = String(body.body);
      return { status: 200, body: comment };
    }
    match = /^\/repos\/[^/]+\/[^/]+\/actions\/workflows\/([^/]+)\/runs$/.exec(url.pathname);
    if (match && method === 'GET') {
      const q = url.searchParams;
      const runs = this.runs.filter(
        (r) =>
          r.workflow === decodeURIComponent(match?.[1] ?? '') &&
          (!q.has('branch') || r.head_branch === q.get('branch')) &&
          (!q.has('status') || r.status === q.get('status')),
      );
      const perPage = Number(q.get('per_page') ?? 30);
      return {
        status: 200,
        body: { total_count: runs.length, workflow_runs: runs.slice(0, perPage) },
      };
    }
    match = /^\/repos\/[^/]+\/[^/]+\/actions\/runs\/(\d+)\/artifacts$/.exec(url.pathname);
    if (match && method === 'GET') {
      const runId = Number(match[1]);
      const artifacts = this.artifacts
        .filter((a) => a.runId === runId)
        .map(({ id, name, expired, files, sizeInBytes }) => ({
          id,
          name,
          expired,
          size_in_bytes: sizeInBytes ?? Object.values(files).join('').length,
        }));
      const perPage = Number(url.searchParams.get('per_page') ?? 30);
      const page = Number(url.searchParams.get('page') ?? 1);
      return {
        status: 200,
        body: {
          total_count: artifacts.length,
          artifacts: artifacts.slice((page - 1) * perPage, page * perPage),
        },
      };
    }
    match = /^\/repos\/[^/]+\/[^/]+\/actions\/artifacts\/(\d+)\/zip$/.exec(url.pathname);
    if (match && method === 'GET') {
      const id = Number(match[1]);
      if (!this.artifacts.some((a) => a.id === id)) {
        return { status: 404, body: { message: 'Not Found' } };
      }
      // GitHub answers with a short-lived blob storage URL.
      return { status: 302, body: '', headers: { location: `${this.url}/blob/${String(id)}.zip` } };
    }
    if (/^\/repos\/[^/]+\/[^/]+\/check-runs$/.test(url.pathname) && method === 'POST') {
      this.checkRuns.push(body);
      return { status: 201, body: { id: this.checkRuns.length, ...body } };
    }
    return { status: 404, body: { message: 'Not Found' } };
  }

  #page(url: URL, list: FakeComment[]) {
    const perPage = Number(url.searchParams.get('per_page') ?? 30);
    const page = Number(url.searchParams.get('page') ?? 1);
    const last = Math.max(1, Math.ceil(list.length / perPage));
    const link = (p: number) => {
      const next = new URL(url);
      next.searchParams.set('page', String(p));
      return next.toString();
    };
    const rels = [
      ...(page < last ? [`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`] : []),
    ];
    return {
      status: 200,
      body: list.slice((page - 1) * perPage, page * perPage),
      headers: rels.length ? { link: rels.join(', ') } : undefined,
    };
  }
}
