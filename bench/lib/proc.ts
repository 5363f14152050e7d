/**
 * Child processes of a benchmark: started in their own process group (so a
 * whole tree is killed at once), optionally under GNU time for the exact CPU
 * time and peak RSS of the tree, and sampled through /proc while they run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLK_TCK = 100;
const PAGE_BYTES = 4096;
const TIME_BIN = ['/usr/bin/time', '/bin/time'].find((p) => existsSync(p));

export interface ProcSample {
  /** user + system CPU seconds so far */
  cpuS: number;
  rssMB: number;
}

/** One process's CPU time and resident set, or undefined once it is gone. */
export function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    // Fields after "(comm) ": state is field 3, utime 14, stime 15, rss 24.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuS = (Number(f[11]) + Number(f[12])) / CLK_TCK;
    return { cpuS, rssMB: (Number(f[21]) * PAGE_BYTES) / 2 ** 20 };
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` (a /proc scan: this kernel has no task/…/children). */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return children;
}

/** The command name of a process ("k6", "node"), or undefined once it is gone. */
export function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${String(pid)}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The arguments of a process, or [] once it is gone. */
export function argsOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8')
      .split('\0')
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** Waits until `pid` has a child named `comm` (whose first argument is `arg`) and returns its pid. */
export async function waitForChild(pid: number, comm: string, arg?: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = childrenOf(pid).find(
      (c) => commOf(c) === comm && (arg === undefined || argsOf(c)[1] === arg),
    );
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${comm} child of ${String(pid)} appeared`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** From GNU time, for timed launches: the whole tree's CPU seconds and peak RSS. */
  wallS?: number;
  cpuS?: number;
  maxRssMB?: number;
}

export interface Launched {
  proc: ChildProcess;
  /** The measured program's pid (under GNU time, time's child). */
  pid(): Promise<number>;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<Exit>;
  kill(signal?: NodeJS.Signals): void;
}

const live = new Set<number>();

function killGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Kills every process group still running (on exit and on Ctrl+C). */
export function killAll(): void {
  for (const pid of live) killGroup(pid);
  live.clear();
}
process.once('exit', killAll);

export interface LaunchOptions {
  env?: NodeJS.ProcessEnv;
  /** Run under GNU time: the exit carries the tree's CPU time and peak RSS. */
  timed?: boolean;
  /** Kill the group after this long (default 10 min). */
  timeoutMs?: number;
  /** Called with each stdout chunk. */
  onStdout?: (chunk: string) => void;
}

export function launch(command: string, args: readonly string[], o: LaunchOptions = {}): Launched {
  if (o.timed && !TIME_BIN) throw new Error('GNU time is missing: apt-get install time');
  const timeDir = o.timed && TIME_BIN ? mkdtempSync(join(tmpdir(), 'k6d-bench-time-')) : '';
  const timeFile = timeDir && join(timeDir, 'time');
  const [cmd, argv] =
    timeFile && TIME_BIN
      ? [TIME_BIN, ['-f', '%e %U %S %M', '-o', timeFile, command, ...args]]
      : [command, [...args]];
  const proc = spawn(cmd, argv, {
    env: o.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const groupPid = proc.pid ?? -1;
  live.add(groupPid);
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    o.onStdout?.(c);
  });
  proc.stderr.setEncoding('utf8').on('data', (c: string) => {
    err = (err + c).slice(-200_000);
  });
  const timer = setTimeout(() => killGroup(groupPid), o.timeoutMs ?? 600_000);
  const exited = new Promise<Exit>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(groupPid);
      live.delete(groupPid);
      const exit: Exit = { code, signal };
      if (timeFile) {
        try {
          const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
          const [wall, user, sys, maxKB] = (lines.at(-1) ?? '').split(' ').map(Number);
          exit.wallS = wall;
          exit.cpuS = (user ?? NaN) + (sys ?? NaN);
          exit.maxRssMB = (maxKB ?? NaN) / 1024;
        } catch {
          // time was killed with its child
        }
        rmSync(timeDir, { recursive: true, force: true });
      }
      resolve(exit);
    });
  });
  return {
    proc,
    pid: async () => (o.timed ? waitForChild(groupPid, commName(command)) : groupPid),
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal = 'SIGTERM') => killGroup(groupPid, signal),
  };
}

function commName(command: string): string {
  return (command.split('/').at(-1) ?? command).slice(0, 15);
}

/** Samples processes every `intervalMs` until stopped. */
export class Sampler {
  /** `t`: wall-clock ms. */
  readonly samples: { t: number; pid: number; cpuS: number; rssMB: number }[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly pids: () => readonly number[],
    intervalMs: number,
  ) {
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  sample(): void {
    for (const pid of this.pids()) {
      const s = readProc(pid);
      if (s) this.samples.push({ t: Date.now(), pid, ...s });
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }

  of(pid: number) {
    return this.samples.filter((s) => s.pid === pid);
  }
}
