import { K6_EXIT_CODES } from '../k6/exit-codes.js';
import type { AgentTotals } from '../metrics/store.js';
import { printableName } from '../runtime/printable.js';
import type { AgentRecord } from './agent-record.js';
import { type GeneratorLoad, loadWarnings } from './generator-load.js';

/** Why a run ended early: the first cause wins, as in k6 (internal/execution/abort.go). */
export interface AbortCause {
  exitCode: number;
  message: string;
  /** The agent whose k6 decides the final exit code, e.g. the one that called test.abort(). */
  agentId?: string;
  /** What agents are told when stopped or released; default: `message` (long: k6's error). */
  instruction?: string;
  /** The script's init code threw on an agent: no VU ever ran (k6's exit 107). */
  initFailed?: boolean;
  /**
   * k6's own error for this cause (e.g. what setup() threw), which `k6 run`
   * logs once, after the summary: the coordinator does the same, and says
   * only `message` as the abort happens and to the agents.
   */
  k6Error?: string;
}

/** What teardown() threw (`k6Error`, as k6 logs it) and where (`message`). */
export interface TeardownError {
  message: string;
  k6Error: string;
}

export interface AgentOutcome {
  id: string;
  index: number;
  name: string;
  tags: Readonly<Record<string, string>>;
  weight: string;
  segment: string | undefined;
  share: number | undefined;
  leader: boolean;
  /** Coordinator-clock instant this agent unpaused its k6 (epoch ms). */
  startedAt: number | undefined;
  lost: string | undefined;
  k6Exit: { code: number | null; signal: string | null; description: string } | undefined;
  /** What this agent's k6 measured, from its metric deltas. */
  totals?: AgentTotals;
  /** How busy its machine was while its k6 ran (issue 20.7); absent without readings. */
  load?: GeneratorLoad;
  /**
   * What the reports mark about this agent (issue 17.5): deltas refused as
   * impossible, a share far beyond what its VUs predict.
   */
  notes?: string[];
}

/** What a run ended with: the exit code means what k6's would for the same outcome. */
export interface RunOutcome {
  exitCode: number;
  /** One line: what happened. */
  message: string;
  /** The run was stopped early (abortOnFail, test.abort(), a lost agent, a signal, …). */
  aborted: boolean;
  /** It never started: the script's init code threw on an agent. */
  initFailed?: boolean;
  agents: AgentOutcome[];
  /** Max − min of the agents' start instants; undefined if fewer than one started. */
  startSkewMs: number | undefined;
  setupRan: boolean;
  teardownRan: boolean;
  /** Metrics whose thresholds failed at the end (k6 names them in its last line). */
  thresholdsBreached: readonly string[];
  /**
   * The error `k6 run` ends with for this outcome (internal/cmd/root.go logs
   * the run's error after the summary), when the coordinator must say it:
   * failed thresholds, exec.test.fail(), what setup() threw.
   */
  k6Error: string | undefined;
  /** What the run warned about its figures' accuracy (issues 18.4, 20.7); absent when nothing. */
  warnings?: readonly string[];
  /** How busy the coordinator's machine was while the test ran (issue 20.7). */
  coordinatorLoad?: GeneratorLoad;
}

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
  /** The coordinator's own machine while the test ran. */
  coordinatorLoad?: GeneratorLoad;
  /** Every agent ran on the coordinator's machine (a local run). */
  agentsShareMachine?: boolean;
  /** The agents that ran setup() and teardown(), if any. */
  setupAgentId?: string;
  teardownAgentId?: string;
}

/** When each agent's k6 was unpaused (coordinator clock), for those that started. */
export function agentStarts(agents: readonly { startedAt?: number | undefined }[]): number[] {
  return agents.flatMap((a) => (a.startedAt === undefined ? [] : [a.startedAt]));
}

/**
 * The run's result. The exit code follows k6: the first abort cause wins;
 * else a failed teardown() is a script exception (107); else the first
 * non-zero exit of a k6 that ended on its own terms (e.g. 110 after
 * exec.test.fail()); else failed thresholds (99); else 0. k6's own order
 * (internal/cmd/run.go): an error from the run hides a threshold failure.
 */
export function decideOutcome(facts: RunFacts): RunOutcome {
  const leaders = new Set([facts.setupAgentId, facts.teardownAgentId]);
  const agents = facts.agents.map((a) => agentOutcome(a, leaders.has(a.id)));
  const starts = agentStarts(agents);
  const { exitCode, message, k6Error } = verdict(facts);
  const warnings = [
    ...(facts.warnings ?? []),
    ...loadWarnings(
      facts.agents.map((a) => ({ label: a.label, load: a.load.load })),
      facts.coordinatorLoad,
      facts.agentsShareMachine,
    ),
  ];
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
    ...(warnings.length && { warnings }),
    ...(facts.coordinatorLoad && { coordinatorLoad: facts.coordinatorLoad }),
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

function agentOutcome(agent: AgentRecord, leader: boolean): AgentOutcome {
  const exit = agent.exit;
  const load = agent.load.load;
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
    ...(load && { load }),
    ...(agent.refusals.size > 0 && { notes: [refusalNote(agent.refusals)] }),
  };
}

/** e.g. "refused 3 metric deltas that cannot be true (http-samples ×2, subset ×1)" */
function refusalNote(refusals: ReadonlyMap<string, number>): string {
  const total = [...refusals.values()].reduce((a, b) => a + b, 0);
  const rules = [...refusals].map(([rule, n]) => `${rule} ×${String(n)}`).join(', ');
  return `refused ${String(total)} metric delta${total === 1 ? '' : 's'} that cannot be true (${rules})`;
}
