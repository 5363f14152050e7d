import type { AgentRecord } from './agent-record.js';
import type { AbortCause, AgentSummary, RunResult, TeardownError } from './outcome.js';
import { K6_EXIT_CODES } from '../k6/exit-codes.js';
import { printableName } from '../runtime/printable.js';

export interface RunFacts {
  agents: readonly AgentRecord[];
  cause: AbortCause | undefined;
  teardownError: TeardownError | undefined;
  setupRan: boolean;
  teardownRan: boolean;
  /** Metric keys whose thresholds failed at the end of the run. */
  thresholdsBreached: readonly string[];
  /** Warnings about the figures' accuracy, for the result (issue 18.4). */
  warnings?: readonly string[];
  /** The agents that ran setup() and teardown(), if any. */
  setupAgentId?: string;
  teardownAgentId?: string;
}

/**
 * The run's result. The exit code follows k6: the first abort cause wins;
 * else a failed teardown() is a script exception (107); else the first
 * non-zero exit of a k6 that ended on its own terms (e.g. 110 after
 * exec.test.fail()); else failed thresholds (99); else 0. k6's own order
 * (internal/cmd/run.go): an error from the run hides a threshold failure.
 */
export function summarise(facts: RunFacts): RunResult {
  const leaders = new Set([facts.setupAgentId, facts.teardownAgentId]);
  const agents = facts.agents.map((a) => agentSummary(a, leaders.has(a.id)));
  const starts = agents.flatMap((a) => (a.startedAt === undefined ? [] : [a.startedAt]));
  const { exitCode, message, k6Error } = verdict(facts);
  return {
    exitCode,
    message,
    k6Error,
    aborted: facts.cause !== undefined,
    ...(facts.cause?.initFailed && { initFailed: true }),
    agents,
    startSkewMs: starts.length ? Math.max(...starts) - Math.min(...starts) : undefined,
    setupRan: facts.setupRan,
    teardownRan: facts.teardownRan,
    thresholdsBreached: facts.thresholdsBreached,
    ...(facts.warnings?.length && { warnings: facts.warnings }),
  };
}

interface Verdict {
  exitCode: number;
  message: string;
  k6Error?: string;
}

function verdict(facts: RunFacts): Verdict {
  const lost = facts.agents.filter((a) => !a.live).map((a) => `${a.label}: ${a.lost ?? ''}`);
  const lostNote = lost.length ? ` (lost: ${lost.join('; ')})` : '';
  const cause = facts.cause;
  if (cause) {
    const message = cause.k6Error ? `${cause.message}: ${cause.k6Error}` : cause.message;
    return { exitCode: cause.exitCode, message, k6Error: cause.k6Error };
  }
  if (facts.teardownError) {
    const { message, k6Error } = facts.teardownError;
    return {
      exitCode: K6_EXIT_CODES['script-exception'],
      message: `${message}: ${k6Error}`,
      k6Error,
    };
  }
  for (const agent of facts.agents) {
    const exit = agent.live ? agent.exit : undefined;
    if (exit?.code) {
      return {
        exitCode: exit.code,
        message: `${agent.label}: ${exit.description}${lostNote}`,
        ...(exit.code === K6_EXIT_CODES['marked-as-failed'] && { k6Error: MARKED_FAILED }),
      };
    }
  }
  if (facts.thresholdsBreached.length) {
    const crossed = `thresholds on metrics '${printableName(facts.thresholdsBreached.join(', '))}' have been crossed`;
    return {
      exitCode: K6_EXIT_CODES['thresholds-failed'],
      message: `${crossed}${lostNote}`,
      k6Error: crossed,
    };
  }
  return { exitCode: 0, message: `the run finished${lostNote}` };
}

/** k6's last line after exec.test.fail() (internal/cmd/run.go). */
const MARKED_FAILED = 'test run was marked as failed';

function agentSummary(agent: AgentRecord, leader: boolean): AgentSummary {
  const exit = agent.exit;
  return {
    id: agent.id,
    index: agent.index,
    name: agent.name,
    tags: agent.tags,
    weight: agent.weight,
    segment: agent.segment?.segment,
    share: agent.segment?.share,
    leader,
    startedAt: agent.event('started')?.at,
    lost: agent.lost,
    k6Exit: exit && { code: exit.code, signal: exit.signal, description: exit.description },
    ...(agent.refusals.size > 0 && { notes: [refusalNote(agent.refusals)] }),
  };
}

/** e.g. "refused 3 metric deltas that cannot be true (http-samples ×2, subset ×1)" */
function refusalNote(refusals: ReadonlyMap<string, number>): string {
  const total = [...refusals.values()].reduce((a, b) => a + b, 0);
  const rules = [...refusals].map(([rule, n]) => `${rule} ×${String(n)}`).join(', ');
  return `refused ${String(total)} metric delta${total === 1 ? '' : 's'} that cannot be true (${rules})`;
}
