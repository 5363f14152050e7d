/** The machine a result was measured on. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';

import { REPO_ROOT } from './context.js';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  k6: string;
  commit: string;
}

export async function machine(k6Version: string): Promise<Machine> {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['-C', REPO_ROOT, 'status', '--porcelain', 'src', 'dist'], {
      encoding: 'utf8',
    });
    if (dirty.trim()) commit += '+changes';
  } catch {
    // not a git checkout
  }
  const model = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  return Promise.resolve({
    cpu: model ?? cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    k6: `v${k6Version}`,
    commit,
  });
}
