/**
 * Issue 20.7: say before the run when the test gives agents nothing to do.
 * `--agents 4 -u 2` leaves two agents' k6 without a VU: they start, hold a
 * machine (a paid runner on GitHub) and make no load, and nothing said so.
 * The run itself is unchanged: this only warns.
 */
import type { K6Options } from '../k6/archive.js';
import { everyAgentHasWork, idleAgents, plural, type IdleInScenario } from '../k6/segment-work.js';
import { type AgentSegment, segmentsForWeights } from '../k6/segments.js';
import { namedAgents } from './named-agents.js';

/**
 * The warning for agents with no work in some scenario, once the agents'
 * segments are known; undefined when every agent has work everywhere.
 * `labels` names the agents in segment order.
 */
export function idleAgentsWarning(
  scenarios: K6Options['scenarios'],
  segments: readonly AgentSegment[],
  labels: readonly string[],
): string | undefined {
  const sequence = segments[0]?.sequence;
  if (segments.length < 2 || sequence === undefined) return undefined;
  const idle = idleAgents(scenarios, sequence);
  if (idle.length === 0) return undefined;
  const total = Object.keys(scenarios ?? {}).length;
  const unused = segments.map((_, i) => i).filter((i) => idleCount(idle, i) === total);
  const partly = new Set(idle.flatMap((s) => s.agents)).size;
  // With one scenario, the scenario's own list names them.
  const which = idle.length > 1 ? ` (${names(unused, labels)})` : '';
  const head =
    unused.length > 0
      ? `${count(unused.length, segments.length)} no load at all${which}`
      : `${count(partly, segments.length)} no load in some scenarios`;
  const where = idle.map(
    (s) => `scenario "${s.scenario}" (${s.has}) gives no VUs to ${names(s.agents, labels)}`,
  );
  return (
    `${head}: ${where.join('; ')}. An agent without load still starts k6 and holds its ` +
    `machine (on GitHub, a runner). Fix: ${fix(scenarios, segments.length, idle)}`
  );
}

/** "2 of 4 agents get", "1 of 4 agents gets". */
function count(n: number, of: number): string {
  return `${String(n)} of ${String(of)} agents ${n === 1 ? 'gets' : 'get'}`;
}

function idleCount(idle: readonly IdleInScenario[], agent: number): number {
  return idle.filter((s) => s.agents.includes(agent)).length;
}

/** Fewer agents (the most equal agents that all get work), or more VUs. */
function fix(
  scenarios: K6Options['scenarios'],
  agents: number,
  idle: readonly IdleInScenario[],
): string {
  const more = idle
    .filter((s) => s.needed !== undefined)
    .map((s) => `"${s.scenario}" at least ${plural(s.needed ?? 0, s.unit)}`);
  const fewer = mostAgentsWithWork(scenarios, agents - 1);
  const options = [
    ...(fewer === undefined ? [] : [`use at most ${plural(fewer, 'agent')}`]),
    ...(more.length > 0 ? [`give ${more.join(' and ')}`] : []),
  ];
  return options.length > 0 ? `${options.join(', or ')}.` : 'use fewer agents, or more VUs.';
}

/** The most equal-weight agents, up to `most`, that each get work in every scenario. */
function mostAgentsWithWork(scenarios: K6Options['scenarios'], most: number): number | undefined {
  for (let n = most; n >= 1; n--) {
    const sequence = segmentsForWeights(Array<number>(n).fill(1))[0]?.sequence;
    if (sequence !== undefined && everyAgentHasWork(scenarios, sequence)) return n;
  }
  return undefined;
}

function names(agents: readonly number[], labels: readonly string[]): string {
  return namedAgents(
    agents.map((i) => labels[i] ?? `agent ${String(i + 1)}`),
    ', ',
  );
}
