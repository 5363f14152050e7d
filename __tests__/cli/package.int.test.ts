/**
 * Issue 20.11: the package as npm ships it. The repository is packed with
 * `npm pack`, the tarball installed into an empty prefix with no registry
 * (dist/ bundles every library, so the package has no dependencies), and the
 * installed `k6-distributed demo` runs from an empty folder (real k6).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from '@jest/globals';

import { exec } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/fs.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface PackedFile {
  path: string;
}
interface PackResult {
  filename: string;
  files: PackedFile[];
}

/**
 * Runs npm with no way to the internet: offline, and a registry on a closed
 * loopback port should npm still try one. Rejects with npm's output on failure.
 */
function npm(args: readonly string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'npm',
      [...args, '--offline', '--no-audit', '--no-fund', '--no-update-notifier'],
      {
        cwd,
        env: { ...process.env, npm_config_registry: 'http://127.0.0.1:9/' },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`npm ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

async function pack(args: readonly string[]): Promise<PackResult> {
  const [result] = JSON.parse(await npm(['pack', '--json', ...args], REPO)) as PackResult[];
  if (!result) throw new Error('npm pack --json printed no package');
  return result;
}

describe('issue 20.11: the npm package (npm pack, real k6)', () => {
  it('issue 20.11: npm pack --dry-run lists the bundles, action.yml and README, no test, src or bench files', async () => {
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect({ private: pkg.private, dependencies: pkg.dependencies }).toEqual({
      private: undefined,
      dependencies: undefined,
    });
    const { files } = await pack(['--dry-run']);
    const paths = files.map((f) => f.path).sort();

    expect(paths).toEqual(expect.arrayContaining(['dist/cli/index.js', 'dist/index.js']));
    expect(paths).toEqual(
      expect.arrayContaining(['action.yml', 'README.md', 'package.json', 'LICENSE']),
    );
    const stray = paths.filter(
      (p) => !/^(dist\/|action\.yml$|README\.md$|package\.json$|LICENSE)/.test(p),
    );
    expect(stray).toEqual([]);
    expect(paths.filter((p) => /^(src|__tests__|bench|scripts)\/|\.ts$/.test(p))).toEqual([]);
  });

  it('issue 20.11: the packed tarball installs with no registry and its k6-distributed demo runs from an empty folder', async () => {
    const packs = await tempDir();
    const { filename } = await pack(['--pack-destination', packs]);
    const prefix = await tempDir();
    await npm(['install', '--prefix', prefix, join(packs, filename)], prefix);

    // Nothing but the package itself: an install pulls no dependency.
    const installed = (await readdir(join(prefix, 'node_modules'))).filter(
      (n) => !n.startsWith('.'),
    );
    expect(installed).toEqual(['k6-distributed']);
    const bin = join(prefix, 'node_modules', '.bin', 'k6-distributed');
    expect((await readFile(bin, 'utf8')).split('\n', 1)[0]).toBe('#!/usr/bin/env node');

    const empty = await tempDir();
    const demo = await exec(bin, ['demo'], empty);
    expect({ code: demo.code, stderr: demo.code === 0 ? '' : demo.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    expect(demo.stdout).toMatch(/DISTRIBUTED RUN: 3 agents, start skew \d+\.\d ms/);
    expect(demo.stdout).toMatch(/setup\(\) calls {5}1 {2}\(standalone k6: 1\)/);
    expect(demo.stdout).toMatch(/iterations {8}110 {2}\(standalone k6: 110\)/);
    expect(demo.stdout).toMatch(/teardown\(\) calls {2}1 {2}\(standalone k6: 1\)/);
    expect(await readdir(empty)).toEqual([]);
  }, 180_000);
});
