/**
 * Which agents' k6 will have nothing to do in which scenario, as k6 decides
 * it for each execution segment (every executor's HasWork in lib/executor/):
 * a scenario's VUs are divided among the agents (./striping.ts), and an agent
 * whose part is 0 skips the scenario. Two VUs over four agents leave two
 * agents idle: two machines (paid runners on GitHub) that make no load.
 *
 * Iterations never leave an agent with VUs idle: shared iterations follow the
 * VUs (k6 re-divides them over the agents' VU parts), and k6 refuses fewer
 * iterations than VUs, so each agent gets at least as many as it has VUs.
 */
import type { K6Options } from './archive.js';
import { sequenceLengths, Striping } from './striping.js';

type ScenarioConfig = NonNullable<K6Options['scenarios']>[string];

/** One scenario that leaves some agents without work. */
export interface IdleInScenario {
  scenario: string;
  /** What the scenario has, e.g. "2 VUs" or "4 VUs sharing 10 iterations". */
  has: string;
  /** Agent numbers (0-based, in sequence order) with no work in this scenario. */
  agents: number[];
  /** The smallest amount of `unit` that would give every agent some; undefined if unknown. */
  needed: number | undefined;
  /** What `needed` counts, in the singular: "VU", "max VU". */
  unit: string;
}

/** The numbers of one scenario that k6 divides among agents. */
interface ScenarioLoad {
  has: string;
  /** What `vus` counts, in the singular ("VU", "max VU"). */
  unit: string;
  /** The VUs k6 divides among agents (max VUs for arrival rates, the peak for ramps). */
  vus: number;
  /** per-vu-iterations with 0 iterations: no agent has work. */
  none?: boolean;
}

/**
 * The scenarios (k6's derived `scenarios`, as `k6 inspect
 * --execution-requirements` prints them) that give some agent of the full
 * segment `sequence` nothing to do. Executors it does not know, and
 * sequences too fine to work out, are left out.
 */
export function idleAgents(scenarios: K6Options['scenarios'], sequence: string): IdleInScenario[] {
  const striping = new Striping(sequenceLengths(sequence));
  const idle: IdleInScenario[] = [];
  for (const [name, config] of Object.entries(scenarios ?? {})) {
    const load = scenarioLoad(config);
    if (!load || load.none) continue;
    const found = idleIn(striping, load);
    if (!found || found.agents.length === 0) continue;
    idle.push({ scenario: name, has: load.has, ...found, needed: found.needed() });
  }
  return idle;
}

/** Every agent of `sequence` has work in every scenario (as far as idleAgents() can tell). */
export function everyAgentHasWork(scenarios: K6Options['scenarios'], sequence: string): boolean {
  const striping = new Striping(sequenceLengths(sequence));
  return Object.values(scenarios ?? {}).every((config) => {
    const load = scenarioLoad(config);
    return !load || load.none || (idleIn(striping, load)?.agents.length ?? 0) === 0;
  });
}

/** Who lacks what; `needed` is worked out only when asked (it walks the whole stripe). */
type Found = Omit<IdleInScenario, 'scenario' | 'has' | 'needed'> & {
  needed: () => number | undefined;
};

function idleIn(striping: Striping, load: ScenarioLoad): Found | undefined {
  const vus = striping.scale(load.vus);
  if (!vus) return undefined;
  const agents = vus.flatMap((n, i) => (n === 0 ? [i] : []));
  return { agents, needed: () => striping.smallestForAll(), unit: load.unit };
}

/** k6's defaults where the derived options print null (lib/executor/*: New...Config). */
function scenarioLoad(config: ScenarioConfig): ScenarioLoad | undefined {
  const int = (key: string, fallback: number) => {
    const value = config[key];
    return typeof value === 'number' ? value : fallback;
  };
  switch (config.executor) {
    case 'constant-vus':
      return counted(int('vus', 1));
    case 'ramping-vus':
      return peakOfRamp(config, int('startVUs', 1));
    case 'per-vu-iterations':
      return { ...counted(int('vus', 1)), none: int('iterations', 1) <= 0 };
    case 'shared-iterations':
      return sharedIterations(int('vus', 1), int('iterations', 1));
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate': {
      // k6 takes maxVUs as preAllocatedVUs when unset.
      const vus = Math.max(int('preAllocatedVUs', 0), int('maxVUs', 0));
      return { has: plural(vus, 'max VU'), unit: 'max VU', vus };
    }
    default:
      return undefined;
  }
}

function counted(vus: number): ScenarioLoad {
  return { has: plural(vus, 'VU'), unit: 'VU', vus };
}

/** ramping-vus: an agent has work if its part of the most VUs any stage reaches is above 0. */
function peakOfRamp(config: ScenarioConfig, startVUs: number): ScenarioLoad {
  const stages = Array.isArray(config.stages) ? (config.stages as { target?: unknown }[]) : [];
  const targets = stages.map((s) => (typeof s.target === 'number' ? s.target : 0));
  const vus = Math.max(startVUs, ...targets);
  return { has: `at most ${plural(vus, 'VU')}`, unit: 'VU', vus };
}

function sharedIterations(vus: number, iterations: number): ScenarioLoad {
  return {
    has: `${plural(vus, 'VU')} sharing ${plural(iterations, 'iteration')}`,
    unit: 'VU',
    vus,
    none: iterations <= 0,
  };
}

export function plural(n: number, noun: string): string {
  return `${String(n)} ${noun}${n === 1 ? '' : 's'}`;
}
