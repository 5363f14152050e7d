import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import * as tc from '@actions/tool-cache';

import { K6DistributedError, errorMessage } from '../errors.js';
import type { Logger } from '../runtime/logger.js';

export const K6_RELEASES_URL = 'https://github.com/grafana/k6/releases/download';

/**
 * SHA-256 of official release assets we pin. For an asset not listed here we
 * fall back to the release's own `k6-v<ver>-checksums.txt`, which catches a
 * corrupt download but not a tampered release; the log says which was used.
 */
const PINNED_SHA256: Readonly<Record<string, string>> = {
  'k6-v2.2.0-linux-amd64.tar.gz':
    'b5a8003c86f35f5cd5ceef1490312c48e587696c94d998cefc6d7b3b4cb1597d',
};

export interface ReleaseAsset {
  name: string;
  /** The folder inside the archive that holds the binary. */
  folder: string;
  binary: string;
  kind: 'tar.gz' | 'zip';
}

/** Names the official release asset for a platform, or says why there is none. */
export function releaseAsset(version: string, platform: string, arch: string): ReleaseAsset {
  const cpu = { x64: 'amd64', arm64: 'arm64' }[arch];
  const os = { linux: 'linux', darwin: 'macos', win32: 'windows' }[platform];
  if (cpu === undefined || os === undefined) {
    throw new K6DistributedError(
      'K6_DOWNLOAD_FAILED',
      `k6 publishes no release for ${platform}/${arch}: set K6_PATH to a k6 you built.`,
    );
  }
  const folder = `k6-v${version}-${os}-${cpu}`;
  const kind = os === 'linux' ? 'tar.gz' : 'zip';
  return { name: `${folder}.${kind}`, folder, binary: os === 'windows' ? 'k6.exe' : 'k6', kind };
}

export interface DownloadOptions {
  version: string;
  log: Logger;
  baseUrl?: string;
  platform?: string;
  arch?: string;
}

/**
 * Downloads the official k6 release into the runner's tool cache (once per
 * runner image and version), verifies its checksum and returns the binary path.
 */
export async function downloadK6Release(options: DownloadOptions): Promise<string> {
  const { version, log, baseUrl = K6_RELEASES_URL } = options;
  const arch = options.arch ?? process.arch;
  const asset = releaseAsset(version, options.platform ?? process.platform, arch);
  const cached = tc.find('k6', version, arch);
  if (cached) return join(cached, asset.binary);

  const url = `${baseUrl}/v${version}/${asset.name}`;
  log.info(`Downloading k6 v${version} from ${url}`);
  let archive: string;
  try {
    archive = await tc.downloadTool(url);
  } catch (error) {
    throw new K6DistributedError(
      'K6_DOWNLOAD_FAILED',
      `could not download ${url}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  await verifyChecksum(
    archive,
    asset.name,
    `${baseUrl}/v${version}/k6-v${version}-checksums.txt`,
    log,
  );
  const extracted =
    asset.kind === 'zip' ? await tc.extractZip(archive) : await tc.extractTar(archive);
  const toolDir = await tc.cacheDir(join(extracted, asset.folder), 'k6', version, arch);
  return join(toolDir, asset.binary);
}

async function verifyChecksum(
  file: string,
  assetName: string,
  checksumsUrl: string,
  log: Logger,
): Promise<void> {
  let expected = PINNED_SHA256[assetName];
  let source = 'pinned in k6-distributed';
  if (expected === undefined) {
    expected = await publishedChecksum(checksumsUrl, assetName);
    source = `published in ${checksumsUrl}`;
  }
  const actual = await sha256(file);
  if (actual !== expected) {
    throw new K6DistributedError(
      'K6_CHECKSUM_MISMATCH',
      `checksum mismatch for ${assetName}: expected ${expected} (${source}), got ${actual}. ` +
        'The download is corrupt or was tampered with; retry, or install k6 yourself and set K6_PATH.',
      { data: { expected, actual } },
    );
  }
  log.info(`Verified ${assetName} sha256 ${actual} (${source})`);
}

async function publishedChecksum(url: string, assetName: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(await tc.downloadTool(url), 'utf8');
  } catch (error) {
    throw new K6DistributedError(
      'K6_DOWNLOAD_FAILED',
      `could not download the checksums ${url}: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  const line = text.split('\n').find((l) => l.trim().endsWith(` ${assetName}`));
  const hash = line?.trim().split(/\s+/)[0];
  if (hash === undefined || !/^[0-9a-f]{64}$/.test(hash)) {
    throw new K6DistributedError(
      'K6_CHECKSUM_MISMATCH',
      `${url} lists no sha256 for ${assetName}; refusing an unverified k6.`,
    );
  }
  return hash;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
