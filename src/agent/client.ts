import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Pool, type Dispatcher } from 'undici';
import type { z } from 'zod';

import { errorMessage, K6DistributedError, type ErrorCode } from '../errors.js';
import {
  ErrorBody,
  HealthResponse,
  PollResponse,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  RegisterRequest,
  RegisterResponse,
  ROUTES,
  type AgentEvent,
  type DeltaMessage,
} from '../protocol/messages.js';
import { Backoff, type BackoffOptions } from '../runtime/backoff.js';
import type { Logger } from '../runtime/logger.js';
import { parseJson } from '../runtime/net.js';

export interface CoordinatorClientOptions {
  /** The coordinator's base URL, e.g. https://example.trycloudflare.com */
  url: string;
  /** The shared secret to register with. */
  secret?: string;
  /**
   * Mints the credential to register with, once per attempt (a GitHub OIDC
   * token lives about five minutes); used when `secret` is unset.
   */
  credential?: () => Promise<string>;
  /**
   * Dead-man switch: when every attempt has failed for this long, give up
   * with COORDINATOR_UNREACHABLE. The agent then stops its k6.
   */
  giveUpAfterMs?: number;
  /**
   * Asked while requests fail (at most every `goneCheckIntervalMs`): the
   * coordinator's own word that it failed (its rendezvous card), which ends
   * the wait at once instead of at `giveUpAfterMs` (issue 20.2).
   */
  coordinatorGone?: () => Promise<Error | undefined>;
  /** Default 5 s. */
  goneCheckIntervalMs?: number;
  backoff?: BackoffOptions;
  log: Logger;
}

/** A clock sample: the coordinator's clock minus ours, and the round trip it came from. */
export interface ClockSample {
  offsetMs: number;
  rttMs: number;
}

interface RequestOptions {
  body?: unknown;
  /** The registration credential, or a minter of one; the agent token when unset. */
  auth?: string | (() => Promise<string>);
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The coordinator may hold this request this long before it answers (a long poll). */
  heldMs?: number;
}

/** How late past its hold a held poll's answer may come (tunnel and proxy latency). */
const HELD_ANSWER_GRACE_MS = 2_000;

/** Answers that mean "try again": Cloudflare's 429/502/503/504/524 and any other 5xx. */
const retryable = (status: number) => status === 429 || status >= 500;

/**
 * The agent's side of protocol v1 over HTTP (undici). At most three requests
 * are ever in flight, a held poll, an event and a metric delta, so an agent stays far inside a
 * quick tunnel's 200 in-flight limit (design.md §4). Every call retries
 * network errors, 429 and 5xx with jittered backoff until `giveUpAfterMs`.
 */
export class CoordinatorClient {
  readonly #pool: Pool;
  readonly #o: Required<
    Omit<CoordinatorClientOptions, 'secret' | 'credential' | 'backoff' | 'coordinatorGone'>
  > &
    CoordinatorClientOptions;
  #token: string | undefined;
  /** When the coordinator's card may be read again (one read serves every request). */
  #nextGoneCheck = 0;
  #looking = false;
  /** The coordinator's own word that it failed, once read. */
  #gone: Error | undefined;

  constructor(options: CoordinatorClientOptions) {
    this.#o = { giveUpAfterMs: 60_000, goneCheckIntervalMs: 5_000, ...options };
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new K6DistributedError(
        'INVALID_OPTION',
        `invalid coordinator URL "${options.url}": use http:// or https://`,
      );
    }
    this.#pool = new Pool(url.origin, { connections: 3, pipelining: 1 });
  }

  async register(request: RegisterRequest): Promise<RegisterResponse> {
    const response = await this.#call('POST', ROUTES.register, RegisterResponse, {
      body: request,
      auth: this.#o.secret ?? this.#o.credential,
    });
    this.#token = response.token;
    return response;
  }

  /** Long-polls for an instruction newer than `after`. */
  async poll(after: number, holdMs: number, signal?: AbortSignal): Promise<PollResponse> {
    return this.#call('GET', `${ROUTES.instruction}?after=${String(after)}`, PollResponse, {
      signal,
      timeoutMs: holdMs + 15_000,
      heldMs: holdMs,
    });
  }

  async sendEvent(seq: number, event: AgentEvent, signal?: AbortSignal): Promise<void> {
    await this.#call('POST', ROUTES.events, undefined, { body: { seq, event }, signal });
  }

  /** Sends one metric delta; a retry keeps its sequence number, so it counts once. */
  async sendDelta(message: DeltaMessage, signal?: AbortSignal): Promise<void> {
    await this.#call('POST', ROUTES.metrics, undefined, { body: message, signal });
  }

  /** One round trip to /v1/health, timed on our clock (NTP's midpoint estimate). */
  async clockSample(signal?: AbortSignal): Promise<ClockSample> {
    const sent = performance.now();
    const sentWall = Date.now();
    const health = await this.#call('GET', ROUTES.health, HealthResponse, { signal });
    const rttMs = performance.now() - sent;
    return { offsetMs: health.now - (sentWall + rttMs / 2), rttMs };
  }

  /** Downloads the archive to `path`, checking its SHA-256 against the assignment. */
  async downloadArchive(path: string, sha256: string, signal?: AbortSignal): Promise<void> {
    const partial = `${path}.partial`;
    // Not bounded by the deadline: a large archive over a slow tunnel may take longer than
    // it, and undici's body timeout already ends a stalled download.
    await this.#retry(`GET ${ROUTES.archive}`, signal, this.#o.giveUpAfterMs, async () => {
      const response = await this.#send('GET', ROUTES.archive, { signal });
      const hash = createHash('sha256');
      response.body.on('data', (chunk: Buffer) => hash.update(chunk));
      await pipeline(response.body, createWriteStream(partial));
      const actual = hash.digest('hex');
      if (actual !== sha256) {
        await rm(partial, { force: true });
        // A download cut short by a proxy is worth another try.
        throw new K6DistributedError(
          'ARCHIVE_CHECKSUM_MISMATCH',
          `archive checksum ${actual} ≠ announced ${sha256}`,
          { data: { retry: true } },
        );
      }
    });
    await rename(partial, path);
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }

  async #call<T>(
    method: 'GET' | 'POST',
    path: string,
    schema: z.ZodType<T> | undefined,
    options: RequestOptions = {},
  ): Promise<T> {
    const what = `${method} ${path}`;
    // A held poll is not late before its hold and a grace have passed.
    const held = options.heldMs === undefined ? 0 : options.heldMs + HELD_ANSWER_GRACE_MS;
    const window = Math.max(this.#o.giveUpAfterMs, held);
    return this.#retry(what, options.signal, window, async (deadline) => {
      // An attempt ends at the give-up deadline: a request swallowed by a partition (a
      // black-holed connection, a poll in flight when the network went) would otherwise
      // wait out its own timeout, up to hold + 15 s past the dead-man deadline.
      const bound = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
      const signal = options.signal ? AbortSignal.any([options.signal, bound]) : bound;
      let response: Dispatcher.ResponseData;
      try {
        response = await this.#send(method, path, { ...options, signal });
      } catch (error) {
        if (!bound.aborted || options.signal?.aborted) throw error;
        throw new Error(`no answer to ${what} before the dead-man deadline`, { cause: error });
      }
      const json: unknown = await response.body.json();
      if (!schema) return undefined as T;
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        throw new K6DistributedError(
          'COORDINATOR_ERROR',
          `the coordinator at ${this.#o.url} answered ${method} ${path} with an unexpected ` +
            `body (${parsed.error.issues[0]?.message ?? 'invalid'}). Is that URL really a ` +
            'k6-distributed coordinator of the same version?',
        );
      }
      return parsed.data;
    });
  }

  /** One request; throws a typed error on a non-2xx answer. */
  async #send(
    method: 'GET' | 'POST',
    path: string,
    options: RequestOptions,
  ): Promise<Dispatcher.ResponseData> {
    const token =
      typeof options.auth === 'function' ? await options.auth() : (options.auth ?? this.#token);
    const response = await this.#pool.request({
      method,
      path,
      signal: options.signal,
      headersTimeout: options.timeoutMs ?? 30_000,
      bodyTimeout: options.timeoutMs ?? 30_000,
      headers: {
        [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    if (response.statusCode < 300) return response;
    const text = await response.body.text();
    const parsed = ErrorBody.safeParse(parseJson(text));
    const message = parsed.success ? parsed.data.error.message : text.slice(0, 300);
    const code = parsed.success ? parsed.data.error.code : 'COORDINATOR_ERROR';
    throw new K6DistributedError(
      knownCode(code),
      `the coordinator answered ${method} ${path} with ${String(response.statusCode)}: ${message}`,
      { data: { statusCode: response.statusCode, retry: retryable(response.statusCode) } },
    );
  }

  /**
   * Runs `attempt` until it succeeds, a non-retryable error, or the give-up
   * deadline, `windowMs` after the call began; no wait between attempts goes
   * past that deadline.
   */
  async #retry<T>(
    what: string,
    signal: AbortSignal | undefined,
    windowMs: number,
    attempt: (deadline: number) => Promise<T>,
  ) {
    const backoff = new Backoff(this.#o.backoff);
    const began = Date.now();
    const deadline = began + windowMs;
    for (;;) {
      let failure: unknown;
      try {
        return await attempt(deadline);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (!isRetryable(error)) throw error;
        failure = error;
      }
      if (this.#gone) throw this.#gone;
      this.#lookForFailure();
      if (Date.now() < deadline) {
        this.#o.log.debug(`${what} failed (${errorMessage(failure)}); retrying`);
        await backoff.wait(signal, deadline - Date.now());
      }
      if (Date.now() >= deadline) {
        throw new K6DistributedError(
          'COORDINATOR_UNREACHABLE',
          `lost the coordinator at ${this.#o.url}: ${what} has failed for ` +
            `${String(Math.round((Date.now() - began) / 1000))} s ` +
            `(last error: ${errorMessage(failure)})`,
          { cause: failure },
        );
      }
    }
  }

  /**
   * Looks, in the background so retries keep their pace, for the
   * coordinator's word that it failed; the next failed attempt of any
   * request then ends with it. A failed look is no news.
   */
  #lookForFailure(): void {
    const check = this.#o.coordinatorGone;
    if (!check || this.#looking || Date.now() < this.#nextGoneCheck) return;
    this.#looking = true;
    this.#nextGoneCheck = Date.now() + this.#o.goneCheckIntervalMs;
    void check()
      .then(
        (gone) => (this.#gone ??= gone),
        () => undefined,
      )
      .finally(() => (this.#looking = false));
  }
}

/**
 * Network errors, 429/5xx answers and a corrupt archive download are retried;
 * 4xx answers and bad bodies are not: ours say so in `data.retry`.
 */
function isRetryable(error: unknown): boolean {
  if (!(error instanceof K6DistributedError)) return true;
  return error.data.retry === true;
}

const FORWARDED_CODES: readonly string[] = [
  'PROTOCOL_MISMATCH',
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'PAYLOAD_TOO_LARGE',
  'NOT_FOUND',
  'RUN_STARTED',
] satisfies ErrorCode[];

/** The coordinator's error code when it is one an agent acts on, else COORDINATOR_ERROR. */
function knownCode(code: string): ErrorCode {
  return FORWARDED_CODES.includes(code) ? (code as ErrorCode) : 'COORDINATOR_ERROR';
}
