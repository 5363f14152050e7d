import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { onCleanup } from './cleanup.js';
import { testK6Path } from './k6.js';

/** The committed bundle, as users run it. */
export const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url));

/**
 * `node dist/cli/index.js ...` as a real child process, its output captured
 * line by line; killed after the test if still running.
 */
export class CliProcess {
  readonly lines: string[] = [];
  readonly stdout: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly pid: number;
  readonly #waiters = new Set<() => void>();

  /** `fdLimit`: run it under `ulimit -n` (its open-file soft limit). */
  constructor(
    args: readonly string[],
    env: NodeJS.ProcessEnv = {},
    options: { fdLimit?: number } = {},
  ) {
    const [file, argv] =
      options.fdLimit === undefined
        ? [process.execPath, [CLI, ...args]]
        : [
            'sh',
            [
              '-c',
              `ulimit -n ${String(options.fdLimit)} && exec "$0" "$@"`,
              process.execPath,
              CLI,
              ...args,
            ],
          ];
    const child = spawn(file, argv, {
      env: { ...process.env, K6_PATH: testK6Path(), K6_NO_COLOR: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error('could not start the CLI');
    this.pid = child.pid;
    const onLine = (stream: 'stdout' | 'stderr') => (line: string) => {
      this.lines.push(line);
      if (stream === 'stdout') this.stdout.push(line);
      for (const wake of [...this.#waiters]) wake();
    };
    createInterface({ input: child.stdout }).on('line', onLine('stdout'));
    createInterface({ input: child.stderr }).on('line', onLine('stderr'));
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        for (const wake of [...this.#waiters]) wake();
        resolve({ code, signal });
      });
    });
    onCleanup(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await this.exited;
    });
  }

  /** Resolves with the first output line matching `pattern`; rejects if the process ends first. */
  async waitForLine(pattern: RegExp): Promise<string> {
    const state = { ended: false };
    void this.exited.then(() => (state.ended = true));
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (state.ended)
        throw new Error(`process ended without printing ${String(pattern)}:\n${this.text()}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
      });
    }
  }

  /** Resolves once the process printed more than `seen` lines (false: it ended first). */
  async waitForLineAfter(seen: number): Promise<boolean> {
    const state = { ended: false };
    void this.exited.then(() => (state.ended = true));
    while (this.lines.length <= seen) {
      if (state.ended) return false;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
      });
    }
    return true;
  }

  text(): string {
    return this.lines.join('\n');
  }
}

/** A finished process: its exit code and everything it printed. */
export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `file` (k6 itself, or node with the CLI) to its end in `cwd`, with the
 * test k6 on K6_PATH; resolves with its exit code and output, never rejects.
 */
export function exec(
  file: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd,
        env: { ...process.env, K6_PATH: testK6Path(), K6_NO_COLOR: 'true', ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
