/*
 * How busy this machine is (issue 20.7): a load generator above ~85 % CPU
 * sends its requests late and times them late, so its latencies and rates
 * skew (300 local agents: p(95) 519 ms instead of ~10 ms) with nothing
 * saying so. Agents and the coordinator sample their machine once a second.
 *
 * Hand-written, because what matters is two numbers Node's `os` module
 * nearly gives: the machine's busy share over the last second (os.cpus()
 * times) and the memory in use; a container's limits (cgroup v2 cpu.max and
 * memory.max, read when present) can bind before the machine's do, so the
 * higher of the two shares counts. Libraries such as systeminformation read
 * far more than this and are no more exact for it.
 */
import { readFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';

import { systemTimers } from './timers.js';

/** One reading: each a fraction of what the machine (or its container) has, 0–1. */
export interface LoadReading {
  cpu: number;
  memory: number;
}

/** Reads the machine's load since its previous reading. */
export interface LoadProbe {
  read(): LoadReading;
}

interface CpuTimes {
  busy: number;
  total: number;
}

const CGROUP = '/sys/fs/cgroup';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function machineCpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/** The container's CPU limit in cores (cgroup v2 cpu.max), undefined without one. */
function cgroupCpuLimit(): number | undefined {
  const [quota, period] = (readText(`${CGROUP}/cpu.max`) ?? '').trim().split(/\s+/);
  const cores = Number(quota) / Number(period);
  return Number.isFinite(cores) && cores > 0 ? cores : undefined;
}

/** CPU time the container used, µs (cgroup v2 cpu.stat usage_usec). */
function cgroupCpuUsageUs(): number | undefined {
  const match = /^usage_usec (\d+)$/m.exec(readText(`${CGROUP}/cpu.stat`) ?? '');
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Memory in use as a fraction: the container's working set (memory.current
 * less inactive file cache, as the kubelet counts it) of its limit when it
 * has one below the machine's, else the machine's used memory (what is not
 * available) of its total.
 */
function memoryShare(): number {
  const total = totalmem();
  const limit = process.constrainedMemory();
  if (limit > 0 && limit < total) {
    const current = Number(readText(`${CGROUP}/memory.current`));
    const inactive = /^inactive_file (\d+)$/m.exec(readText(`${CGROUP}/memory.stat`) ?? '');
    if (Number.isFinite(current) && current > 0) {
      return clamp((current - Number(inactive?.[1] ?? 0)) / limit);
    }
  }
  return clamp(1 - freemem() / total);
}

function clamp(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}

/** This machine's probe: the first reading covers the time since it was made. */
export function machineLoadProbe(): LoadProbe {
  let cpu = machineCpuTimes();
  const cgroupCores = cgroupCpuLimit();
  let cgroup = { usageUs: cgroupCpuUsageUs(), atUs: performance.now() * 1_000 };
  return {
    read(): LoadReading {
      const nowCpu = machineCpuTimes();
      const total = nowCpu.total - cpu.total;
      let share = total > 0 ? (nowCpu.busy - cpu.busy) / total : 0;
      cpu = nowCpu;
      const nowCgroup = { usageUs: cgroupCpuUsageUs(), atUs: performance.now() * 1_000 };
      if (cgroupCores !== undefined && nowCgroup.usageUs !== undefined) {
        const wallUs = nowCgroup.atUs - cgroup.atUs;
        const used = nowCgroup.usageUs - (cgroup.usageUs ?? nowCgroup.usageUs);
        if (wallUs > 0) share = Math.max(share, used / (wallUs * cgroupCores));
      }
      cgroup = nowCgroup;
      return { cpu: clamp(share), memory: memoryShare() };
    },
  };
}

export type LoadListener = (reading: LoadReading, atMs: number) => void;

export interface LoadMonitorOptions {
  probe?: LoadProbe;
  intervalMs?: number;
  now?: () => number;
  every?: (ms: number, fn: () => void) => () => void;
}

/**
 * Reads the machine once a second while anyone listens, and hands each
 * reading to every listener. One per process (`LoadMonitor.shared`): a local
 * run's agents and its coordinator share a machine, so 300 agents cost one
 * reading a second, not 300.
 */
export class LoadMonitor {
  static #shared: LoadMonitor | undefined;
  readonly #o: LoadMonitorOptions;
  readonly #listeners = new Set<LoadListener>();
  #probe: LoadProbe | undefined;
  #cancel: (() => void) | undefined;

  constructor(options: LoadMonitorOptions = {}) {
    this.#o = options;
  }

  static get shared(): LoadMonitor {
    return (LoadMonitor.#shared ??= new LoadMonitor());
  }

  /** Calls `listener` with every reading from now on; returns the unsubscribe function. */
  subscribe(listener: LoadListener): () => void {
    this.#listeners.add(listener);
    if (this.#cancel === undefined) {
      this.#probe = this.#o.probe ?? machineLoadProbe();
      this.#cancel = this.#every(this.#o.intervalMs ?? 1_000, () => this.#read());
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#cancel?.();
        this.#cancel = undefined;
      }
    };
  }

  #read(): void {
    const reading = this.#probe?.read();
    if (reading === undefined) return;
    const at = (this.#o.now ?? Date.now)();
    for (const listener of [...this.#listeners]) listener(reading, at);
  }

  #every(ms: number, fn: () => void): () => void {
    return (this.#o.every ?? systemTimers.every)(ms, fn);
  }
}
