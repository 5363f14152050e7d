import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

import { getExecOutput } from '@actions/exec';

import { K6DistributedError } from '../errors.js';
import type { Logger } from '../runtime/logger.js';
import { findOnPath } from '../runtime/which.js';
import { k6GoModule } from './version.js';

export interface GoBuildOptions {
  version: string;
  /** Where the binary ends up; written atomically, so concurrent builds are safe. */
  destination: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
}

/**
 * Builds k6 from its Go module, the equivalent of `go install go.k6.io/k6/v2@v<ver>`.
 *
 * We download the exact module version and build it in place instead of calling
 * `go install pkg@version` because the latter also asks the proxy for the
 * module's version list (to report deprecations) and fails outright where a
 * proxy or mirror does not serve that list. Same sources, same go.sum.
 */
export async function buildK6WithGo(options: GoBuildOptions): Promise<void> {
  const { version, destination, log } = options;
  const module = `${k6GoModule(version)}@v${version}`;
  // GOFLAGS from the user's shell (e.g. -mod=vendor) must not leak into this build.
  const env = { ...stringEnv(options.env), GOFLAGS: '-mod=readonly', GOWORK: 'off' };
  const goPath = await findOnPath('go', options.env);
  if (goPath === undefined) {
    throw buildError('Go is not installed (no `go` on PATH); install Go 1.25 or newer');
  }

  log.info(`Building k6 v${version} with Go (${module}); this takes a minute, once per machine`);
  const download = await go(goPath, ['mod', 'download', '-json', module], env, undefined);
  const dir = (JSON.parse(download) as { Dir?: string }).Dir;
  if (!dir) throw buildError(`go mod download did not report a directory for ${module}`);

  await mkdir(dirname(destination), { recursive: true });
  const temporary = `${destination}.tmp-${process.pid}-${Date.now()}`;
  try {
    await go(goPath, ['build', '-trimpath', '-o', temporary, '.'], env, dir);
    await rename(temporary, destination);
  } finally {
    await rm(temporary, { force: true });
  }
}

async function go(
  goPath: string,
  args: string[],
  env: Record<string, string>,
  cwd: string | undefined,
): Promise<string> {
  const result = await getExecOutput(goPath, args, {
    env,
    cwd,
    silent: true,
    ignoreReturnCode: true,
  });
  if (result.exitCode !== 0) {
    throw buildError(`\`go ${args.join(' ')}\` failed:\n${result.stderr.trim()}`);
  }
  return result.stdout;
}

function buildError(detail: string): K6DistributedError {
  return new K6DistributedError('K6_BUILD_FAILED', detail);
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}
