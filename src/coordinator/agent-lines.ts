import { MAX_LISTED_AGENTS } from '../defaults.js';
import { printableName } from '../runtime/printable.js';
import type { AgentRecord } from './agent-record.js';

/**
 * What the coordinator says of its agents as they join and get ready: a
 * line each for a few, counts and ranges for many (issue 20.6).
 */

/** ", tags region=eu" */
export function tagText(tags: Readonly<Record<string, string>>): string {
  const entries = Object.entries(tags);
  return entries.length
    ? `, tags ${entries.map(([k, v]) => `${k}=${printableName(v)}`).join(' ')}`
    : '';
}

/** "all 3 agents joined"; for many, how long it took and the last three (issue 20.6). */
export function joinedText(agents: readonly AgentRecord[]): string {
  const all = `all ${String(agents.length)} agents joined`;
  if (agents.length <= MAX_LISTED_AGENTS) return all;
  const first = agents[0]?.joinedMs ?? 0;
  const last = agents
    .slice(-3)
    .reverse()
    .map((a) => `${a.label} +${((a.joinedMs - first) / 1000).toFixed(1)} s`);
  const took = ((agents.at(-1)?.joinedMs ?? first) - first) / 1000;
  return `${all} in ${took.toFixed(1)} s (the last: ${last.join(', ')})`;
}

/**
 * Each agent's share of the test and its VUs (issue 20.5): one by one for a
 * few agents, the range for many (issue 20.6).
 */
export function sharesText(agents: readonly AgentRecord[]): string {
  const share = (a: AgentRecord) => `${((a.segment?.share ?? 0) * 100).toFixed(2)}%`;
  const vus = (a: AgentRecord) => a.event('ready')?.vusMax ?? 0;
  if (agents.length <= MAX_LISTED_AGENTS) {
    return agents
      .map((a) => `agent ${String(a.index + 1)}: ${share(a)}, ${String(vus(a))} max VUs`)
      .join('; ');
  }
  const range = (values: readonly string[]) => {
    const unique = [...new Set(values)];
    return unique.length === 1 ? (unique[0] ?? '') : `${unique[0] ?? ''} to ${unique.at(-1) ?? ''}`;
  };
  const shares = range(
    [...agents].sort((a, b) => (a.segment?.share ?? 0) - (b.segment?.share ?? 0)).map(share),
  );
  const maxVus = range(
    agents
      .map(vus)
      .sort((a, b) => a - b)
      .map(String),
  );
  return `${String(agents.length)} agents: ${shares} of the test and ${maxVus} max VUs each`;
}
