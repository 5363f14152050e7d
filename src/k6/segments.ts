/**
 * Splitting one test's load across agents with k6's execution segments
 * (lib/execution_segment.go). Every agent gets its own `--execution-segment`
 * and the SAME full `--execution-segment-sequence`: with the sequence, k6
 * spreads VUs and iterations so the shares add up exactly to the whole and
 * `exec.vu.idInTest` stays unique across agents.
 *
 * Boundaries are exact fractions (BigInt), never floats: 1/3 as 0.3333 would
 * leave a sliver of the load to no one.
 */
import { K6DistributedError } from '../errors.js';

export interface AgentSegment {
  /** e.g. "1/3:2/3", for `--execution-segment`. */
  segment: string;
  /** The same for every agent, e.g. "0,1/3,2/3,1", for `--execution-segment-sequence`. */
  sequence: string;
  /** This agent's share of the load, for display (0..1). */
  share: number;
}

const WEIGHT = /^(\d{1,9})(?:\.(\d{1,6}))?$/;

/** Parses a weight such as "1", "2.5" or "0.25" into an exact fraction. */
export function parseWeight(input: string | number): { num: bigint; den: bigint } {
  const text = String(input).trim();
  const match = WEIGHT.exec(text);
  if (!match) {
    throw weightError(`invalid agent weight "${text}": use a positive number such as 1, 2 or 0.5`);
  }
  const [, whole = '', decimals = ''] = match;
  const weight = { num: BigInt(whole + decimals), den: 10n ** BigInt(decimals.length) };
  if (weight.num === 0n) {
    throw weightError(
      `invalid agent weight "${text}": it must be greater than 0 (an agent with no load ` +
        'should not join)',
    );
  }
  return weight;
}

/**
 * One segment per agent, in order, sized by weight. Equal weights give equal
 * shares; the boundaries are reduced fractions that k6 parses exactly.
 */
export function segmentsForWeights(weights: readonly (string | number)[]): AgentSegment[] {
  if (weights.length === 0) throw weightError('at least one agent is needed');
  const parsed = weights.map(parseWeight);
  const den = parsed.reduce((acc, w) => lcm(acc, w.den), 1n);
  const ints = parsed.map((w) => (w.num * den) / w.den);
  const total = ints.reduce((a, b) => a + b, 0n);

  const bounds = [0n];
  for (const w of ints) bounds.push((bounds.at(-1) ?? 0n) + w);
  const fractions = bounds.map((b) => fraction(b, total));
  const sequence = fractions.join(',');

  return ints.map((w, i) => ({
    segment: `${fractions[i] ?? '0'}:${fractions[i + 1] ?? '1'}`,
    sequence,
    share: Number(w) / Number(total),
  }));
}

function fraction(num: bigint, den: bigint): string {
  if (num === 0n) return '0';
  if (num === den) return '1';
  const g = gcd(num, den);
  return `${num / g}/${den / g}`;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function lcm(a: bigint, b: bigint): bigint {
  return (a / gcd(a, b)) * b;
}

function weightError(message: string): K6DistributedError {
  return new K6DistributedError('INVALID_WEIGHT', message);
}
