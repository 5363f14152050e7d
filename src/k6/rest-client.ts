import { Client, errors as undiciErrors } from 'undici';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

import { K6DistributedError } from '../errors.js';
import { isLoopbackHost, parseJson } from '../runtime/net.js';

/** k6's lib.ExecutionStatus values (lib/execution.go); the REST API reports them as numbers. */
export const K6_EXECUTION_STATUS = {
  created: 0,
  initVUs: 1,
  initExecutors: 2,
  initDone: 3,
  pausedBeforeRun: 4,
  started: 5,
  setup: 6,
  running: 7,
  teardown: 8,
  ended: 9,
  interrupted: 10,
  markedAsFailed: 11,
} as const;

/** `data.attributes` of GET /v1/status (api/v1/status.go). */
export interface K6Status {
  status: number;
  paused: boolean;
  running: boolean;
  stopped: boolean;
  tainted: boolean;
  vus: number;
  vusMax: number;
}

/** Every VU is initialised and k6 waits for the unpause (`--paused`). */
export const isReadyToStart = (s: K6Status): boolean =>
  s.status === K6_EXECUTION_STATUS.pausedBeforeRun;

/**
 * The run is over. `running` is not enough: after an abort under `--linger` it
 * stays true forever (k6#6073), so `stopped` and the terminal statuses decide.
 */
export const isRunOver = (s: Pick<K6Status, 'stopped' | 'status'>): boolean =>
  s.stopped || s.status >= K6_EXECUTION_STATUS.ended;

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Stops the wait early; its reason is thrown (e.g. K6Process.exitSignal). */
  signal?: AbortSignal;
}

/**
 * Typed client for k6's own REST API. That API has no authentication, so it is
 * only ever spoken to over loopback: the constructor refuses any other host.
 */
export class K6RestClient {
  readonly #client: Client;
  readonly #origin: string;

  /** @param address host:port as given to `k6 run --address`, e.g. "127.0.0.1:6565". */
  constructor(address: string) {
    const host = address.slice(0, address.lastIndexOf(':'));
    if (!isLoopbackHost(host)) {
      throw new K6DistributedError(
        'K6_API_UNREACHABLE',
        `refusing to talk to k6's REST API at ${address}: it has no authentication, ` +
          'so k6 must listen on loopback (use --address 127.0.0.1:<port>).',
      );
    }
    this.#origin = `http://${address}`;
    this.#client = new Client(this.#origin, { connectTimeout: 2_000 });
  }

  async status(options: { signal?: AbortSignal } = {}): Promise<K6Status> {
    return statusFrom(await this.#request('GET', '/v1/status', undefined, options.signal));
  }

  async setPaused(paused: boolean): Promise<K6Status> {
    return statusFrom(await this.#request('PATCH', '/v1/status', statusEnvelope({ paused })));
  }

  unpause(): Promise<K6Status> {
    return this.setPaused(false);
  }

  /** Aborts the run; k6 then exits with 103 (stopped via REST API). */
  async stop(): Promise<K6Status> {
    return statusFrom(
      await this.#request('PATCH', '/v1/status', statusEnvelope({ stopped: true })),
    );
  }

  /**
   * Runs the script's setup() inside this k6 and returns its data (null when
   * setup returns nothing). k6 runs setup in the request's context, so the
   * request stays open as long as setup runs; k6 enforces setupTimeout itself.
   */
  async runSetup(options: { signal?: AbortSignal } = {}): Promise<unknown> {
    const body = await this.#request('POST', '/v1/setup', undefined, options.signal, 0);
    return setupDataFrom(body);
  }

  /** Hands setup data to this k6; every VU reads it at its first iteration. */
  async setSetupData(data: unknown): Promise<void> {
    await this.#request('PUT', '/v1/setup', JSON.stringify(data ?? null));
  }

  /**
   * GET /v1/metrics: k6's observed metrics (api/v1/metric_routes.go), which
   * are the metrics with samples and, with thresholds on, every metric a
   * threshold names, sampled or not. Name, type and value type of each.
   */
  async metrics(options: { signal?: AbortSignal } = {}): Promise<K6MetricEntry[]> {
    const body = await this.#request('GET', '/v1/metrics', undefined, options.signal);
    const parsed = metricsDocument.safeParse(body);
    if (!parsed.success) {
      throw new K6DistributedError(
        'K6_API_ERROR',
        `k6 REST API GET /v1/metrics answered an unexpected document: ${parsed.error.message}`,
      );
    }
    return parsed.data.data.map((m) => ({
      name: m.id,
      type: m.attributes.type,
      contains: m.attributes.contains,
    }));
  }

  async runTeardown(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#request('POST', '/v1/teardown', undefined, options.signal, 0);
  }

  /** Polls the status until `predicate` holds. While k6 starts, refused connections are retried. */
  async waitForStatus(
    predicate: (status: K6Status) => boolean,
    options: WaitOptions = {},
  ): Promise<K6Status> {
    const { timeoutMs = 60_000, intervalMs = 50, signal } = options;
    const deadline = Date.now() + timeoutMs;
    let last: K6Status | undefined;
    for (;;) {
      signal?.throwIfAborted();
      try {
        last = await this.status({ signal });
        if (predicate(last)) return last;
      } catch (error) {
        signal?.throwIfAborted();
        if ((error as { code?: unknown }).code !== 'K6_API_UNREACHABLE') throw error;
      }
      if (Date.now() >= deadline) {
        throw new K6DistributedError(
          'K6_API_TIMEOUT',
          `k6 at ${this.#origin} did not reach the awaited state within ${timeoutMs} ms ` +
            `(last status: ${last ? JSON.stringify(last) : 'API not reachable'}).`,
          { data: { last } },
        );
      }
      await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  async #request(
    method: 'GET' | 'PATCH' | 'POST' | 'PUT',
    path: string,
    body?: string,
    signal?: AbortSignal,
    timeoutMs = 30_000,
  ): Promise<unknown> {
    let response;
    try {
      response = await this.#client.request({
        method,
        path,
        body,
        signal,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      const timedOut = error instanceof undiciErrors.HeadersTimeoutError;
      throw new K6DistributedError(
        timedOut ? 'K6_API_TIMEOUT' : 'K6_API_UNREACHABLE',
        `k6 REST API ${method} ${this.#origin}${path} failed: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const text = await response.body.text();
    const json = parseJson(text);
    if (json === undefined) {
      throw new K6DistributedError(
        'K6_API_ERROR',
        `k6 REST API ${method} ${path} answered ${response.statusCode} with a body that is ` +
          `not JSON: ${JSON.stringify(text.slice(0, 200))}. Is ${this.#origin} really k6?`,
        { data: { statusCode: response.statusCode } },
      );
    }
    if (response.statusCode >= 400) {
      const first = firstApiError(json);
      throw new K6DistributedError(
        'K6_API_ERROR',
        `k6 REST API ${method} ${path} answered ${response.statusCode}: ` +
          `${first?.title ?? 'error'}: ${first?.detail ?? text}`,
        { data: { statusCode: response.statusCode, title: first?.title, detail: first?.detail } },
      );
    }
    return json;
  }
}

/** One metric of GET /v1/metrics; `name` may be a submetric's (`metric{tag:value}`). */
export interface K6MetricEntry {
  name: string;
  type: 'counter' | 'gauge' | 'rate' | 'trend';
  contains: 'default' | 'time' | 'data';
}

const metricsDocument = z.object({
  data: z
    .array(
      z.object({
        id: z.string(),
        attributes: z.object({
          type: z.enum(['counter', 'gauge', 'rate', 'trend']),
          contains: z.enum(['default', 'time', 'data']),
        }),
      }),
    )
    .max(100_000),
});

/** k6's JSON:API error document (api/v1/errors.go): `{"errors":[{status,title,detail}]}`. */
function firstApiError(body: unknown): { title?: string; detail?: string } | undefined {
  return (body as { errors?: { title?: string; detail?: string }[] } | null)?.errors?.[0];
}

function statusEnvelope(attributes: { paused?: boolean; stopped?: boolean }): string {
  return JSON.stringify({ data: { type: 'status', id: 'default', attributes } });
}

function attributesOf(body: unknown): Record<string, unknown> {
  const attributes = (body as { data?: { attributes?: unknown } } | null)?.data?.attributes;
  if (typeof attributes !== 'object' || attributes === null) {
    throw new K6DistributedError(
      'K6_API_ERROR',
      `k6 REST API answered without data.attributes: ${JSON.stringify(body).slice(0, 200)}`,
    );
  }
  return attributes as Record<string, unknown>;
}

function statusFrom(body: unknown): K6Status {
  const a = attributesOf(body);
  return {
    status: Number(a.status),
    paused: a.paused === true,
    running: a.running === true,
    stopped: a.stopped === true,
    tainted: a.tainted === true,
    vus: Number(a.vus ?? 0),
    vusMax: Number(a['vus-max'] ?? 0),
  };
}

function setupDataFrom(body: unknown): unknown {
  return attributesOf(body).data ?? null;
}
