/**
 * The coordinator's HTTP transport on loopback, with a real Coordinator
 * behind it: authentication, protocol header, body validation and limits,
 * the archive download, long-polls and shutdown.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { Client, request, type Dispatcher } from 'undici';

import { secretAuth } from '../../src/coordinator/auth.js';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { CoordinatorServer, type ServerOptions } from '../../src/coordinator/server.js';
import {
  ErrorBody,
  HealthResponse,
  PollResponse,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  RegisterResponse,
  ROUTES,
  type RegisterRequest,
} from '../../src/protocol/messages.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { PACKAGE_VERSION } from '../../src/version.js';
import { onCleanup } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/fs.js';

const SECRET = 'test-secret-5f2c9a';
const MAX_BODY_BYTES = 4_096;
const PROTOCOL = { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) };

async function start(rateLimits?: ServerOptions['rateLimits'], behindCloudflare?: boolean) {
  const dir = await tempDir();
  const archivePath = join(dir, 'archive.tar');
  const archive = randomBytes(3_000);
  await writeFile(archivePath, archive);
  const coordinator = new Coordinator({
    expectedAgents: 2,
    archive: {
      sha256: createHash('sha256').update(archive).digest('hex'),
      bytes: archive.length,
    },
    pollHoldMs: 10_000,
    log: silentLogger,
  });
  onCleanup(() => coordinator.close());
  const server = await CoordinatorServer.listen({
    coordinator,
    archivePath,
    auth: secretAuth(SECRET),
    listen: '127.0.0.1:0',
    log: silentLogger,
    maxBodyBytes: MAX_BODY_BYTES,
    rateLimits,
    behindCloudflare,
  });
  onCleanup(() => server.close());
  return { server, coordinator, archive };
}

function registration(overrides: Record<string, unknown> = {}) {
  const body: RegisterRequest = {
    protocol: PROTOCOL_VERSION,
    version: PACKAGE_VERSION,
    key: 'server-test-key-0001',
    weight: '1',
    tags: { region: 'eu' },
    k6Version: '2.2.0',
  };
  return JSON.stringify({ ...body, ...overrides });
}

/** One request; the body is always read, as JSON where it is JSON. */
async function call(
  url: string,
  options: {
    method?: 'GET' | 'POST';
    headers?: Record<string, string>;
    body?: string;
    dispatcher?: Dispatcher;
  } = {},
) {
  const response = await request(url, {
    dispatcher: options.dispatcher,
    method: options.method ?? 'GET',
    headers: {
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body,
  });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  const isJson = String(response.headers['content-type']).startsWith('application/json');
  const json: unknown = isJson ? JSON.parse(bytes.toString('utf8')) : undefined;
  return { status: response.statusCode, headers: response.headers, bytes, json };
}

function errorOf(json: unknown) {
  return ErrorBody.parse(json).error;
}

const auth = (token: string) => ({ ...PROTOCOL, authorization: `Bearer ${token}` });

async function register(url: string, key = 'server-test-key-0001') {
  const response = await call(`${url}${ROUTES.register}`, {
    method: 'POST',
    headers: auth(SECRET),
    body: registration({ key }),
  });
  expect(response.status).toBe(200);
  return RegisterResponse.parse(response.json);
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('CoordinatorServer', () => {
  it('answers GET /v1/health without any authentication', async () => {
    const { server } = await start();
    const before = Date.now();

    const response = await call(`${server.url}${ROUTES.health}`);

    expect(response.status).toBe(200);
    const health = HealthResponse.parse(response.json);
    expect(health.protocol).toBe(PROTOCOL_VERSION);
    expect(health.now).toBeGreaterThanOrEqual(before);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('rejects a request without the protocol header with 400 PROTOCOL_MISMATCH', async () => {
    const { server, coordinator } = await start();

    const missing = await call(`${server.url}${ROUTES.register}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRET}` },
      body: registration(),
    });
    expect(missing.status).toBe(400);
    expect(errorOf(missing.json).code).toBe('PROTOCOL_MISMATCH');
    expect(errorOf(missing.json).message).toContain(`has no ${PROTOCOL_HEADER} header`);

    const other = await call(`${server.url}${ROUTES.register}`, {
      method: 'POST',
      headers: { ...auth(SECRET), [PROTOCOL_HEADER]: String(PROTOCOL_VERSION + 1) },
      body: registration(),
    });
    expect(other.status).toBe(400);
    expect(errorOf(other.json).code).toBe('PROTOCOL_MISMATCH');
    expect(errorOf(other.json).message).toContain(`speaks v${String(PROTOCOL_VERSION + 1)}`);
    expect(coordinator.agents).toHaveLength(0);
  });

  it('rejects registration with a missing or wrong secret with 401', async () => {
    const { server, coordinator } = await start();

    for (const headers of [PROTOCOL, auth('not-the-secret'), auth(`${SECRET}x`)]) {
      const response = await call(`${server.url}${ROUTES.register}`, {
        method: 'POST',
        headers,
        body: registration(),
      });
      expect(response.status).toBe(401);
      expect(errorOf(response.json).code).toBe('UNAUTHORIZED');
      expect(errorOf(response.json).message).toMatch(/missing or wrong secret/);
    }
    expect(coordinator.agents).toHaveLength(0);
  });

  it('rejects a malformed JSON body with 400 BAD_REQUEST', async () => {
    const { server } = await start();

    const response = await call(`${server.url}${ROUTES.register}`, {
      method: 'POST',
      headers: auth(SECRET),
      body: '{"protocol": 1,',
    });

    expect(response.status).toBe(400);
    expect(errorOf(response.json).code).toBe('BAD_REQUEST');
    expect(errorOf(response.json).message).toMatch(/not valid JSON/);
  });

  it('rejects a body that breaks the schema with 400 naming the field', async () => {
    const { server, coordinator } = await start();

    const response = await call(`${server.url}${ROUTES.register}`, {
      method: 'POST',
      headers: auth(SECRET),
      body: registration({ weight: 'abc' }),
    });

    expect(response.status).toBe(400);
    expect(errorOf(response.json).code).toBe('BAD_REQUEST');
    expect(errorOf(response.json).message).toMatch(/^invalid request: weight: /);
    expect(coordinator.agents).toHaveLength(0);
  });

  it('rejects a body over the limit with 413', async () => {
    const { server, coordinator } = await start();
    const { token } = await register(server.url);

    const big = JSON.stringify({
      seq: 1,
      event: { type: 'setup-done', data: 'x'.repeat(MAX_BODY_BYTES) },
    });
    const response = await call(`${server.url}${ROUTES.events}`, {
      method: 'POST',
      headers: auth(token),
      body: big,
    });

    expect(response.status).toBe(413);
    expect(errorOf(response.json).code).toBe('PAYLOAD_TOO_LARGE');
    expect(errorOf(response.json).message).toContain(`over ${String(MAX_BODY_BYTES)} bytes`);
    expect(coordinator.agents[0]?.has('setup-done')).toBe(false);
  });

  it('registers an agent and returns its token', async () => {
    const { server, coordinator } = await start();

    const registered = await register(server.url);

    expect(registered.index).toBe(0);
    expect(registered.expectedAgents).toBe(2);
    expect(registered.pollHoldMs).toBe(10_000);
    expect(registered.token.length).toBeGreaterThanOrEqual(32);
    const agent = coordinator.agentForToken(registered.token);
    expect(agent?.id).toBe(registered.agentId);
    expect(agent?.tags).toEqual({ region: 'eu' });
    // The same key again: the same answer.
    expect(await register(server.url)).toEqual(registered);
  });

  it('serves the archive bytes to a registered agent and 401 to an unknown token', async () => {
    const { server, archive } = await start();
    const { token } = await register(server.url);

    const ok = await call(`${server.url}${ROUTES.archive}`, { headers: auth(token) });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/x-tar');
    expect(ok.bytes.equals(archive)).toBe(true);

    const wrong = await call(`${server.url}${ROUTES.archive}`, { headers: auth('wrong-token') });
    expect(wrong.status).toBe(401);
    expect(errorOf(wrong.json).code).toBe('UNAUTHORIZED');
    expect(wrong.bytes.includes(archive)).toBe(false);

    const secret = await call(`${server.url}${ROUTES.archive}`, { headers: auth(SECRET) });
    expect(secret.status).toBe(401);
  });

  it('rejects a negative or non-numeric after on GET /v1/instruction with 400', async () => {
    const { server } = await start();
    const { token } = await register(server.url);

    for (const after of ['-1', 'abc', '1.5']) {
      const response = await call(`${server.url}${ROUTES.instruction}?after=${after}`, {
        headers: auth(token),
      });
      expect(response.status).toBe(400);
      expect(errorOf(response.json).code).toBe('BAD_REQUEST');
      expect(errorOf(response.json).message).toMatch(/"after" must be a non-negative integer/);
    }
  });

  it('answers an instruction poll at once when the agent is behind', async () => {
    const { server } = await start();
    const first = await register(server.url, 'server-test-key-0001');
    await register(server.url, 'server-test-key-0002');

    const response = await call(`${server.url}${ROUTES.instruction}?after=0`, {
      headers: auth(first.token),
    });

    expect(response.status).toBe(200);
    const poll = PollResponse.parse(response.json);
    expect(poll.version).toBe(1);
    expect(poll.instruction.type).toBe('prepare');
  });

  it('accepts a valid event report with 200 and applies it', async () => {
    const { server, coordinator } = await start();
    const { token } = await register(server.url);
    // Both agents joined: k6 is starting on each, so `ready` may come (issue 17.1).
    await register(server.url, 'server-test-key-0002');

    const report = JSON.stringify({ seq: 1, event: { type: 'ready', vusMax: 3 } });
    const response = await call(`${server.url}${ROUTES.events}`, {
      method: 'POST',
      headers: auth(token),
      body: report,
    });

    expect(response.status).toBe(200);
    expect(response.json).toEqual({ ok: true, seq: 1 });
    const agent = coordinator.agentForToken(token);
    expect(agent?.event('ready')?.vusMax).toBe(3);
    expect(agent?.eventSeq.last).toBe(1);

    const invalid = await call(`${server.url}${ROUTES.events}`, {
      method: 'POST',
      headers: auth(token),
      body: JSON.stringify({ seq: 0, event: { type: 'ready', vusMax: 3 } }),
    });
    expect(invalid.status).toBe(400);
    expect(errorOf(invalid.json).message).toMatch(/seq/);

    const unknown = await call(`${server.url}${ROUTES.events}`, {
      method: 'POST',
      headers: auth('wrong-token'),
      body: report,
    });
    expect(unknown.status).toBe(401);
  });

  it('answers an agent over its request rate with 429 and retry-after, others unaffected', async () => {
    const { server } = await start({ agent: { perSecond: 1, burst: 3 } });
    const first = await register(server.url, 'server-test-key-0001');
    const second = await register(server.url, 'server-test-key-0002');
    const archive = (token: string) =>
      call(`${server.url}${ROUTES.archive}`, { headers: auth(token) });

    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await archive(first.token)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await archive(first.token);
    expect(limited.headers['retry-after']).toBe('1');
    expect(errorOf(limited.json)).toMatchObject({
      code: 'RATE_LIMITED',
      message: expect.stringMatching(/more than 1 requests per second/),
    });
    expect((await archive(second.token)).status).toBe(200);
  });

  it('limits registration attempts per address, before checking the secret', async () => {
    const { server } = await start({ register: { perSecond: 0.001, burst: 2 } });
    const attempt = () =>
      call(`${server.url}${ROUTES.register}`, {
        method: 'POST',
        headers: { ...auth('guessed-secret'), 'content-type': 'application/json' },
        body: registration(),
      });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await attempt()).status);
    expect(statuses).toEqual([401, 401, 429, 429]);
  });

  it('behind cloudflared, limits registrations per Cloudflare client address', async () => {
    const { server } = await start({ register: { perSecond: 0.001, burst: 2 } }, true);
    const attempt = (ip: string) =>
      call(`${server.url}${ROUTES.register}`, {
        method: 'POST',
        headers: {
          ...auth('guessed-secret'),
          'content-type': 'application/json',
          'cf-connecting-ip': ip,
        },
        body: registration(),
      });
    const statuses = [];
    for (const ip of ['203.0.113.7', '203.0.113.7', '203.0.113.7', '198.51.100.9']) {
      statuses.push((await attempt(ip)).status);
    }
    expect(statuses).toEqual([401, 401, 429, 401]);
  });

  it('answers an unknown route with 404', async () => {
    const { server } = await start();

    const response = await call(`${server.url}/v1/nope`, { headers: PROTOCOL });

    expect(response.status).toBe(404);
    expect(errorOf(response.json).code).toBe('NOT_FOUND');
    expect(errorOf(response.json).message).toContain('GET /v1/nope');

    const wrongMethod = await call(`${server.url}${ROUTES.register}`, { headers: PROTOCOL });
    expect(wrongMethod.status).toBe(404);
  });

  it('answers a held long-poll when the server closes', async () => {
    const { server, coordinator } = await start();
    const url = server.url;
    const { token } = await register(url);
    const agent = coordinator.agentForToken(token);
    const version = agent?.version ?? -1;
    expect(version).toBe(0);

    // The poll has a connection of its own, as an agent process would.
    const client = new Client(url);
    onCleanup(() => client.destroy());
    const poll = call(`${url}${ROUTES.instruction}?after=${String(version)}`, {
      headers: auth(token),
      dispatcher: client,
    });
    await waitFor(() => agent?.pollsInFlight === 1, 'the poll to be held');
    const startedAt = Date.now();
    const closed = server.close();

    const response = await poll;
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(response.status).toBe(200);
    const answer = PollResponse.parse(response.json);
    expect(answer.version).toBe(0);
    expect(answer.instruction).toEqual({ type: 'wait' });
    expect(agent?.pollsInFlight).toBe(0);

    // Once the agent has gone, the server is closed and takes no new connection.
    await client.destroy();
    await closed;
    await expect(call(`${url}${ROUTES.health}`)).rejects.toThrow();
  });
});
