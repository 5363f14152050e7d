/*
 * Issue 20.7: how busy each load generator's machine was, and the warning
 * when one was saturated. k6 times a request by its own clock: on a machine
 * with no CPU to spare, requests leave late and responses are read late, so
 * latencies grow and rates fall though the target is fine (300 local agents
 * on 2 cores: p(95) 519 ms instead of ~10 ms, a start skew of 1.6 s).
 */
import type { LoadReading } from '../runtime/machine-load.js';
import { namedAgents } from './named-agents.js';

/** A machine at or above this CPU share is saturated. */
export const SATURATED_CPU = 0.85;
/** A machine at or above this memory share is close to running out. */
export const HIGH_MEMORY = 0.9;
/**
 * Saturated this many one-second readings before it counts: a run's first
 * second (VUs starting) or a garbage collection alone is not a skew worth a
 * warning, and a test shorter than this is not judged.
 */
const SATURATED_MIN_SECONDS = 3;
/** Generators named in one warning, at most. */

/** What one machine's readings came to, in the result file and reports. */
export interface GeneratorLoad {
  /** Readings taken (one a second while its k6 ran). */
  samples: number;
  /** Highest CPU share, 0–1. */
  cpuPeak: number;
  /** Mean CPU share, 0–1. */
  cpuMean: number;
  /** Readings at or above SATURATED_CPU. */
  cpuSaturatedSeconds: number;
  /** Highest memory share, 0–1. */
  memoryPeak: number;
}

/**
 * The readings of one machine, folded as they arrive: only totals are kept,
 * so a long run costs nothing per reading. Readings must move forward in
 * time and stay within what has elapsed (`untilMs`), so an agent cannot
 * report more seconds than the run has had.
 */
export class LoadTally {
  #lastMs = -Infinity;
  #samples = 0;
  #cpuSum = 0;
  #cpuPeak = 0;
  #saturated = 0;
  #memoryPeak = 0;

  /** Adds readings `ms` after the start; returns true when this made the machine count as saturated. */
  add(readings: readonly (LoadReading & { ms: number })[], untilMs: number): boolean {
    const before = this.saturated;
    for (const r of readings) {
      if (r.ms <= this.#lastMs || r.ms > untilMs) continue;
      this.#lastMs = r.ms;
      this.#samples += 1;
      this.#cpuSum += r.cpu;
      this.#cpuPeak = Math.max(this.#cpuPeak, r.cpu);
      if (r.cpu >= SATURATED_CPU) this.#saturated += 1;
      this.#memoryPeak = Math.max(this.#memoryPeak, r.memory);
    }
    return !before && this.saturated;
  }

  get saturated(): boolean {
    return isSaturated(this.load);
  }

  get load(): GeneratorLoad | undefined {
    if (this.#samples === 0) return undefined;
    return {
      samples: this.#samples,
      cpuPeak: this.#cpuPeak,
      cpuMean: this.#cpuSum / this.#samples,
      cpuSaturatedSeconds: this.#saturated,
      memoryPeak: this.#memoryPeak,
    };
  }
}

export function isSaturated(load: GeneratorLoad | undefined): boolean {
  if (load === undefined) return false;
  return load.cpuSaturatedSeconds >= SATURATED_MIN_SECONDS;
}

export function isMemoryHigh(load: GeneratorLoad | undefined): boolean {
  return load !== undefined && load.memoryPeak >= HIGH_MEMORY;
}

export function percent(share: number): string {
  return `${String(Math.round(share * 100))} %`;
}

/** "CPU ≥ 85 % for 12 s (peak 100 %)". */
export function cpuText(load: GeneratorLoad): string {
  return (
    `CPU ≥ ${percent(SATURATED_CPU)} for ${String(load.cpuSaturatedSeconds)} s of ` +
    `${String(load.samples)} s (peak ${percent(load.cpuPeak)})`
  );
}

/** The agent table's cells: "97 %, saturated 12 s" and "45 %, high". */
export function loadCells(load: GeneratorLoad | undefined): [string, string] {
  if (load === undefined) return ['-', '-'];
  const cpu = percent(load.cpuPeak);
  const memory = percent(load.memoryPeak);
  return [
    isSaturated(load) ? `${cpu}, saturated ${String(load.cpuSaturatedSeconds)} s` : cpu,
    isMemoryHigh(load) ? `${memory}, high` : memory,
  ];
}

export interface LoadOf {
  label: string;
  load: GeneratorLoad | undefined;
}

/**
 * The run's warnings about its load generators: agents whose machine was
 * saturated or nearly out of memory, and the coordinator's own machine.
 * Empty when every machine had room.
 */
export function loadWarnings(
  agents: readonly LoadOf[],
  coordinator?: GeneratorLoad,
  shareMachine = false,
): string[] {
  const warnings: string[] = [];
  // A local run's agents share one machine: more of them there is no fix.
  const more = shareMachine
    ? 'Fix: the agents of a local run share this machine: fewer VUs, or agents on machines ' +
      'of their own (the coordinator and agent commands, or the GitHub action)'
    : 'Fix: more agents with a smaller share each (--agents, more matrix jobs), fewer VUs, ' +
      'or bigger machines';
  const saturated = agents.filter((a) => isSaturated(a.load));
  if (saturated.length > 0) {
    warnings.push(
      `${count(saturated.length, agents.length)} machine at or above ` +
        `${percent(SATURATED_CPU)} CPU while its k6 ran: ${named(saturated, (l) => cpuText(l))}. ` +
        'A saturated load generator sends requests late and times them late, so the latencies ' +
        `and rates it measured may be worse than the target is. ${more}.`,
    );
  }
  const memory = agents.filter((a) => isMemoryHigh(a.load));
  if (memory.length > 0) {
    warnings.push(
      `${count(memory.length, agents.length)} machine at or above ${percent(HIGH_MEMORY)} ` +
        `memory: ${named(memory, (l) => `peak ${percent(l.memoryPeak)}`)}. ` +
        `k6 may have slowed down collecting garbage, or been killed. ${more} ` +
        '(k6 keeps each VU in memory).',
    );
  }
  if (isSaturated(coordinator) && coordinator) {
    warnings.push(
      `the coordinator's machine was at or above ${percent(SATURATED_CPU)} CPU ` +
        `(${cpuText(coordinator)}): it may have merged metrics, evaluated thresholds and ` +
        'stopped the run on abortOnFail late. Fix: give the coordinator a machine of its own ' +
        (shareMachine ? '(the coordinator and agent commands).' : '(on GitHub, its own job).'),
    );
  }
  return warnings;
}

/** "1 of 3 agents had its", "2 of 3 agents had their". */
function count(n: number, of: number): string {
  return `${String(n)} of ${String(of)} agents had ${n === 1 ? 'its' : 'their'}`;
}

function named(agents: readonly LoadOf[], detail: (load: GeneratorLoad) => string): string {
  return namedAgents(
    agents.map((a) => (a.load ? `${a.label} ${detail(a.load)}` : a.label)),
    '; ',
  );
}
