import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { errorMessage } from '../errors.js';
import { METRIC_LIMITS } from '../protocol/messages.js';
import { decodeCloudPush } from '../k6/cloud-wire.js';
import { CLOUD_AGGREGATION_PERIOD_MS, type CloudSeries } from '../metrics/cloud-series.js';

export interface CloudIngestOptions {
  /** Receives every decoded push, in arrival order. */
  onSeries: (series: CloudSeries[]) => void;
  /** Problems worth a warning (each kind once). */
  warn: (message: string) => void;
  /** Largest request body accepted (default 16 MiB; k6 pushes ≤ 1,000 series at a time). */
  maxBodyBytes?: number;
}

/**
 * What the test-run creation answers (k6 v2.2.0 cloudapi CreateTestRunResponse
 * `config`, applied over k6's own cloud settings): 1 s aggregation buckets
 * pushed ~100 ms apart once a bucket is 1 s old (whole seconds, or k6 exits
 * 255), each flush in one push (k6 splits a flush into batches of
 * maxTimeSeriesInBatch series, 1,000 by default, and pushes them apart: a
 * delta holding one batch but not the next would hold a request's
 * http_reqs without its http_req_duration, which the coordinator refuses as
 * impossible), no traces (their default dials a Grafana host), and the line k6
 * prints in place of a cloud link.
 */
const RUN_CONFIG = {
  aggregationPeriod: `${String(CLOUD_AGGREGATION_PERIOD_MS / 1000)}s`,
  aggregationWaitPeriod: '1s',
  metricPushInterval: '100ms',
  maxTimeSeriesInBatch: METRIC_LIMITS.maxSeriesPerDelta,
  tracesEnabled: false,
  testRunDetails: 'k6-distributed agent (loopback metric ingest)',
} as const;

const TEST_RUN_ID = '1';
/**
 * A test run id from the test's own `__ENV.K6_CLOUDRUN_TEST_RUN_ID` makes k6
 * skip the creation call and push under that id: any id is this run's.
 */
const PUSH_PATH = /^\/v2\/metrics\/[^/]+$/;
const FINISH_PATH = /^\/v1\/tests\/[^/]+$/;
/** Idempotency keys remembered, so a push k6 retried after we took it is not counted twice. */
const KEYS_REMEMBERED = 4_096;
const CREATE_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * The loopback endpoint an agent's k6 pushes its metrics to through its
 * built-in cloud output (`--out cloud`, K6_CLOUD_HOST pointing here): it
 * answers k6's three calls (create the test run, push metrics, finish) and
 * hands every push, decoded, to `onSeries`. Only this agent's k6 knows the
 * token; anything else on the machine is refused.
 */
export class CloudIngest {
  readonly #o: CloudIngestOptions;
  readonly #server: Server;
  readonly #token = randomBytes(16).toString('hex');
  readonly #keys = new Set<string>();
  readonly #warned = new Set<string>();
  #finished = false;
  #pushes = 0;
  #refused = 0;

  private constructor(options: CloudIngestOptions) {
    this.#o = options;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(options: CloudIngestOptions): Promise<CloudIngest> {
    const ingest = new CloudIngest(options);
    await new Promise<void>((resolve, reject) => {
      ingest.#server.once('error', reject);
      ingest.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return ingest;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${String(port)}`;
  }

  /** k6 called the end of the test run: everything it measured was pushed. */
  get finished(): boolean {
    return this.#finished;
  }

  /** Pushes taken, and pushes refused (undecodable). */
  get stats(): { pushes: number; refused: number } {
    return { pushes: this.#pushes, refused: this.#refused };
  }

  /**
   * The environment that points the agent's k6 cloud output here. Also set
   * in the environment, not only in RUN_CONFIG, so the settings hold before
   * k6 reads the answer; no archive upload (k6 would otherwise build and
   * send the whole test archive).
   */
  k6Environment(): Record<string, string> {
    return {
      K6_CLOUD_HOST: this.url,
      K6_CLOUD_TOKEN: this.#token,
      K6_CLOUD_NAME: 'k6-distributed',
      K6_NO_ARCHIVE_UPLOAD: 'true',
      K6_CLOUD_TRACES_ENABLED: 'false',
      K6_CLOUD_AGGREGATION_PERIOD: RUN_CONFIG.aggregationPeriod,
      K6_CLOUD_AGGREGATION_WAIT_PERIOD: RUN_CONFIG.aggregationWaitPeriod,
      K6_CLOUD_METRIC_PUSH_INTERVAL: RUN_CONFIG.metricPushInterval,
      K6_CLOUD_MAX_TIME_SERIES_IN_BATCH: String(RUN_CONFIG.maxTimeSeriesInBatch),
    };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      reply = await this.#route(req);
    } catch (error) {
      reply = [400, { error: { message: errorMessage(error) } }];
    }
    if (res.headersSent) return;
    res.writeHead(reply[0], { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply[1]));
  }

  async #route(req: IncomingMessage): Promise<Reply> {
    if (req.headers.authorization !== `Token ${this.#token}`) {
      return [401, { error: { code: 1, message: 'unknown token' } }];
    }
    const path = new URL(req.url ?? '/', 'http://ingest').pathname;
    if (req.method !== 'POST') return [405, { error: { message: 'POST only' } }];
    if (path === '/v1/tests') {
      await readBody(req, CREATE_BODY_LIMIT);
      return [200, { reference_id: TEST_RUN_ID, config: RUN_CONFIG }];
    }
    if (PUSH_PATH.test(path)) return this.#push(req);
    if (FINISH_PATH.test(path)) {
      await readBody(req, CREATE_BODY_LIMIT);
      this.#finished = true;
      return [200, {}];
    }
    return [404, { error: { message: `no route ${path}` } }];
  }

  async #push(req: IncomingMessage): Promise<Reply> {
    const body = await readBody(req, this.#o.maxBodyBytes ?? 16 * 1024 * 1024);
    const key = req.headers['k6-idempotency-key'];
    if (typeof key === 'string' && this.#keys.has(key)) return [200, {}];
    let series: CloudSeries[];
    try {
      series = decodeCloudPush(body);
    } catch (error) {
      this.#refused++;
      this.#warnOnce(
        'decode',
        `could not read a metric push of this agent's k6 (${errorMessage(error)}); ` +
          'its samples are lost. Run with --transport json to use the JSON stream instead.',
      );
      // 400: k6 does not retry it (a retry would fail the same way).
      return [400, { error: { message: errorMessage(error) } }];
    }
    if (typeof key === 'string') this.#remember(key);
    this.#pushes++;
    this.#o.onSeries(series);
    return [200, {}];
  }

  #remember(key: string): void {
    this.#keys.add(key);
    if (this.#keys.size > KEYS_REMEMBERED) {
      const oldest = this.#keys.values().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
  }

  #warnOnce(kind: string, message: string): void {
    if (this.#warned.has(kind)) return;
    this.#warned.add(kind);
    this.#o.warn(message);
  }
}

/** Status and JSON body of an answer. */
type Reply = [number, unknown];

/** The whole body, refusing (and dropping the connection) past `limit` bytes. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.destroy();
    throw new Error(`body of ${String(declared)} bytes is over ${String(limit)}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.destroy();
      throw new Error(`body is over ${String(limit)} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
