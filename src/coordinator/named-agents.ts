import { MAX_NAMED_AGENTS } from '../defaults.js';

/**
 * A warning's agents: the first MAX_NAMED_AGENTS joined by `separator`,
 * then how many more (`a, b and 3 more`; with `; `, `a; b; and 3 more`).
 */
export function namedAgents(names: readonly string[], separator: ', ' | '; '): string {
  const shown = names.slice(0, MAX_NAMED_AGENTS);
  const more = names.length - shown.length;
  if (more <= 0) return shown.join(separator);
  // A list of `;`-separated items keeps its separator before the count.
  const and = separator === '; ' ? '; and' : ' and';
  return `${shown.join(separator)}${and} ${String(more)} more`;
}
