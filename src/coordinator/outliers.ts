import type { AgentOutcome } from './outcome.js';

/** An agent doing this many times the work per VU of the others is marked. */
const OUTLIER_FACTOR = 4;
/** Below this many iterations or requests beyond its expected share, no mark: small runs vary. */
const MIN_EXCESS = 100;

const MEASURES = [
  { label: 'iterations', of: (a: AgentOutcome) => a.totals?.iterations },
  { label: 'requests', of: (a: AgentOutcome) => a.totals?.httpReqs },
] as const;

/**
 * Marks agents whose share of iterations or requests is far above what their
 * VUs predict (issue 17.5): an agent is trusted for its own samples, so one
 * that reports consistent but invented load is not refused, but the reports
 * show it (`notes`). Each agent is compared with the median per-VU load of
 * the others; without a VU count (no `ready`), its weight stands in.
 */
export function markOutliers(
  agents: AgentOutcome[],
  vusMax: (agentId: string) => number | undefined,
): void {
  const capacity = new Map(agents.map((a) => [a.id, vusMax(a.id) ?? Number(a.weight)]));
  for (const { label, of } of MEASURES) {
    const rates = new Map<string, number>();
    for (const a of agents) {
      const n = of(a);
      const c = capacity.get(a.id) ?? 0;
      if (n !== undefined && c > 0) rates.set(a.id, n / c);
    }
    for (const a of agents) {
      const rate = rates.get(a.id);
      const others = [...rates].filter(([id]) => id !== a.id).map(([, r]) => r);
      if (rate === undefined || others.length === 0) continue;
      const typical = median(others);
      const excess = (rate - typical) * (capacity.get(a.id) ?? 0);
      if (excess < MIN_EXCESS || rate <= OUTLIER_FACTOR * typical) continue;
      const times = typical > 0 ? `${(rate / typical).toFixed(1)}×` : 'far above';
      (a.notes ??= []).push(
        `outlier: ${times} the ${label} per VU of the other agents (${String(of(a))} ${label})`,
      );
    }
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}
