/**
 * Bounds on setup() data, checked where it arrives (the event schema) so
 * nothing later (poll answers, handleSummary(), the result files) can
 * overflow the stack serializing it (issue 17.3).
 */
export const SETUP_DATA_LIMITS = {
  /**
   * Nesting levels of arrays and objects. k6 itself refuses more than 10,000
   * (Go's JSON decoder: "exceeded max depth", exit 255); Node's
   * JSON.stringify with indentation overflows its stack below that.
   */
  maxDepth: 1_000,
} as const;

/**
 * How deeply `value` nests, counted without recursion (a recursive walk is
 * what the limit protects against). Stops counting past `limit`.
 */
export function jsonDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [node, depth] = next;
    if (node === null || typeof node !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (child !== null && typeof child === 'object') stack.push([child, level]);
    }
  }
  return deepest;
}

/** Why setup() data cannot travel, or undefined when it can. */
export function setupDataProblem(data: unknown): string | undefined {
  const limit = SETUP_DATA_LIMITS.maxDepth;
  if (jsonDepth(data, limit) <= limit) return undefined;
  return (
    `setup() data is nested deeper than ${String(limit)} levels of arrays and objects; ` +
    'return flatter data from setup() (k6-distributed relays it to every agent)'
  );
}
