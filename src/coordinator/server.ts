import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';

import { K6DistributedError, type ErrorCode } from '../errors.js';
import {
  EventMessage,
  DeltaMessage,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  RegisterRequest,
  ROUTES,
  type ErrorBody,
} from '../protocol/messages.js';
import { stringifyWithText } from '../protocol/json-text.js';
import type { Logger } from '../runtime/logger.js';
import { printableName } from '../runtime/printable.js';
import { PACKAGE_VERSION } from '../version.js';
import type { AgentRecord } from './agent-record.js';
import type { RegistrationAuth } from './auth.js';
import {
  ConnectionGuard,
  connectionLimitsFor,
  openFileWarning,
  type ConnectionLimits,
} from './connection-guard.js';
import { RateLimiter, type RateLimit } from './rate-limit.js';
import type { Coordinator } from './coordinator.js';

export interface ServerOptions {
  coordinator: Coordinator;
  archivePath: string;
  /** Who may register; without it anyone who reaches the server may (loopback only). */
  auth?: RegistrationAuth;
  /** host:port; port 0 picks a free one. */
  listen: string;
  /** Largest setup() data (the event of the agent asked to run setup()). */
  maxBodyBytes?: number;
  /** Largest metric delta and other event (default: ROUTE_MAX_BYTES). */
  routeMaxBytes?: Partial<typeof ROUTE_MAX_BYTES>;
  /** Request bodies one agent may send at once; more are answered 429 unread. */
  bodiesPerAgent?: number;
  /** Connection caps (default: connectionLimitsFor(the run's agents)). */
  connections?: Partial<ConnectionLimits>;
  /** Longest a request may take to send its headers, and all of it (body included). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Requests per agent, and registrations per remote address. */
  rateLimits?: { agent?: RateLimit; register?: RateLimit };
  /**
   * Behind a cloudflared tunnel every request comes from loopback: key the
   * registration limit by Cloudflare's `Cf-Connecting-Ip` instead. Only safe
   * when the server is reachable through the tunnel alone (it listens on
   * loopback), since anyone can send that header.
   */
  behindCloudflare?: boolean;
  log: Logger;
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: 400,
  PROTOCOL_MISMATCH: 400,
  UNAUTHORIZED: 401,
  EVENT_REFUSED: 403,
  NOT_FOUND: 404,
  RUN_STARTED: 409,
  SEQUENCE_OUT_OF_RANGE: 409,
  PAYLOAD_TOO_LARGE: 413,
  SETUP_DATA_REFUSED: 413,
  RATE_LIMITED: 429,
};

/** Far above what an agent needs (a delta a second, a poll per hold, a few events and clock samples). */
const AGENT_RATE: RateLimit = { perSecond: 50, burst: 200 };
/**
 * Registration attempts per remote address: a whole 256-job matrix may
 * register at once, yet guessing a secret stays hopeless (behind the tunnel,
 * per Cloudflare's client address: see `behindCloudflare`).
 */
const REGISTER_RATE: RateLimit = { perSecond: 20, burst: 300 };

const REGISTER_MAX_BYTES = 16 * 1024;

/**
 * Body limits per route besides setup() data (issue 17.8). Metric deltas
 * measured with real k6: 6-16 KB in a usual run, 2.0 MB at the agent's own
 * limits (1,000 groups with a request and a check each, full summary: 14,000
 * series); 8 MiB leaves four times that. Events other than setup()'s carry at
 * most 8 KiB of text each.
 */
export const ROUTE_MAX_BYTES = { metrics: 8 * 1024 * 1024, events: 128 * 1024 };
const SETUP_DATA_MAX_BYTES = 16 * 1024 * 1024;
/** An honest agent sends one event and one delta at a time. */
const BODIES_PER_AGENT = 2;
/**
 * The coordinator's HTTP transport (protocol v1). Agents are always the
 * client; this server validates every body with the protocol schemas,
 * bounds every body, and authenticates every route but /v1/health: the
 * registration credential (shared secret or OIDC token), then the agent's
 * own token.
 */
export class CoordinatorServer {
  readonly #server: Server;
  readonly #o: ServerOptions;
  readonly #requests = new Set<AbortController>();
  readonly #agentRate: RateLimiter;
  readonly #registerRate: RateLimiter;
  readonly #handling = new Set<Promise<void>>();
  readonly #guard: ConnectionGuard;
  /** Bodies being read, per agent id. */
  readonly #bodies = new Map<string, number>();
  /** The error codes already warned of, per agent id. */
  readonly #warned = new Map<string, Set<string>>();

  private constructor(options: ServerOptions) {
    this.#o = options;
    this.#agentRate = new RateLimiter(options.rateLimits?.agent ?? AGENT_RATE);
    this.#registerRate = new RateLimiter(options.rateLimits?.register ?? REGISTER_RATE);
    const headersTimeout = options.headersTimeoutMs ?? 10_000;
    this.#server = createServer(
      {
        // Node's defaults (60 s for headers, 300 s for a request) let slow sockets sit for minutes.
        headersTimeout,
        requestTimeout: options.requestTimeoutMs ?? 60_000,
        connectionsCheckingInterval: Math.min(1_000, headersTimeout / 2),
        keepAliveTimeout: 65_000,
      },
      (req, res) => this.#handle(req, res),
    );
    const agents = options.coordinator.expectedAgents;
    const limits = { ...connectionLimitsFor(agents), ...options.connections };
    const fdWarning = openFileWarning(agents, limits);
    if (fdWarning !== undefined) options.log.warning(fdWarning);
    this.#guard = new ConnectionGuard(this.#server, {
      limits,
      // Behind the tunnel every connection comes from cloudflared on loopback.
      byAddress: options.behindCloudflare !== true,
      log: options.log,
    });
  }

  static async listen(options: ServerOptions): Promise<CoordinatorServer> {
    const server = new CoordinatorServer(options);
    const { host, port } = splitHostPort(options.listen);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(port, host, () => {
        server.#server.off('error', reject);
        resolve();
      });
    });
    return server;
  }

  /** e.g. http://127.0.0.1:41234 */
  get url(): string {
    const { address, port, family } = this.#server.address() as AddressInfo;
    const host = family === 'IPv6' ? `[${address}]` : address;
    return `http://${host}:${String(port)}`;
  }

  /** Answers held polls, then stops accepting connections and closes idle ones. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const controller of this.#requests) controller.abort();
    await Promise.allSettled(this.#handling);
    // Answered polls leave keep-alive connections that would idle for 65 s.
    this.#server.closeIdleConnections();
    await closed;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    this.#guard.requestStarted(req.socket);
    const controller = new AbortController();
    this.#requests.add(controller);
    // Aborts work for a client that went away (a held poll). Not after a response was
    // written: abort() builds a DOMException, which costs more than a small request does.
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const handling = this.#route(req, res, controller.signal)
      .catch((error: unknown) => this.#fail(req, res, error))
      .finally(() => {
        this.#requests.delete(controller);
        this.#handling.delete(handling);
      });
    this.#handling.add(handling);
  }

  async #route(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://coordinator');
    const route = `${req.method ?? ''} ${url.pathname}`;
    if (route === `GET ${ROUTES.health}`) {
      send(res, 200, { ok: true, protocol: PROTOCOL_VERSION, now: this.#o.coordinator.now() });
      return;
    }
    checkProtocol(req);
    const coordinator = this.#o.coordinator;
    switch (route) {
      case `POST ${ROUTES.register}`: {
        this.#registerRate.take(this.#clientAddress(req));
        const credential = await this.#o.auth?.verify(bearer(req));
        const body = await readJson(req, RegisterRequest, REGISTER_MAX_BYTES);
        credential?.bind(body.key);
        send(res, 200, coordinator.register(body));
        return;
      }
      case `GET ${ROUTES.archive}`:
        this.#agentOf(req);
        await this.#sendArchive(res);
        return;
      case `GET ${ROUTES.instruction}`: {
        const agent = this.#agentOf(req);
        const after = Number(url.searchParams.get('after') ?? '0');
        if (!Number.isSafeInteger(after) || after < 0) {
          throw badRequest('query "after" must be a non-negative integer');
        }
        send(res, 200, await coordinator.poll(agent, after, signal));
        return;
      }
      case `POST ${ROUTES.events}`: {
        const agent = this.#agentOf(req);
        const body = await this.#readBody(agent, req, EventMessage, this.#eventLimit(agent));
        coordinator.receiveEvent(agent, body);
        send(res, 200, { ok: true, seq: body.seq });
        return;
      }
      case `POST ${ROUTES.metrics}`: {
        const agent = this.#agentOf(req);
        const body = await this.#readBody(
          agent,
          req,
          DeltaMessage,
          this.#routeLimit('metrics'),
        ).catch((error: unknown) => {
          coordinator.refusedMetrics(agent, error);
          throw error;
        });
        coordinator.receiveDelta(agent, body);
        send(res, 200, { ok: true, seq: body.seq });
        return;
      }
      default:
        throw new K6DistributedError('NOT_FOUND', `no route ${route}`);
    }
  }

  /**
   * Reads an agent's body, at most `bodiesPerAgent` at once: memory stays
   * bounded by agents × bodies × limit, however many requests one agent
   * sends (the rate limit alone let 200 bodies in at once).
   */
  async #readBody<T>(
    agent: AgentRecord,
    req: IncomingMessage,
    schema: z.ZodType<T>,
    limit: number,
  ): Promise<T> {
    const reading = this.#bodies.get(agent.id) ?? 0;
    const max = this.#o.bodiesPerAgent ?? BODIES_PER_AGENT;
    if (reading >= max) {
      throw this.#refused(
        agent,
        new K6DistributedError(
          'RATE_LIMITED',
          `${agent.label} is already sending ${String(max)} request bodies: one at a time per ` +
            'route, retry after they are answered',
        ),
      );
    }
    this.#bodies.set(agent.id, reading + 1);
    try {
      return await readJson(req, schema, limit);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'PAYLOAD_TOO_LARGE') throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw this.#refused(
        agent,
        new K6DistributedError('PAYLOAD_TOO_LARGE', `${agent.label}: ${message}`),
      );
    } finally {
      const left = (this.#bodies.get(agent.id) ?? 1) - 1;
      if (left > 0) this.#bodies.set(agent.id, left);
      else this.#bodies.delete(agent.id);
    }
  }

  /**
   * An agent's body refused over a limit: said once per agent and limit as a
   * warning (each request at debug level), so a flood cannot flood the log.
   */
  #refused(agent: AgentRecord, error: K6DistributedError): K6DistributedError {
    const warned = this.#warned.get(agent.id) ?? new Set<string>();
    this.#warned.set(agent.id, warned);
    if (!warned.has(error.code)) {
      warned.add(error.code);
      this.#o.log.warning(`refused a request body: ${error.message}`);
    }
    return error;
  }

  #routeLimit(route: keyof typeof ROUTE_MAX_BYTES): number {
    return Math.min(
      this.#setupDataLimit(),
      this.#o.routeMaxBytes?.[route] ?? ROUTE_MAX_BYTES[route],
    );
  }

  #setupDataLimit(): number {
    return this.#o.maxBodyBytes ?? SETUP_DATA_MAX_BYTES;
  }

  /** setup()'s data comes from the agent asked to run it; any other event is small. */
  #eventLimit(agent: AgentRecord): number {
    return this.#o.coordinator.ranSetupOn(agent)
      ? this.#setupDataLimit()
      : this.#routeLimit('events');
  }

  #clientAddress(req: IncomingMessage): string {
    const forwarded = req.headers['cf-connecting-ip'];
    if (this.#o.behindCloudflare && typeof forwarded === 'string') return forwarded;
    return req.socket.remoteAddress ?? '';
  }

  #agentOf(req: IncomingMessage): AgentRecord {
    const token = bearer(req);
    const agent = token === undefined ? undefined : this.#o.coordinator.agentForToken(token);
    if (!agent) {
      throw new K6DistributedError(
        'UNAUTHORIZED',
        'unknown agent token: register first (POST /v1/register)',
      );
    }
    this.#agentRate.take(agent.id);
    return agent;
  }

  async #sendArchive(res: ServerResponse): Promise<void> {
    res.writeHead(200, { 'content-type': 'application/x-tar' });
    const stream = createReadStream(this.#o.archivePath);
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      res.once('finish', resolve);
      res.once('close', resolve);
      stream.pipe(res);
    });
  }

  #fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const code = (error as { code?: unknown }).code;
    const known = typeof code === 'string' && code in STATUS_BY_CODE;
    const status = known ? (STATUS_BY_CODE[code as ErrorCode] ?? 500) : 500;
    // Bad input can echo what an unauthenticated client sent: one printable line.
    const message = printableName(error instanceof Error ? error.message : String(error));
    if (status === 500) this.#o.log.error(`${req.method ?? ''} ${req.url ?? ''}: ${message}`);
    else this.#o.log.debug(`${req.method ?? ''} ${req.url ?? ''} → ${String(status)}: ${message}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body: ErrorBody = {
      error: { code: known ? code : 'COORDINATOR_ERROR', message },
    };
    // A body not read to its end (too large, or too many at once) leaves the
    // connection unusable: close it after answering.
    if (!req.complete) res.setHeader('connection', 'close');
    if (status === 429) res.setHeader('retry-after', '1');
    send(res, status, body);
  }
}

function checkProtocol(req: IncomingMessage): void {
  const header = req.headers[PROTOCOL_HEADER];
  if (header !== String(PROTOCOL_VERSION)) {
    throw new K6DistributedError(
      'PROTOCOL_MISMATCH',
      `this coordinator (k6-distributed ${PACKAGE_VERSION}) speaks protocol ` +
        `v${String(PROTOCOL_VERSION)} but the request ` +
        (typeof header === 'string' ? `speaks v${header}` : `has no ${PROTOCOL_HEADER} header`) +
        ': run the same k6-distributed version on agents and coordinator.',
    );
  }
}

function bearer(req: IncomingMessage): string | undefined {
  const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  return match?.[1];
}

async function readJson<T>(req: IncomingMessage, schema: z.ZodType<T>, limit: number) {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw badRequest('the body is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5);
    throw badRequest(issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = stringifyWithText(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

function badRequest(message: string): K6DistributedError {
  return new K6DistributedError('BAD_REQUEST', `invalid request: ${message}`);
}

function tooLarge(limit: number): K6DistributedError {
  return new K6DistributedError(
    'PAYLOAD_TOO_LARGE',
    `request body over ${String(limit)} bytes. If setup() returns this much data, ` +
      'return less (or raise the coordinator limit).',
  );
}

/** Splits "host:port" (IPv6 as "[::1]:port"). */
export function splitHostPort(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[3]);
  if (!match || port > 65_535) {
    throw new K6DistributedError(
      'INVALID_OPTION',
      `invalid listen address "${listen}": use HOST:PORT, e.g. 127.0.0.1:8080 or 0.0.0.0:0`,
    );
  }
  return { host: match[1] ?? match[2] ?? '', port };
}
