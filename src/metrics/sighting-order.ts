import type { SourceOrder } from './delta.js';
import type { CheckId, PartId } from './series-key.js';

/** k6's group path separator (lib.GroupSeparator): a group tag reads `::outer::inner`. */
const SEPARATOR = '::';

/** What one push showed: each group's, check's and part's earliest aggregation bucket (epoch ms). */
export interface Sightings {
  groups: Map<string, number>;
  checks: Map<string, number>;
  parts: Map<string, number>;
}

export function noSightings(): Sightings {
  return { groups: new Map(), checks: new Map(), parts: new Map() };
}

/**
 * The order in which k6 would have listed checks and groups first seen in
 * the same push of its cloud output (issue 18.2). k6 lists them as it first
 * sees their samples; the cloud output says only in which aggregation second
 * that was, and lists a push's series in Go's random map order. So: by
 * second, then by where the script's source spells the name (a check()
 * call's keys in order, groups in order: what runs first in one iteration,
 * as a rule), then by name; a group before the groups inside it.
 */
export class SightingOrder {
  readonly #checks: Map<string, number>;
  readonly #groups: Map<string, number>;

  constructor(order: SourceOrder | undefined) {
    this.#checks = ranks(order?.checks ?? []);
    this.#groups = ranks(order?.groups ?? []);
  }

  /** Two group tags (`::a::b`): segment by segment, by rank then name; a parent first. */
  compareGroups(a: string, b: string): number {
    const x = a.split(SEPARATOR);
    const y = b.split(SEPARATOR);
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const byName = this.#compare(this.#groups, x[i] ?? '', y[i] ?? '');
      if (byName !== 0) return byName;
    }
    return x.length - y.length;
  }

  /** Two checks first seen in the same second: by the check name's rank, then the group's. */
  compareChecks(a: CheckId, b: CheckId): number {
    return (
      this.#compare(this.#checks, a.name, b.name) ||
      this.compareGroups(a.group, b.group) ||
      byText(a.scenario, b.scenario)
    );
  }

  /** Two scenario/group parts first seen in the same second. */
  compareParts(a: PartId, b: PartId): number {
    return this.compareGroups(a.group, b.group) || byText(a.scenario, b.scenario);
  }

  #compare(rank: Map<string, number>, a: string, b: string): number {
    if (a === b) return 0;
    const ra = rank.get(a) ?? Number.MAX_SAFE_INTEGER;
    const rb = rank.get(b) ?? Number.MAX_SAFE_INTEGER;
    return ra - rb || byText(a, b);
  }
}

/**
 * The entries of `map` from index `from` on (those a push added), sorted by
 * their first sighting, then by `compare`; the earlier entries keep their
 * place. Returns `map` itself when nothing moved.
 */
export function sortAddedEntries<V>(
  map: Map<string, V>,
  from: number,
  sightings: Map<string, number>,
  compare: (a: V, b: V) => number,
): Map<string, V> {
  if (map.size - from < 2) return map;
  const entries = [...map];
  const added = entries.slice(from);
  added.sort(
    ([ka, a], [kb, b]) => (sightings.get(ka) ?? 0) - (sightings.get(kb) ?? 0) || compare(a, b),
  );
  return new Map([...entries.slice(0, from), ...added]);
}

/** Notes that `key` was seen in the bucket starting at `timeMs`, keeping the earliest. */
export function sighted(sightings: Map<string, number>, key: string, timeMs: number): void {
  const known = sightings.get(key);
  if (known === undefined || timeMs < known) sightings.set(key, timeMs);
}

function ranks(names: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  names.forEach((name, i) => {
    if (!out.has(name)) out.set(name, i);
  });
  return out;
}

/** Plain code-unit order: the same on every machine, whatever the locale. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
