import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { K6DistributedError, errorMessage } from '../errors.js';
import { parseGoDuration } from '../k6/archive.js';
import type { Logger } from '../runtime/logger.js';

/**
 * k6's web dashboard switches (internal/dashboard/options.go), read for the
 * merged run (issue 20.8): `K6_WEB_DASHBOARD=true` or `--out web-dashboard`
 * (its `port=`, `host=`, `period=`, `export=` query), K6_WEB_DASHBOARD_PORT
 * (5665; 0 any free port, -1 no page), _HOST, _PERIOD (10s) and _EXPORT.
 * Agents never start k6's own: one per agent would show its share.
 */
export interface DashboardSettings {
  /** k6 binds every interface by default; the coordinator binds loopback unless told. */
  host: string;
  /** -1: no live page (an export only). */
  port: number;
  periodMs: number;
  /** The HTML report written at the end, as k6 writes its dashboard's. */
  export: string | undefined;
}

const DEFAULT_PORT = 5665;
const DEFAULT_PERIOD_MS = 10_000;

/** The dashboard settings of a run, or undefined when neither switch is on. */
export function dashboardSettings(
  env: NodeJS.ProcessEnv,
  outputs: readonly string[],
): DashboardSettings | undefined {
  const output = outputs.find((o) => o === 'web-dashboard' || o.startsWith('web-dashboard='));
  if (env.K6_WEB_DASHBOARD !== 'true' && output === undefined) return undefined;
  const query = new URLSearchParams(output?.slice('web-dashboard='.length) ?? '');
  // As k6's getopts: a query value wins over the variable, an empty one counts as unset.
  const fromQuery = (param: string) => query.get(param) || undefined;
  const fromEnv = (name: string) => env[`K6_WEB_DASHBOARD_${name}`] || undefined;
  const pick = (param: string, name: string) => fromQuery(param) ?? fromEnv(name);
  const port = pick('port', 'PORT');
  const period = pick('period', 'PERIOD');
  const exported =
    fromQuery('export') ?? fromQuery('report') ?? fromEnv('EXPORT') ?? fromEnv('REPORT');
  const settings: DashboardSettings = {
    host: pick('host', 'HOST') || '127.0.0.1',
    port: port === undefined ? DEFAULT_PORT : Number(port),
    periodMs: DEFAULT_PERIOD_MS,
    export: exported || undefined,
  };
  if (!Number.isInteger(settings.port) || settings.port < -1 || settings.port > 65_535) {
    throw invalidDashboard(`port "${String(port)}"`, 'a port number, 0 for any free one, or -1');
  }
  if (period !== undefined) {
    try {
      settings.periodMs = parseGoDuration(period);
    } catch {
      throw invalidDashboard(`period "${period}"`, 'a duration such as 10s');
    }
    if (!(settings.periodMs > 0))
      throw invalidDashboard(`period "${period}"`, 'a duration above 0');
  }
  return settings;
}

/**
 * Where the run's HTML report goes for K6_WEB_DASHBOARD_EXPORT (k6 writes
 * its dashboard's report there at the end); undefined without the dashboard,
 * as in k6, or when its settings are invalid (the run then says why).
 */
export function dashboardExport(
  env: NodeJS.ProcessEnv,
  outputs: readonly string[],
): string | undefined {
  try {
    return dashboardSettings(env, outputs)?.export;
  } catch {
    return undefined;
  }
}

function invalidDashboard(what: string, fix: string): K6DistributedError {
  return new K6DistributedError('INVALID_OPTION', `invalid web dashboard ${what}: give ${fix}`);
}

/** At most one page is rendered per this many ms, however often it is asked for. */
const RENDER_EVERY_MS = 1_000;

/**
 * The coordinator's live page of the merged run: GET / returns the page
 * `render` makes (cached for a second, so reloads cannot load the
 * coordinator), anything else 404/405. Like k6's dashboard it has no
 * authentication, so it binds loopback unless K6_WEB_DASHBOARD_HOST says
 * otherwise; it never shares the coordinator's (tunnelled) port.
 */
export class LiveDashboard {
  readonly #server;
  readonly #render: () => string;
  readonly #now: () => number;
  readonly #log: Logger;
  #page: { html: string; atMs: number } | undefined;
  #failed = false;

  private constructor(render: () => string, log: Logger, now: () => number) {
    this.#render = render;
    this.#log = log;
    this.#now = now;
    this.#server = createServer(
      // Slow or idle clients are let go within seconds, not at Node's 30 s check.
      { requestTimeout: 10_000, headersTimeout: 10_000, connectionsCheckingInterval: 1_000 },
      (req, res) => this.#handle(req, res),
    );
    this.#server.keepAliveTimeout = 5_000;
    this.#server.maxConnections = 64;
  }

  /**
   * Serves the page at `host:port`; undefined (after a warning) when the
   * port cannot be bound: as in k6, the run goes on without it.
   */
  static async start(options: {
    host: string;
    port: number;
    render: () => string;
    log: Logger;
    /** The clock of the page cache (tests). */
    now?: () => number;
  }): Promise<LiveDashboard | undefined> {
    const dashboard = new LiveDashboard(options.render, options.log, options.now ?? Date.now);
    try {
      await new Promise<void>((resolve, reject) => {
        dashboard.#server.once('error', reject);
        dashboard.#server.listen(options.port, options.host, () => {
          dashboard.#server.off('error', reject);
          resolve();
        });
      });
      // An error of the listening server (e.g. no descriptor left to accept with) never ends the run.
      dashboard.#server.on('error', (error) =>
        options.log.debug(`web dashboard: ${errorMessage(error)}`),
      );
    } catch (error) {
      options.log.warning(
        `the web dashboard could not listen on ${options.host}:${String(options.port)} ` +
          `(${errorMessage(error)}): the run goes on without it. Set K6_WEB_DASHBOARD_PORT ` +
          'to a free port (0 for any).',
      );
      return undefined;
    }
    return dashboard;
  }

  get url(): string {
    const { address, port } = this.#server.address() as AddressInfo;
    const host = address.includes(':') ? `[${address}]` : address;
    return `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${String(port)}`;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the page is at /\n');
      return;
    }
    const now = this.#now();
    if (!this.#page || now - this.#page.atMs >= RENDER_EVERY_MS) {
      try {
        this.#page = { html: this.#render(), atMs: now };
      } catch (error) {
        // The page is a view: a failure to draw it is said once and never ends the run.
        if (!this.#failed)
          this.#log.warning(`the web dashboard could not draw the run: ${errorMessage(error)}`);
        this.#failed = true;
        res.writeHead(500, { 'content-type': 'text/plain' }).end('the page could not be drawn\n');
        return;
      }
    }
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    });
    res.end(req.method === 'HEAD' ? undefined : this.#page.html);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
