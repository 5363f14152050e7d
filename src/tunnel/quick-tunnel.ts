import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

import { request } from 'undici';

import { freeLoopbackAddress } from '../k6/address.js';
import { Backoff } from '../runtime/backoff.js';
import type { Logger } from '../runtime/logger.js';
import { tunnelError } from './install.js';

export interface QuickTunnelOptions {
  /** The cloudflared executable. */
  binary: string;
  /** The local server to expose, e.g. http://127.0.0.1:43121 */
  localUrl: string;
  /** How long to wait for a reachable public URL (default 60 s). */
  readyTimeoutMs?: number;
  /** `https` for trycloudflare.com; `http` only for a test stand-in. */
  scheme?: 'https' | 'http';
  /** Checks the public URL answers (default: GET /v1/health is 200). */
  probe?: (url: string) => Promise<boolean>;
  /** Grace between SIGTERM and SIGKILL on close (default 5 s). */
  killAfterMs?: number;
  log: Logger;
  env: NodeJS.ProcessEnv;
}

/** A line of a quick tunnel's stderr banner carrying its URL. */
const BANNER_URL = /https:\/\/[a-z0-9-]+\.trycloudflare\.com/;
const STDERR_LINES_KEPT = 20;

/**
 * A cloudflared quick tunnel (no account) as a supervised child process: its
 * hostname comes from the metrics server's /quicktunnel (or the stderr
 * banner), it is used once /ready answers 200 and the public URL reaches our
 * server. One exec choke point; `close()` stops it (SIGTERM, then SIGKILL).
 */
export class QuickTunnel {
  /** Settles when cloudflared exits, with its code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #child: ChildProcess;
  readonly #killAfterMs: number;
  #url = '';
  #closing: Promise<void> | undefined;

  private constructor(child: ChildProcess, exited: QuickTunnel['exited'], killAfterMs: number) {
    this.#child = child;
    this.exited = exited;
    this.#killAfterMs = killAfterMs;
  }

  static async start(o: QuickTunnelOptions): Promise<QuickTunnel> {
    const metrics = await freeLoopbackAddress();
    const child = spawn(
      o.binary,
      ['tunnel', '--no-autoupdate', '--url', o.localUrl, '--metrics', metrics],
      { env: o.env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const stderr: string[] = [];
    let bannerHost: string | undefined;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter((l) => l.trim() !== '')) {
        stderr.push(line);
        if (stderr.length > STDERR_LINES_KEPT) stderr.shift();
        bannerHost ??= BANNER_URL.exec(line)?.[0].slice('https://'.length);
      }
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve) => {
        child.once('error', () => resolve({ code: null, signal: null }));
        child.once('close', (code, signal) => resolve({ code, signal }));
      },
    );
    const tunnel = new QuickTunnel(child, exited, o.killAfterMs ?? 5_000);
    const ended = exited.then((exit) => {
      throw tunnelError(
        `cloudflared exited before the tunnel was ready (${exit.signal ?? `exit code ${String(exit.code)}`})` +
          (stderr.length ? `:\n${stderr.join('\n')}` : ''),
      );
    });
    try {
      const url = await Promise.race([
        ended,
        waitUntilReachable(o, `http://${metrics}`, () => bannerHost),
      ]);
      o.log.info(`quick tunnel ready: ${url}`);
      tunnel.#url = url;
      return tunnel;
    } catch (error) {
      ended.catch(() => undefined);
      await tunnel.close();
      throw error;
    }
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** The public URL, e.g. https://a-b-c.trycloudflare.com */
  get url(): string {
    return this.#url;
  }

  /** Stops cloudflared and waits for it; safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
      this.#child.kill('SIGTERM');
      const killed = sleep(this.#killAfterMs, undefined, { ref: false }).then(() => {
        this.#child.kill('SIGKILL');
      });
      await Promise.race([this.exited, killed]);
      await this.exited;
    })();
    return this.#closing;
  }
}

async function waitUntilReachable(
  o: QuickTunnelOptions,
  metricsUrl: string,
  bannerHost: () => string | undefined,
): Promise<string> {
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  const backoff = new Backoff({ baseMs: 200, maxMs: 2_000 });
  const probe = o.probe ?? ((url: string) => health(url));
  let stage = 'cloudflared to report its hostname';
  for (;;) {
    const host = (await quickTunnelHost(metricsUrl)) ?? bannerHost();
    if (host !== undefined) {
      const url = `${o.scheme ?? 'https'}://${host}`;
      stage = `${url} to connect to Cloudflare`;
      if (await ready(metricsUrl)) {
        stage = `${url} to reach this coordinator`;
        if (await probe(url)) return url;
      }
    }
    if (Date.now() + backoff.nextDelayMs() > deadline) {
      throw tunnelError(
        `the quick tunnel was not ready within ${String(Math.round((o.readyTimeoutMs ?? 60_000) / 1000))} s ` +
          `(waiting for ${stage}): re-run the job, or use "tunnel: none" with "coordinator-url"`,
      );
    }
    await backoff.wait();
  }
}

async function getJson(url: string): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const response = await request(url, { headersTimeout: 2_000, bodyTimeout: 2_000 });
    const text = await response.body.text();
    try {
      return { status: response.statusCode, body: JSON.parse(text) as unknown };
    } catch {
      return { status: response.statusCode, body: undefined };
    }
  } catch {
    return undefined;
  }
}

async function quickTunnelHost(metricsUrl: string): Promise<string | undefined> {
  const answer = await getJson(`${metricsUrl}/quicktunnel`);
  const hostname = (answer?.body as { hostname?: unknown } | undefined)?.hostname;
  return typeof hostname === 'string' && hostname !== '' ? hostname : undefined;
}

async function ready(metricsUrl: string): Promise<boolean> {
  return (await getJson(`${metricsUrl}/ready`))?.status === 200;
}

async function health(url: string): Promise<boolean> {
  return (await getJson(`${url}/v1/health`))?.status === 200;
}
