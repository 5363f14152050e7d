import * as core from '@actions/core';

import { errorMessage, hasErrorCode } from '../errors.js';
import type { RendezvousCard } from '../github/rendezvous.js';
import { DISTRIBUTED_RUN_FAILED, K6_EXIT_CODES } from '../k6/exit-codes.js';
import { renderFailureMarkdown } from '../report/failure-markdown.js';
import type { Logger } from '../runtime/logger.js';
import { type ActionInputs, OUTPUTS } from './inputs.js';
import type { ActionIo } from './io.js';

/** How a step that ended without a run's report ended, as its outputs say it. */
export interface EarlyFailure {
  /** `error`: the test never ran to a verdict; `aborted`: the job was cancelled. */
  result: 'error' | 'aborted';
  exitCode: number;
  message: string;
}

/**
 * k6's exit code for an error that ended the step: k6's own where the error
 * carries one (a script k6 rejects: 107 for a syntax error, as `k6 run`
 * gives; the failed coordinator's, as an agent read it from the
 * rendezvous), 104 (invalid config) for an input of ours, 105 for a
 * cancelled job, else 97, the code of a distributed run that failed.
 */
export function earlyFailure(error: unknown, cancelled: boolean): EarlyFailure {
  const message = errorMessage(error);
  if (cancelled) return { result: 'aborted', exitCode: K6_EXIT_CODES['external-abort'], message };
  return { result: 'error', exitCode: exitCodeOf(error), message };
}

function exitCodeOf(error: unknown): number {
  if (hasErrorCode(error, 'K6_TEST_INVALID') || hasErrorCode(error, 'COORDINATOR_FAILED')) {
    const code = error.data.exitCode;
    if (typeof code === 'number') return code;
  }
  if (hasErrorCode(error, 'INVALID_OPTION') || hasErrorCode(error, 'INVALID_WEIGHT')) {
    return K6_EXIT_CODES['invalid-config'];
  }
  return DISTRIBUTED_RUN_FAILED;
}

export interface EndedEarly {
  error: unknown;
  cancelled: boolean;
  /** Undefined when the inputs themselves were invalid. */
  inputs: ActionInputs | undefined;
  /** The coordinator's rendezvous card, to tell waiting agents. */
  card: RendezvousCard | undefined;
  io: ActionIo;
  /** The outputs the role set already: a run that reported keeps its own. */
  outputsSet: ReadonlySet<string>;
  log: Logger;
}

/**
 * Every way the step can end without the run's own report (issue 20.1):
 * fail the step, tell agents still looking for the coordinator (20.2), and
 * set `result` and `exit-code` and write a job summary, unless the run
 * reported them itself before the error.
 */
export async function reportEarlyFailure(ended: EndedEarly): Promise<void> {
  const failure = earlyFailure(ended.error, ended.cancelled);
  core.setFailed(failure.message);
  await ended.card?.publishFailure(failure, ended.log);
  if (ended.outputsSet.has(OUTPUTS.exitCode)) return;
  await reportFailure(ended.io, failure, { inputs: ended.inputs, log: ended.log });
}

/** The outputs and the job summary of a failure (also an agent's that ran and failed). */
export async function reportFailure(
  io: ActionIo,
  failure: EarlyFailure,
  about: { inputs: ActionInputs | undefined; title?: string; log: Logger },
): Promise<void> {
  io.setOutput(OUTPUTS.result, failure.result);
  io.setOutput(OUTPUTS.exitCode, String(failure.exitCode));
  const role = about.inputs?.role ?? 'coordinator';
  const markdown = renderFailureMarkdown({
    role,
    title:
      about.title ??
      (about.inputs && about.inputs.role !== 'agent' ? about.inputs.script : undefined),
    ...failure,
  });
  try {
    await io.writeJobSummary(markdown);
  } catch (error) {
    about.log.warning(`could not write the job summary: ${errorMessage(error)}`);
  }
}
