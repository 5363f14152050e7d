import { METRIC_LIMITS } from './delta.js';

/** What one agent may add to the merged store over the whole run (issue 17.4). */
export type AgentLimit = 'metrics' | 'groups' | 'parts' | 'checks' | 'series';

/**
 * The agent's own bounds (METRIC_LIMITS), enforced again where the data is
 * merged: an honest agent never reaches them (its aggregator stops splitting
 * there), so reaching one means a compromised or broken agent. `series`
 * counts every merged sink and check an agent feeds; one delta may carry
 * that many, so honest deltas fit.
 */
export const AGENT_LIMITS: Readonly<Record<AgentLimit, number>> = {
  metrics: METRIC_LIMITS.maxMetrics,
  groups: METRIC_LIMITS.maxParts,
  parts: METRIC_LIMITS.maxParts,
  checks: METRIC_LIMITS.maxChecks,
  series: METRIC_LIMITS.maxSeriesPerDelta,
};

/** An agent passed one of its limits: what is left out from then on. */
export interface LimitBreach {
  limit: AgentLimit;
  max: number;
}

/**
 * One agent's cumulative use of the store. Names (metrics, groups) are
 * remembered as strings, bounded by their limit; parts, checks and series by
 * the store's own objects, so an agent's long tag values are held once.
 */
export class AgentBudget {
  readonly #names = { metrics: new Set<string>(), groups: new Set<string>() };
  readonly #objects = {
    parts: new Set<object>(),
    checks: new Set<object>(),
    series: new Set<object>(),
  };
  readonly #breached = new Set<AgentLimit>();
  #fresh: LimitBreach[] = [];

  constructor(private readonly limits: Readonly<Record<AgentLimit, number>> = AGENT_LIMITS) {}

  /** True if the agent used `name` before or may use one more. */
  admitName(limit: 'metrics' | 'groups', name: string): boolean {
    const seen = this.#names[limit];
    if (seen.has(name)) return true;
    if (!this.#room(limit, seen.size)) return false;
    seen.add(name);
    return true;
  }

  has(limit: 'parts' | 'checks' | 'series', entry: object | undefined): boolean {
    return entry !== undefined && this.#objects[limit].has(entry);
  }

  /** True if the agent may use one more entry of `limit`; then `add` it. */
  room(limit: 'parts' | 'checks' | 'series'): boolean {
    return this.#room(limit, this.#objects[limit].size);
  }

  add(limit: 'parts' | 'checks' | 'series', entry: object): void {
    this.#objects[limit].add(entry);
  }

  /** Limits passed since the last call, each reported once per agent. */
  takeBreaches(): LimitBreach[] {
    const fresh = this.#fresh;
    this.#fresh = [];
    return fresh;
  }

  #room(limit: AgentLimit, used: number): boolean {
    if (used < this.limits[limit]) return true;
    if (!this.#breached.has(limit)) {
      this.#breached.add(limit);
      this.#fresh.push({ limit, max: this.limits[limit] });
    }
    return false;
  }
}

const WHAT: Readonly<Record<AgentLimit, string>> = {
  metrics: 'metrics',
  groups: 'groups',
  parts: 'scenario/group parts',
  checks: 'checks',
  series: 'series (metric and tag sets)',
};

/** Said once per agent and limit: which agent, which limit, what is left out. */
export function limitMessage(agent: string, breach: LimitBreach): string {
  const what = WHAT[breach.limit];
  return (
    `${agent} reported more than ${String(breach.max)} distinct ${what}, past the limit an ` +
    `agent applies to itself: its further ${what} are left out of the summary, thresholds ` +
    'and reports; its other data still counts. A compromised or broken agent sends this.'
  );
}
