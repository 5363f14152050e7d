import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod } from 'node:fs/promises';

import * as tc from '@actions/tool-cache';

import { errorMessage, K6DistributedError } from '../errors.js';
import type { Logger } from '../runtime/logger.js';
import { findOnPath, isExecutable } from '../runtime/which.js';

/** The cloudflared release the action installs when none is on the runner. */
export const CLOUDFLARED_VERSION = '2024.12.2';

/**
 * sha256 of each pinned release asset. Cloudflare publishes no checksum file
 * next to the binaries; these are the sums recorded by a package manager that
 * verifies every release (cashapp/hermit-packages, cloudflared.hcl). Platforms
 * without an entry bring their own cloudflared (PATH or CLOUDFLARED_PATH).
 */
const PINNED_SHA256: Readonly<Record<string, string>> = {
  'cloudflared-linux-amd64': '5237675a5e806120729acc78c5be02f9db5f406717699587abfa72b49b39fe40',
};

const RELEASES_URL = 'https://github.com/cloudflare/cloudflared/releases/download';

export interface InstallOptions {
  env: NodeJS.ProcessEnv;
  log: Logger;
  platform?: NodeJS.Platform;
  arch?: string;
  /** Release download base (tests serve one on loopback). */
  releasesUrl?: string;
}

/**
 * cloudflared for the quick tunnel: CLOUDFLARED_PATH, else `cloudflared` on
 * PATH, else the pinned release, downloaded once per runner tool cache and
 * verified against its pinned sha256.
 */
export async function installCloudflared(options: InstallOptions): Promise<string> {
  const { env, log } = options;
  if (env.CLOUDFLARED_PATH) {
    if (!(await isExecutable(env.CLOUDFLARED_PATH))) {
      throw tunnelError(`CLOUDFLARED_PATH=${env.CLOUDFLARED_PATH} is not an executable file`);
    }
    log.info(`Using cloudflared from CLOUDFLARED_PATH: ${env.CLOUDFLARED_PATH}`);
    return env.CLOUDFLARED_PATH;
  }
  const onPath = await findOnPath('cloudflared', env);
  if (onPath) {
    log.info(`Using cloudflared from PATH: ${onPath}`);
    return onPath;
  }
  const asset = assetName(options.platform ?? process.platform, options.arch ?? process.arch);
  const cached = tc.find('cloudflared', CLOUDFLARED_VERSION);
  if (cached) return `${cached}/cloudflared`;
  const url = `${options.releasesUrl ?? RELEASES_URL}/${CLOUDFLARED_VERSION}/${asset}`;
  let file: string;
  try {
    file = await tc.downloadTool(url);
  } catch (error) {
    throw tunnelError(`could not download ${url}: ${errorMessage(error)}`);
  }
  const actual = await sha256(file);
  if (actual !== PINNED_SHA256[asset]) {
    throw tunnelError(
      `checksum mismatch for ${asset} ${CLOUDFLARED_VERSION}: expected ${String(PINNED_SHA256[asset])}, ` +
        `got ${actual}; retry, or install cloudflared yourself and set CLOUDFLARED_PATH`,
    );
  }
  await chmod(file, 0o755);
  const dir = await tc.cacheFile(file, 'cloudflared', 'cloudflared', CLOUDFLARED_VERSION);
  log.info(`Installed cloudflared ${CLOUDFLARED_VERSION} (sha256 ${actual} verified)`);
  return `${dir}/cloudflared`;
}

function assetName(platform: NodeJS.Platform, arch: string): string {
  const name = `cloudflared-${platform}-${arch === 'x64' ? 'amd64' : arch}`;
  if (!(name in PINNED_SHA256)) {
    throw tunnelError(
      `no pinned cloudflared release for ${platform}/${arch}: put cloudflared on PATH (or set ` +
        'CLOUDFLARED_PATH), or use "tunnel: none" with "coordinator-url"',
    );
  }
  return name;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function tunnelError(message: string): K6DistributedError {
  return new K6DistributedError('TUNNEL_FAILED', message);
}
