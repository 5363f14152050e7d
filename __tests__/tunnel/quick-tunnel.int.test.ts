/**
 * The quick tunnel supervisor against a FAKE cloudflared executable
 * (__tests__/fixtures/fake-cloudflared, a stand-in because a real quick tunnel
 * needs Cloudflare): URL discovery, readiness, the public-URL probe through
 * the fake edge, a slow start, a crash at start and mid-run, and cleanup.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from '@jest/globals';

import { silentLogger } from '../../src/runtime/logger.js';
import { installCloudflared } from '../../src/tunnel/install.js';
import { QuickTunnel, type QuickTunnelOptions } from '../../src/tunnel/quick-tunnel.js';
import { onCleanup } from '../helpers/cleanup.js';

const FAKE = fileURLToPath(new URL('../fixtures/fake-cloudflared/cloudflared', import.meta.url));

/** The local "coordinator": /v1/health answers 200 and counts its callers. */
async function coordinator() {
  let healthChecks = 0;
  const server = createServer((req, res) => {
    if (req.url === '/v1/health') healthChecks++;
    res.writeHead(req.url === '/v1/health' ? 200 : 404).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
    healthChecks: () => healthChecks,
  };
}

async function start(mode: string, extra: Partial<QuickTunnelOptions> = {}, env = {}) {
  const local = await coordinator();
  const started = QuickTunnel.start({
    binary: FAKE,
    localUrl: local.url,
    scheme: 'http',
    readyTimeoutMs: 10_000,
    log: silentLogger,
    env: { ...process.env, FAKE_CLOUDFLARED_MODE: mode, ...env },
    ...extra,
  });
  started.then((t) => onCleanup(() => t.close())).catch(() => undefined);
  return { local, started };
}

/** Fake cloudflared processes still running (this file is the only one starting them). */
function fakesRunning(): string[] {
  try {
    return execFileSync('pgrep', ['-f', FAKE], { encoding: 'utf8' }).trim().split('\n');
  } catch (error) {
    if ((error as { status?: number }).status === 1) return []; // pgrep: nothing matches
    throw error;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('QuickTunnel (fake cloudflared executable)', () => {
  it('finds the hostname on /quicktunnel, waits for /ready and probes the URL end to end', async () => {
    const { local, started } = await start('normal');
    const tunnel = await started;
    expect(tunnel.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(tunnel.url).not.toBe(local.url);
    expect(local.healthChecks()).toBeGreaterThanOrEqual(1);
    const answer = await fetch(`${tunnel.url}/v1/health`);
    expect(answer.status).toBe(200);
  });

  it('waits through a slow start', async () => {
    const { local, started } = await start('slow', {}, { FAKE_CLOUDFLARED_READY_MS: '1500' });
    const t0 = Date.now();
    const tunnel = await started;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_400);
    expect(local.healthChecks()).toBeGreaterThanOrEqual(1);
    expect(tunnel.url).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });

  it('fails at once with cloudflared stderr when it crashes at start', async () => {
    const { started } = await start('crash');
    await expect(started).rejects.toMatchObject({
      code: 'TUNNEL_FAILED',
      message: expect.stringMatching(
        /cloudflared exited before the tunnel was ready \(exit code 1\):[\s\S]*Failed to create new quick Tunnel/,
      ),
    });
  });

  it('gives up at the deadline when it never connects, and leaves no process', async () => {
    const { started } = await start('never-ready', { readyTimeoutMs: 1_000 });
    await expect(started).rejects.toThrow(
      /not ready within 1 s \(waiting for http:\/\/127\.0\.0\.1:\d+ to connect to Cloudflare\): re-run the job, or use "tunnel: none"/,
    );
    expect(fakesRunning()).toEqual([]);
  });

  it('reports a crash mid-run through `exited`', async () => {
    const { started } = await start('crash-later', {}, { FAKE_CLOUDFLARED_CRASH_MS: '300' });
    const tunnel = await started;
    await expect(tunnel.exited).resolves.toEqual({ code: 1, signal: null });
  });

  it('close() stops cloudflared and is idempotent', async () => {
    const { started } = await start('normal');
    const tunnel = await started;
    const pid = tunnel.pid;
    expect(alive(pid)).toBe(true);
    await Promise.all([tunnel.close(), tunnel.close()]);
    expect(alive(pid)).toBe(false);
    await expect(tunnel.exited).resolves.toEqual({ code: 0, signal: null });
  });
});

describe('installCloudflared', () => {
  it('uses CLOUDFLARED_PATH when set, and refuses one that is not executable', async () => {
    const log = silentLogger;
    await expect(installCloudflared({ env: { CLOUDFLARED_PATH: FAKE }, log })).resolves.toBe(FAKE);
    await expect(
      installCloudflared({ env: { CLOUDFLARED_PATH: '/nonexistent/cloudflared' }, log }),
    ).rejects.toThrow(/CLOUDFLARED_PATH=\/nonexistent\/cloudflared is not an executable file/);
  });

  it('tells users of an unpinned platform what to do', async () => {
    await expect(
      installCloudflared({
        env: { PATH: '' },
        log: silentLogger,
        platform: 'freebsd',
        arch: 'x64',
      }),
    ).rejects.toThrow(/no pinned cloudflared release for freebsd\/x64: put cloudflared on PATH/);
  });
});
