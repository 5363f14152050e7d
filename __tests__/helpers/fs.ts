import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { onCleanup } from './cleanup.js';

/** A fresh temp dir, removed after the test. */
export async function tempDir(prefix = 'k6d-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes an executable shell script, for stand-ins of tools we cannot run here. */
export async function writeExecutable(path: string, shellBody: string): Promise<string> {
  await writeFile(path, `#!/bin/sh\n${shellBody}\n`);
  await chmod(path, 0o755);
  return path;
}
