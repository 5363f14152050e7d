import { totalmem } from 'node:os';

/**
 * How often the agent's k6 collects garbage (Go's GOGC). k6 runs with Go's
 * default of 100: the heap may grow to twice what is live before the next
 * collection, and k6 makes garbage for every sample it emits. Measured on
 * k6 v2.2.0 with the cloud output (20 VUs against a fast loopback target,
 * GODEBUG=gctrace=1): 11–16 ms of garbage collection per 1,000 requests at
 * 100, 2–5 ms at 400, with the heap goal at 107–123 MB instead of 39–48 MB;
 * in the overhead benchmark that is the difference between 0.90 and plain
 * k6's request rate (BENCHMARKS.md).
 */
export const AGENT_GOGC = 400;

/** The share of the machine's memory the k6 processes on it may plan for. */
const MEMORY_SHARE = 0.5;

/**
 * Below this limit per k6 a higher GOGC buys little and a live heap near the
 * limit would make Go collect all the time: k6's own defaults stay.
 */
const MIN_LIMIT_BYTES = 256 * 1024 * 1024;

export interface GoMemoryInputs {
  /** The agent's environment: a GOGC or GOMEMLIMIT of the user's wins. */
  env: NodeJS.ProcessEnv;
  /** Memory of this machine (or of its cgroup), bytes. */
  memoryBytes: number;
  /** k6 processes of this run on the machine (a local run's agents share it). */
  k6OnMachine: number;
}

/**
 * Go runtime settings for the agent's k6: collect garbage less often
 * (GOGC=400) within a soft memory limit (GOMEMLIMIT: half the machine's
 * memory, split among the k6 processes on it), so a large test collects
 * more often near the limit instead of running out of memory. Empty when
 * the user set GOGC or GOMEMLIMIT (theirs stand) or the machine is too small.
 */
export function k6GoMemoryEnv(inputs: GoMemoryInputs): Record<string, string> {
  if (inputs.env.GOGC !== undefined || inputs.env.GOMEMLIMIT !== undefined) return {};
  const limit = Math.floor((inputs.memoryBytes * MEMORY_SHARE) / Math.max(1, inputs.k6OnMachine));
  if (!(limit >= MIN_LIMIT_BYTES)) return {};
  const mib = Math.floor(limit / (1024 * 1024));
  return { GOGC: String(AGENT_GOGC), GOMEMLIMIT: `${String(mib)}MiB` };
}

/** This machine's memory, or its cgroup's limit when lower (containers, Kubernetes). */
export function machineMemoryBytes(): number {
  const total = totalmem();
  const constrained = process.constrainedMemory();
  return constrained > 0 && constrained < total ? constrained : total;
}
