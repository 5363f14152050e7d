import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Logger } from '../runtime/logger.js';

/** The CLI's outside world, injected so tests can run it in-process. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: { write(chunk: string | Uint8Array): unknown; isTTY?: boolean };
  stderr: { write(chunk: string | Uint8Array): unknown; isTTY?: boolean };
  /** Fires on SIGINT/SIGTERM: the run stops the way k6 stops (exit 105). */
  signal?: AbortSignal;
}

/** Sets the process exit code from inside a command's action. */
export type SetExitCode = (code: number) => void;

/** What every command is given: the outside world, the log, and its exit code's setter. */
export interface CommandContext {
  io: CliIo;
  log: Logger;
  exit: SetExitCode;
}

/** Runs `fn` in a fresh temporary directory, removed afterwards. */
export async function withWorkDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'k6-distributed-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
