/**
 * The agent's HTTP client against a scripted loopback server standing in for
 * a coordinator behind a Cloudflare tunnel: 429/502/524 and dropped
 * connections are retried with backoff, 4xx answers are not, and a
 * coordinator gone for longer than the dead-man bound is reported as lost.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { CoordinatorClient } from '../../src/agent/client.js';
import { hasErrorCode } from '../../src/errors.js';
import {
  coordinatorFailed,
  readCoordinatorFailure,
  RendezvousCard,
} from '../../src/github/rendezvous.js';
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/fs.js';
import { MemoryStore } from '../helpers/memory-artifacts.js';

type Step = (req: IncomingMessage, res: ServerResponse) => void;

const status =
  (code: number, body: unknown = { error: { code: 'X', message: 'x' } }): Step =>
  (_req, res) =>
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const drop: Step = (req) => req.socket.destroy();
const ok = status(200, { ok: true, seq: 1 });

/** Answers request n with steps[n] (the last step repeats) and records every request. */
async function scriptedServer(steps: Step[]) {
  const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ headers: req.headers, body });
      const step = steps[Math.min(seen.length - 1, steps.length - 1)];
      step?.(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`, seen };
}

function client(url: string, giveUpAfterMs = 5_000) {
  const c = new CoordinatorClient({
    url,
    log: silentLogger,
    giveUpAfterMs,
    backoff: { baseMs: 5, maxMs: 20 },
  });
  onCleanup(() => c.close());
  return c;
}

const event = { type: 'data-set' } as const;

describe('coordinator client retries (fake flaky coordinator on loopback)', () => {
  it('retries 429, 502, 524 and a dropped connection, resending the same sequence number', async () => {
    const server = await scriptedServer([status(429), status(502), drop, status(524), ok]);
    await client(server.url).sendEvent(7, event);

    expect(server.seen).toHaveLength(5);
    for (const request of server.seen) {
      expect(JSON.parse(request.body)).toEqual({ seq: 7, event });
      expect(request.headers[PROTOCOL_HEADER]).toBe(String(PROTOCOL_VERSION));
    }
  });

  it('does not retry a 4xx answer and surfaces the coordinator message', async () => {
    const server = await scriptedServer([
      status(400, { error: { code: 'PROTOCOL_MISMATCH', message: 'speaks protocol v2' } }),
    ]);
    const error = await client(server.url)
      .sendEvent(1, event)
      .catch((e: unknown) => e);

    expect(server.seen).toHaveLength(1);
    expect(hasErrorCode(error, 'PROTOCOL_MISMATCH')).toBe(true);
    expect((error as Error).message).toMatch(/400: speaks protocol v2/);
  });

  it('gives up as COORDINATOR_UNREACHABLE once failing for longer than the dead-man bound', async () => {
    const server = await scriptedServer([status(503)]);
    const error = await client(server.url, 100)
      .sendEvent(1, event)
      .catch((e: unknown) => e);

    expect(hasErrorCode(error, 'COORDINATOR_UNREACHABLE')).toBe(true);
    expect((error as Error).message).toMatch(/lost the coordinator at http:\/\/127\.0\.0\.1/);
    expect(server.seen.length).toBeGreaterThan(1);
  });

  it('gives up at the dead-man deadline when a partition swallows requests (no answer, no error)', async () => {
    // A black-holed connection: the request arrives and nothing ever comes back. Before,
    // each attempt waited out its own 30 s timeout before the deadline was looked at.
    const server = await scriptedServer([() => undefined]);
    const began = Date.now();
    const error = await client(server.url, 300)
      .sendEvent(1, event)
      .catch((e: unknown) => e);
    const tookMs = Date.now() - began;

    expect(hasErrorCode(error, 'COORDINATOR_UNREACHABLE')).toBe(true);
    expect((error as Error).message).toMatch(
      /last error: no answer to POST \/v1\/events before the dead-man deadline/,
    );
    // The deadline (0.3 s) and one last attempt; its own timeout would be 30 s.
    expect(tookMs).toBeLessThan(5_000);
  });

  it('a poll in flight when the partition starts ends at its hold and grace, not its 15 s timeout', async () => {
    const server = await scriptedServer([() => undefined]);
    const began = Date.now();
    const error = await client(server.url, 300)
      .poll(0, 500)
      .catch((e: unknown) => e);
    const tookMs = Date.now() - began;

    expect(hasErrorCode(error, 'COORDINATOR_UNREACHABLE')).toBe(true);
    // Hold 0.5 s + 2 s for a late answer; the attempt's own timeout was hold + 15 s.
    expect(tookMs).toBeGreaterThanOrEqual(2_400);
    expect(tookMs).toBeLessThan(10_000);
  });

  it('a held poll answered after its hold is not cut short by a shorter dead-man deadline', async () => {
    const server = await scriptedServer([
      (_req, res) => {
        setTimeout(() => {
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ version: 3, instruction: { type: 'wait' }, now: Date.now() }));
        }, 600);
      },
    ]);
    const answer = await client(server.url, 100).poll(0, 600);

    expect(answer).toMatchObject({ version: 3 });
    expect(server.seen).toHaveLength(1);
  });

  it('no wait between attempts goes past the dead-man deadline', async () => {
    const server = await scriptedServer([status(503)]);
    const c = new CoordinatorClient({
      url: server.url,
      log: silentLogger,
      giveUpAfterMs: 200,
      // Every backoff a full minute: only the deadline can end the wait.
      backoff: { baseMs: 60_000, maxMs: 60_000, random: () => 1 },
    });
    onCleanup(() => c.close());
    const began = Date.now();
    const error = await c.sendEvent(1, event).catch((e: unknown) => e);

    expect(hasErrorCode(error, 'COORDINATOR_UNREACHABLE')).toBe(true);
    expect(Date.now() - began).toBeLessThan(10_000);
    // The first attempt, then a wait cut at the deadline, and no pointless last attempt.
    expect(server.seen).toHaveLength(1);
  });

  it('issue 19.6: retries a corrupt archive download as ARCHIVE_CHECKSUM_MISMATCH, then gives up', async () => {
    const server = await scriptedServer([(_req, res) => res.writeHead(200).end('not the archive')]);
    const path = join(await tempDir(), 'archive.tar');
    const error = await client(server.url, 100)
      .downloadArchive(path, 'ab'.repeat(32))
      .catch((e: unknown) => e);

    expect(hasErrorCode(error, 'COORDINATOR_UNREACHABLE')).toBe(true);
    const cause = (error as Error).cause;
    expect(hasErrorCode(cause, 'ARCHIVE_CHECKSUM_MISMATCH')).toBe(true);
    expect((cause as Error).message).toMatch(
      /^archive checksum [0-9a-f]{64} ≠ announced (ab){32}$/,
    );
    expect(server.seen.length).toBeGreaterThan(1);
  });

  it('issue 20.2: a registered agent that loses the coordinator stops at its failure card, not at the dead-man deadline', async () => {
    let secondFailure!: () => void;
    const failing = new Promise<void>((resolve) => (secondFailure = resolve));
    const server = await scriptedServer([
      drop,
      (req) => {
        secondFailure();
        req.socket.destroy();
      },
    ]);
    const store = new MemoryStore(await tempDir());
    const card = new RendezvousCard({ name: 'k6-distributed-k6-attempt-1', store });
    await card.publishUrl(server.url);
    const c = new CoordinatorClient({
      url: server.url,
      log: silentLogger,
      // An hour: only the card can end this wait within the test's timeout.
      giveUpAfterMs: 3_600_000,
      backoff: { baseMs: 5, maxMs: 20 },
      goneCheckIntervalMs: 10,
      coordinatorGone: async () => {
        const failure = await readCoordinatorFailure({ name: card.name, store });
        return failure && coordinatorFailed(failure);
      },
    });
    onCleanup(() => c.close());
    const poll = c.poll(0, 1_000).catch((e: unknown) => e);
    await failing;

    await card.publishFailure({ message: 'handleSummary() threw', exitCode: 97 }, silentLogger);

    const error = await poll;
    expect(hasErrorCode(error, 'COORDINATOR_FAILED')).toBe(true);
    expect(error).toMatchObject({
      message: 'the coordinator failed (exit code 97): handleSummary() threw',
      data: { exitCode: 97 },
    });
  });

  it('rejects a URL that is not http or https', () => {
    expect(() => new CoordinatorClient({ url: 'ftp://x', log: silentLogger })).toThrow(
      /use http:\/\/ or https:\/\//,
    );
  });
});
