/**
 * k6 provisioning, source by source. The real k6 and the real Go toolchain are
 * used wherever they can be; the GitHub release download runs against a fake
 * release server on loopback (GitHub cannot be reached from tests), serving a
 * tarball of a stand-in k6.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

import { hasErrorCode } from '../../src/errors.js';
import { cachedK6Path, provisionK6, type ProvisionOptions } from '../../src/k6/provision.js';
import type { Logger } from '../../src/runtime/logger.js';
import { findOnPath } from '../../src/runtime/which.js';
import { tempDir, writeExecutable } from '../helpers/fs.js';
import { testK6Path } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const run = promisify(execFile);

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (m: string) => lines.push(m);
  return { lines, debug: push, info: push, warning: push, error: push };
}

/** process.env's PATH minus every folder that holds a `k6`. */
async function pathWithoutK6(): Promise<string> {
  const dirs = (process.env.PATH ?? '').split(delimiter);
  const kept: string[] = [];
  for (const dir of dirs) {
    if (!(await findOnPath('k6', { PATH: dir }))) kept.push(dir);
  }
  return kept.join(delimiter);
}

async function provision(options: ProvisionOptions) {
  const log = recordingLogger();
  const result = await provisionK6({ log, ...options });
  return { result, log };
}

async function expectFailure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  const failure: unknown = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  return failure as Error & { code?: string };
}

describe('provisionK6', () => {
  it('uses K6_PATH first, and logs the source and version', async () => {
    const { result, log } = await provision({
      env: { ...process.env, K6_PATH: testK6Path(), PATH: '' },
      cacheDir: await tempDir(),
    });
    expect(result).toEqual({ path: testK6Path(), version: '2.2.0', source: 'K6_PATH' });
    expect(log.lines).toEqual([`Using k6 v2.2.0 from K6_PATH: ${testK6Path()}`]);
  });

  it('refuses a K6_PATH k6 below the minimum instead of falling through', async () => {
    const dir = await tempDir();
    const old = await writeExecutable(join(dir, 'k6'), 'echo "k6 v0.49.0 (go1.21.6, linux/amd64)"');
    const cacheDir = await tempDir();
    await mkdir(dirname(cachedK6Path(cacheDir, '2.2.0')), { recursive: true });
    await symlink(testK6Path(), cachedK6Path(cacheDir, '2.2.0'));

    const failure = await expectFailure(
      provisionK6({ env: { ...process.env, K6_PATH: old }, cacheDir }),
    );

    expect(failure.code).toBe('K6_VERSION_UNSUPPORTED');
    expect(failure.message).toMatch(/k6 v0\.49\.0 at .*k6 is too old.*v1\.0\.0 or newer/);
  });

  it('reports a K6_PATH that is not k6 with the fix', async () => {
    const notK6 = await writeExecutable(join(await tempDir(), 'k6'), 'echo "hello"');
    const failure = await expectFailure(provisionK6({ env: { K6_PATH: notK6, PATH: '' } }));
    expect(failure.code).toBe('K6_VERSION_UNREADABLE');
    expect(failure.message).toMatch(/did not print a k6 version.*unset K6_PATH/s);
  });

  it('uses k6 on PATH when K6_PATH is unset', async () => {
    const bin = await tempDir();
    await symlink(testK6Path(), join(bin, 'k6'));
    const { result } = await provision({
      env: { ...process.env, K6_PATH: undefined, PATH: bin },
      cacheDir: await tempDir(),
    });
    expect(result).toMatchObject({ path: join(bin, 'k6'), source: 'PATH', version: '2.2.0' });
  });

  it('then the cached copy of the requested version', async () => {
    const cacheDir = await tempDir();
    await mkdir(dirname(cachedK6Path(cacheDir, '2.2.0')), { recursive: true });
    await symlink(testK6Path(), cachedK6Path(cacheDir, '2.2.0'));
    const { result } = await provision({
      env: { ...process.env, K6_PATH: undefined, PATH: await pathWithoutK6() },
      cacheDir,
    });
    expect(result).toMatchObject({ path: cachedK6Path(cacheDir, '2.2.0'), source: 'cache' });
  });

  it('builds k6 with the real Go toolchain into an empty cache, then reuses it', async () => {
    const cacheDir = await tempDir();
    const env = { ...process.env, K6_PATH: undefined, PATH: await pathWithoutK6() };

    const built = await provision({ env, cacheDir });
    expect(built.result).toMatchObject({ source: 'go-build', version: '2.2.0' });
    expect(built.result.path).toBe(cachedK6Path(cacheDir, '2.2.0'));
    expect(built.log.lines[0]).toMatch(
      /Building k6 v2\.2\.0 with Go \(go\.k6\.io\/k6\/v2@v2\.2\.0\)/,
    );

    const again = await provision({ env, cacheDir });
    expect(again.result).toMatchObject({ source: 'cache', path: built.result.path });
  }, 600_000);

  it('fails with every way to fix it when nothing works', async () => {
    const cacheDir = await tempDir();
    const failure = await expectFailure(
      provisionK6({ env: { HOME: process.env.HOME, PATH: await tempDir() }, cacheDir }),
    );
    expect(failure.code).toBe('K6_NOT_FOUND');
    expect(failure.message).toContain('K6_PATH is not set');
    expect(failure.message).toContain(`no cached k6 at ${cachedK6Path(cacheDir, '2.2.0')}`);
    expect(failure.message).toContain('not on a GitHub runner');
    expect(failure.message).toMatch(/Go is not installed/);
    expect(failure.message).toMatch(
      /Fix it with one of:[\s\S]*install k6[\s\S]*set K6_PATH[\s\S]*install Go/,
    );
  });
});

describe('provisionK6 on a GitHub runner (fake release server: GitHub cannot be reached)', () => {
  const saved = { ...process.env };
  let releases: TargetServer;
  let tarball: Buffer;

  beforeEach(async () => {
    // @actions/tool-cache reads these from process.env, as on a runner.
    process.env.RUNNER_TOOL_CACHE = await tempDir('k6d-toolcache-');
    process.env.RUNNER_TEMP = await tempDir('k6d-runnertemp-');
    releases = await TargetServer.start({ status: 404, body: 'Not Found' });
    const work = await tempDir();
    await mkdir(join(work, 'k6-v9.9.9-linux-amd64'));
    await writeExecutable(
      join(work, 'k6-v9.9.9-linux-amd64', 'k6'),
      'echo "k6 v9.9.9 (commit/stand-in, go1.26.8, linux/amd64)"',
    );
    await run('tar', ['-czf', join(work, 'k6.tar.gz'), '-C', work, 'k6-v9.9.9-linux-amd64']);
    tarball = await readFile(join(work, 'k6.tar.gz'));
  });

  afterEach(() => {
    process.env = { ...saved };
  });

  function serve(version: string, checksum: string) {
    const asset = `k6-v${version}-linux-amd64.tar.gz`;
    releases.respond(`/v${version}/${asset}`, { body: tarball });
    releases.respond(`/v${version}/k6-v${version}-checksums.txt`, {
      body: `${'0'.repeat(64)}  k6-v${version}-linux-arm64.tar.gz\n${checksum}  ${asset}\n`,
    });
  }

  /** Provisioning options as on a runner with no k6, downloading from the fake server. */
  const onRunner = async (version: string): Promise<ProvisionOptions> => ({
    version,
    env: {
      ...process.env,
      GITHUB_ACTIONS: 'true',
      K6_PATH: undefined,
      PATH: await pathWithoutK6(),
    },
    cacheDir: await tempDir(),
    release: { baseUrl: releases.url, platform: 'linux', arch: 'x64' },
  });

  it('downloads, verifies against the published checksum, caches, and reuses', async () => {
    serve('9.9.9', createHash('sha256').update(tarball).digest('hex'));
    const options = await onRunner('9.9.9');

    const first = await provision(options);

    expect(first.result).toMatchObject({ source: 'github-release', version: '9.9.9' });
    expect(first.result.path.startsWith(process.env.RUNNER_TOOL_CACHE ?? '-')).toBe(true);
    expect(first.log.lines.join('\n')).toMatch(
      /Verified k6-v9\.9\.9-linux-amd64\.tar\.gz sha256 [0-9a-f]{64} \(published in /,
    );
    expect(releases.count('/v9.9.9/k6-v9.9.9-linux-amd64.tar.gz')).toBe(1);

    const second = await provision(options);
    expect(second.result).toMatchObject({ source: 'github-release', path: first.result.path });
    expect(releases.count('/v9.9.9/k6-v9.9.9-linux-amd64.tar.gz')).toBe(1);
  });

  it('refuses a download whose checksum does not match, without falling back', async () => {
    serve('9.9.9', 'f'.repeat(64));
    const failure = await expectFailure(provisionK6(await onRunner('9.9.9')));
    expect(failure.code).toBe('K6_CHECKSUM_MISMATCH');
    expect(failure.message).toMatch(/expected f{64} \(published in .*\), got [0-9a-f]{64}/);
  });

  it('checks the pinned checksum for the pinned release, not the published one', async () => {
    serve('2.2.0', createHash('sha256').update(tarball).digest('hex'));
    const failure = await expectFailure(provisionK6(await onRunner('2.2.0')));
    expect(hasErrorCode(failure, 'K6_CHECKSUM_MISMATCH')).toBe(true);
    expect(failure.message).toMatch(/expected b5a8003c[0-9a-f]+ \(pinned in k6-distributed\)/);
    expect(releases.count('/v2.2.0/k6-v2.2.0-checksums.txt')).toBe(0);
  });
});
