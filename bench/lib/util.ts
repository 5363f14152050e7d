/** Small helpers every benchmark shares: logging, statistics, formatting. */

export const log = (message: string): void => void process.stderr.write(`${message}\n`);

/** k6's percentile formula (linear interpolation between the two nearest ranks). */
export function quantile(values: readonly number[], q: number): number {
  return quantileSorted(
    [...values].sort((a, b) => a - b),
    q,
  );
}

/** `quantile` of values already sorted ascending (k6's TrendSink.P); NaN when empty. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = q * (sorted.length - 1);
  const lo = sorted[Math.floor(i)] ?? NaN;
  const hi = sorted[Math.ceil(i)] ?? NaN;
  return lo + (hi - lo) * (i - Math.floor(i));
}

/** min / median / max over the repetitions of one measurement. */
export interface Spread {
  min: number;
  median: number;
  max: number;
  n: number;
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter(Number.isFinite);
  return {
    min: finite.length ? Math.min(...finite) : NaN,
    median: quantile(finite, 0.5),
    max: finite.length ? Math.max(...finite) : NaN,
    n: finite.length,
  };
}

/** A number with `digits` decimals, or "–" when it is not one. */
export function fmt(value: number | undefined, digits = 0): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** "min / **median** / max" */
export function fmtSpread(s: Spread | undefined, digits = 0): string {
  if (!s || s.n === 0) return '–';
  return `${fmt(s.min, digits)} / **${fmt(s.median, digits)}** / ${fmt(s.max, digits)}`;
}

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name}=${raw} is not a non-negative number; unset it or give one`);
  }
  return value;
}

/** Wall clock with sub-millisecond resolution, comparable across processes. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** Rotates `items` by `round`, so each side goes first equally often. */
export function rotate<T>(items: readonly T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
