import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

import { K6DistributedError } from '../errors.js';
import { k6Outcome, type K6Outcome } from './exit-codes.js';

export interface K6ProcessOptions {
  /** Arguments after the executable, e.g. `['run', '--paused', 'script.js']`. */
  args: readonly string[];
  /** k6's whole environment (given by the entry point: nothing here reads process.env). */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  /** Raw output, byte for byte, instead of lines (e.g. handleSummary's stdout). */
  onStdoutData?: (chunk: Buffer) => void;
  onStderrData?: (chunk: Buffer) => void;
}

export interface K6ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  outcome: K6Outcome;
}

export interface RunOptions extends Omit<K6ProcessOptions, 'onStdoutLine' | 'onStderrLine'> {
  timeoutMs?: number;
}

export interface K6CommandResult extends K6ProcessExit {
  stdout: string[];
  stderr: string[];
}

export interface StopOptions {
  /** The first, polite signal. k6 treats SIGINT and SIGTERM alike. */
  signal?: NodeJS.Signals;
  /** How long to wait after the first signal before SIGKILL. */
  graceMs?: number;
}

const live = new Set<K6Process>();
let exitHookInstalled = false;

/**
 * Last line of defence against orphans: when this Node process exits while a k6
 * child still runs, kill the child's whole process group. Graceful shutdown is
 * the owner's job (`stop()`); this only catches what an owner forgot.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', killAllK6Processes);
}

/** Sends SIGKILL to every k6 process this module started that is still running. */
export function killAllK6Processes(): void {
  for (const child of live) child.signal('SIGKILL');
}

/**
 * One running k6 process: the single place where k6 is spawned.
 *
 * Hand-written over `@actions/exec`, which hides the child and so cannot send it
 * signals. k6 runs in its own process group (`detached`), so a terminal's Ctrl+C
 * reaches only us and we decide how k6 stops; signals go to the whole group so
 * nothing k6 starts (e.g. a browser) outlives it.
 */
export class K6Process {
  readonly pid: number;
  /** Settles once the process has exited AND its stdout and stderr have closed. */
  readonly done: Promise<K6ProcessExit>;
  /** Aborted when the process ends; its reason is a K6_PROCESS_EXITED error. */
  readonly exitSignal: AbortSignal;
  #exit: K6ProcessExit | undefined;

  private constructor(child: ChildProcess, options: K6ProcessOptions, k6Path: string) {
    if (child.pid === undefined) throw new Error('unreachable: spawn without pid');
    this.pid = child.pid;
    pipeOutput(child.stdout, options.onStdoutLine, options.onStdoutData);
    pipeOutput(child.stderr, options.onStderrLine, options.onStderrData);
    const exitController = new AbortController();
    this.exitSignal = exitController.signal;
    this.done = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        const exit = { code, signal, outcome: k6Outcome(code, signal) };
        this.#exit = exit;
        live.delete(this);
        exitController.abort(
          new K6DistributedError(
            'K6_PROCESS_EXITED',
            `k6 (${k6Path}, pid ${this.pid}) exited: ${exit.outcome.description} ` +
              `(exit code ${exit.outcome.exitCode})`,
            { data: { ...exit } },
          ),
        );
        resolve(exit);
      });
    });
  }

  /** Spawns k6. Rejects if the executable cannot be started at all. */
  static async start(k6Path: string, options: K6ProcessOptions): Promise<K6Process> {
    const child = spawn(k6Path, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => {
        reject(
          new K6DistributedError(
            'K6_NOT_FOUND',
            `could not start k6 at ${k6Path}: ${error.message}. ` +
              'Check that the path exists and is an executable k6 for this platform.',
            { cause: error },
          ),
        );
      });
    });
    const proc = new K6Process(child, options, k6Path);
    live.add(proc);
    installExitHook();
    return proc;
  }

  /**
   * Runs a short k6 command (`version`, `archive`, `inspect`) to completion and
   * returns its output lines; SIGKILLs it if it outlives `timeoutMs`.
   */
  static async run(k6Path: string, options: RunOptions): Promise<K6CommandResult> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const proc = await K6Process.start(k6Path, {
      ...options,
      onStdoutLine: (line) => stdout.push(line),
      onStderrLine: (line) => stderr.push(line),
    });
    const timer = setTimeout(() => proc.signal('SIGKILL'), options.timeoutMs ?? 120_000);
    const exit = await proc.done.finally(() => clearTimeout(timer));
    return { ...exit, stdout, stderr };
  }

  /** The exit, once the process has ended; undefined while it runs. */
  get exit(): K6ProcessExit | undefined {
    return this.#exit;
  }

  /** Sends a signal to k6's process group. Returns false if it had already ended. */
  signal(signal: NodeJS.Signals): boolean {
    if (this.#exit) return false;
    try {
      process.kill(-this.pid, signal);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
      throw error;
    }
  }

  /** Signals k6 politely, then SIGKILLs it after `graceMs`; resolves when it is gone. */
  async stop(options: StopOptions = {}): Promise<K6ProcessExit> {
    const { signal = 'SIGINT', graceMs = 10_000 } = options;
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.done;
    } finally {
      clearTimeout(timer);
    }
  }
}

function pipeOutput(
  stream: Readable | null,
  onLine: ((line: string) => void) | undefined,
  onData: ((chunk: Buffer) => void) | undefined,
): void {
  if (!stream) return;
  if (onData) {
    stream.on('data', onData);
    return;
  }
  if (!onLine) {
    stream.resume();
    return;
  }
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}
