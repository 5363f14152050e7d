import { homedir } from 'node:os';
import { join } from 'node:path';

import { K6DistributedError, errorMessage, hasErrorCode } from '../errors.js';
import { silentLogger, type Logger } from '../runtime/logger.js';
import { findOnPath, isExecutable } from '../runtime/which.js';
import { probeK6, type K6Binary } from './binary.js';
import { buildK6WithGo } from './go-build.js';
import { downloadK6Release } from './release.js';
import { K6_PINNED_VERSION, normalizeVersion } from './version.js';

/** Where the k6 in use came from, in the order they are tried. */
export type K6Source = 'K6_PATH' | 'PATH' | 'cache' | 'github-release' | 'go-build';

export interface ProvisionedK6 extends K6Binary {
  source: K6Source;
}

export interface ProvisionOptions {
  /** The k6 release to install when none is found; default: the pinned one. */
  version?: string;
  /** Where K6_PATH, PATH, HOME and the cache directory come from. */
  env: NodeJS.ProcessEnv;
  log?: Logger;
  /** Root of k6-distributed's own cache; default: see {@link defaultCacheDir}. */
  cacheDir?: string;
  /** Overrides for the release download (tests point it at a loopback server). */
  release?: { baseUrl?: string; platform?: string; arch?: string };
}

/** `$K6_DISTRIBUTED_CACHE_DIR`, else `$XDG_CACHE_HOME/k6-distributed`, else `~/.cache/k6-distributed`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return (
    env.K6_DISTRIBUTED_CACHE_DIR ??
    join(env.XDG_CACHE_HOME ?? join(env.HOME ?? homedir(), '.cache'), 'k6-distributed')
  );
}

/** Where a built k6 of a given version is kept, so each machine builds it once. */
export function cachedK6Path(cacheDir: string, version: string): string {
  return join(cacheDir, 'k6', `v${version}`, process.platform === 'win32' ? 'k6.exe' : 'k6');
}

/**
 * Finds or installs k6: `K6_PATH`, else `k6` on PATH, else our cached copy,
 * else (on a GitHub runner) the official release, else a build with Go.
 * Logs which source was used; fails with every way to fix it if none works.
 */
export async function provisionK6(options: ProvisionOptions): Promise<ProvisionedK6> {
  const version = normalizeVersion(options.version ?? K6_PINNED_VERSION);
  const env = options.env;
  const log = options.log ?? silentLogger;
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  const use = (binary: K6Binary, source: K6Source): ProvisionedK6 => {
    const note = binary.version === version ? '' : ` (v${version} was requested)`;
    log.info(`Using k6 v${binary.version} from ${source}: ${binary.path}${note}`);
    return { ...binary, source };
  };

  // An explicit K6_PATH is never skipped: its problems are the user's to see.
  if (env.K6_PATH) return use(await probeK6(env.K6_PATH, { env }), 'K6_PATH');

  const onPath = await findOnPath('k6', env);
  if (onPath) return use(await probeK6(onPath, { env }), 'PATH');
  const tried = ['K6_PATH is not set', 'no `k6` on PATH'];

  const cached = cachedK6Path(cacheDir, version);
  if (await isExecutable(cached)) return use(await probeK6(cached, { env }), 'cache');
  tried.push(`no cached k6 at ${cached}`);

  if (env.GITHUB_ACTIONS === 'true') {
    try {
      const path = await downloadK6Release({ version, log, ...options.release });
      return use(await probeK6(path, { env }), 'github-release');
    } catch (error) {
      if (hasErrorCode(error, 'K6_CHECKSUM_MISMATCH')) throw error;
      tried.push(`the release download failed: ${errorMessage(error)}`);
      log.warning(`k6 release download failed, trying to build it with Go: ${errorMessage(error)}`);
    }
  } else {
    tried.push('not on a GitHub runner, so no release download');
  }

  try {
    await buildK6WithGo({ version, destination: cached, env, log });
    return use(await probeK6(cached, { env }), 'go-build');
  } catch (error) {
    tried.push(`building with Go failed: ${errorMessage(error)}`);
  }

  throw new K6DistributedError(
    'K6_NOT_FOUND',
    `could not find or install k6 v${version}:\n  - ${tried.join('\n  - ')}\n` +
      'Fix it with one of:\n' +
      '  - install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/) so `k6` is on PATH\n' +
      '  - set K6_PATH to a k6 executable\n' +
      `  - install Go 1.25 or newer, so k6-distributed can build k6 v${version} into ${cacheDir}`,
    { data: { tried } },
  );
}
