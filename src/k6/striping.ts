/**
 * How k6 divides a whole number (VUs, iterations) among the segments of an
 * execution segment sequence (lib/execution_segment.go: the sequence wrapper's
 * striping and ScaleInt64). Written from k6's description of it, to tell
 * before a run which agent's k6 will get nothing to do.
 *
 * k6 hands out the indexes 0, 1, 2, ... one by one: with every segment's
 * length over the lowest common denominator L of all lengths (its "share" of
 * every L indexes), biggest share first, index i goes to the first segment
 * whose next due index, floor(taken × L / share), it has reached (exactly, or
 * past it). The pattern repeats every L indexes, so a segment gets
 * floor(n / L) × share of n, plus what it owns among the first n mod L.
 */

/** An exact, reduced, positive fraction. */
export interface Fraction {
  num: bigint;
  den: bigint;
}

/**
 * Indexes handed out one by one, at most: beyond that (weights with many
 * decimals give a huge L) the question is left unanswered rather than
 * stalling the coordinator.
 */
const MAX_STRIPED_INDEXES = 1_000_000;

export class Striping {
  readonly #lcd: bigint;
  /** Each segment's share of every L indexes, by segment. */
  readonly #shares: bigint[];
  /** Segment numbers, biggest share first (ties in sequence order). */
  readonly #order: number[];
  /** How many indexes each segment (by position in #order) has taken. */
  readonly #taken: bigint[];
  /** The owner of each index handed out so far (-1: none). */
  readonly #owners: number[] = [];

  constructor(lengths: readonly Fraction[]) {
    if (lengths.length === 0) throw new Error('a segment sequence has at least one segment');
    this.#lcd = lengths.reduce((acc, f) => lcm(acc, f.den), 1n);
    this.#shares = lengths.map((f) => f.num * (this.#lcd / f.den));
    this.#order = lengths.map((_, i) => i).sort((a, b) => compare(this.#share(b), this.#share(a)));
    this.#taken = this.#order.map(() => 0n);
  }

  /** The parts `value` splits into, one per segment; undefined past MAX_STRIPED_INDEXES. */
  scale(value: number): number[] | undefined {
    const whole = BigInt(Math.floor(value));
    const rest = Number(whole % this.#lcd);
    if (!this.#handOut(rest)) return undefined;
    const parts = this.#shares.map((share) => Number((whole / this.#lcd) * share));
    for (let i = 0; i < rest; i++) {
      const owner = this.#owners[i] ?? -1;
      if (owner >= 0) parts[owner] = (parts[owner] ?? 0) + 1;
    }
    return parts;
  }

  /**
   * The smallest value that gives every segment at least 1: one past the
   * last segment's first index. Undefined past MAX_STRIPED_INDEXES.
   */
  smallestForAll(): number | undefined {
    const firsts = this.#shares.map(() => -1);
    let missing = firsts.length;
    for (let i = 0; missing > 0; i++) {
      if (BigInt(i) >= this.#lcd || !this.#handOut(i + 1)) return undefined;
      const owner = this.#owners[i] ?? -1;
      if (owner >= 0 && firsts[owner] === -1) {
        firsts[owner] = i;
        missing--;
      }
    }
    return Math.max(...firsts) + 1;
  }

  /** Hands out indexes until `count` have an owner; false if that is too many. */
  #handOut(count: number): boolean {
    if (count > MAX_STRIPED_INDEXES) return false;
    for (let i = this.#owners.length; i < count; i++) this.#owners.push(this.#ownerOf(BigInt(i)));
    return true;
  }

  #ownerOf(index: bigint): number {
    for (const [position, segment] of this.#order.entries()) {
      const due = (this.#taken[position] ?? 0n) * this.#lcd;
      const share = this.#share(segment);
      const next = due / share;
      if (index > next || (index === next && due % share === 0n)) {
        this.#taken[position] = (this.#taken[position] ?? 0n) + 1n;
        return segment;
      }
    }
    return -1;
  }

  #share(segment: number): bigint {
    return this.#shares[segment] ?? 0n;
  }
}

/** The segments' lengths of a full sequence such as "0,1/3,2/3,1" (k6's --execution-segment-sequence). */
export function sequenceLengths(sequence: string): Fraction[] {
  const bounds = sequence.split(',').map(parseFraction);
  return bounds.slice(1).map((to, i) => {
    const from = bounds[i] ?? { num: 0n, den: 1n };
    return reduce(to.num * from.den - from.num * to.den, to.den * from.den);
  });
}

function parseFraction(text: string): Fraction {
  const [num = '', den = '1'] = text.trim().split('/');
  return reduce(BigInt(num), BigInt(den));
}

function reduce(num: bigint, den: bigint): Fraction {
  const g = gcd(num, den);
  return { num: num / g, den: den / g };
}

function compare(a: bigint, b: bigint): number {
  return a === b ? 0 : a < b ? -1 : 1;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function lcm(a: bigint, b: bigint): bigint {
  return (a / gcd(a, b)) * b;
}
