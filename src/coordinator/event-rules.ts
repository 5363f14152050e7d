import type { AgentEvent, AgentEventType } from '../protocol/messages.js';
import type { AgentRecord } from './agent-record.js';

/** The phases of one run (design.md §2), in order. */
export const PHASES = [
  'joining',
  'initialising',
  'setup',
  'distributing',
  'running',
  'stopping',
  'teardown',
  'releasing',
  'done',
] as const;
export type Phase = (typeof PHASES)[number];

/**
 * The earliest phase in which an agent's own k6-distributed can send each
 * event: it acts only on the coordinator's instructions, and each comes with
 * a phase (ready after `prepare`, data-set after `setup-data`, …). Later is
 * fine (a run aborted meanwhile); earlier means someone else holds the
 * agent's token, e.g. `data-set` before any data was sent would start the
 * run with that agent's VUs lacking it.
 */
const EARLIEST: Record<AgentEventType, Phase> = {
  ready: 'initialising',
  'init-failed': 'initialising',
  'k6-exited': 'initialising',
  'setup-done': 'setup',
  'setup-failed': 'setup',
  'marked-failed': 'setup',
  'data-set': 'distributing',
  started: 'running',
  finished: 'running',
  'teardown-done': 'teardown',
  'teardown-failed': 'teardown',
  failed: 'joining',
  log: 'initialising',
  resources: 'running',
};

/** Who the coordinator chose for the run-wide steps, and where the run is. */
export interface RunSteps {
  phase: Phase;
  setupAgent: AgentRecord | undefined;
  teardownAgent: AgentRecord | undefined;
}

/**
 * Why the coordinator refuses `event` from `agent` now (issue 17.1), or
 * undefined when the event may be applied. An agent is trusted for its own
 * share only: setup() and teardown() outcomes decide for the whole run, so
 * they count only from the agent chosen to run that step, once.
 */
export function eventRefusal(
  agent: AgentRecord,
  event: AgentEvent,
  run: RunSteps,
): string | undefined {
  switch (event.type) {
    case 'setup-done':
    case 'setup-failed':
      return stepRefusal(agent, run.setupAgent, 'setup');
    case 'teardown-done':
    case 'teardown-failed':
      return stepRefusal(agent, run.teardownAgent, 'teardown');
    case 'k6-exited':
      // Its k6 ends as planned only once it was told to let it exit.
      if (event.expected && agent.instruction.type !== 'release') {
        return 'it was not released yet, so its k6 cannot have exited as planned';
      }
      break;
    default:
      break;
  }
  const earliest = EARLIEST[event.type];
  if (PHASES.indexOf(run.phase) < PHASES.indexOf(earliest)) {
    return `it cannot come before the ${earliest} phase (the run is ${run.phase})`;
  }
  return undefined;
}

function stepRefusal(
  agent: AgentRecord,
  chosen: AgentRecord | undefined,
  step: 'setup' | 'teardown',
): string | undefined {
  if (chosen === undefined) return `no agent was asked to run ${step}() yet`;
  if (chosen !== agent) return `only ${chosen.label}, which was asked to run ${step}(), may`;
  if (agent.has(`${step}-done`) || agent.has(`${step}-failed`)) {
    return `${step}()'s outcome was already reported`;
  }
  return undefined;
}
