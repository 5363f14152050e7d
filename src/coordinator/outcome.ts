import type { AgentTotals } from '../metrics/store.js';

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

export interface AgentSummary {
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
  /**
   * What the reports mark about this agent (issue 17.5): deltas refused as
   * impossible, a share far beyond what its VUs predict.
   */
  notes?: string[];
}

/** What a run ended with: the exit code means what k6's would for the same outcome. */
export interface RunResult {
  exitCode: number;
  /** One line: what happened. */
  message: string;
  /** The run was stopped early (abortOnFail, test.abort(), a lost agent, a signal, …). */
  aborted: boolean;
  /** It never started: the script's init code threw on an agent. */
  initFailed?: boolean;
  agents: AgentSummary[];
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
  /** What the run warned about its figures' accuracy (issue 18.4); absent when nothing. */
  warnings?: readonly string[];
}
