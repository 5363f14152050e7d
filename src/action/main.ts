import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirname } from 'node:path';

import * as core from '@actions/core';

import { runAttempt } from '../github/actions-run.js';
import { RendezvousCard, rendezvousName } from '../github/rendezvous.js';
import { provisionK6 } from '../k6/provision.js';
import { runAgentRole, type AgentServices } from './agent-role.js';
import { runCoordinatorRole, type CoordinatorServices } from './coordinator-role.js';
import { reportEarlyFailure } from './early-failure.js';
import { runPlanRole } from './plan-role.js';
import { type ActionInputs, OUTPUTS, parseInputs } from './inputs.js';
import type { ActionIo } from './io.js';
import { actionsLogger } from './logger.js';

export { INPUTS, OUTPUTS } from './inputs.js';

export interface ActionServices extends CoordinatorServices, AgentServices {}

/**
 * The action: parse the inputs, put k6 on the runner, then play the
 * coordinator or an agent. SIGINT/SIGTERM (a cancelled job) stops the run
 * as k6 would: teardown once, exit 105. However it ends, the step has its
 * `result` and `exit-code` outputs and a job summary (issue 20.1).
 */
export async function run(services: ActionServices, io: ActionIo): Promise<void> {
  const env = io.env;
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => controller.abort(new Error(`received ${signal}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const workDir = await mkdtemp(join(env.RUNNER_TEMP ?? tmpdir(), 'k6-distributed-'));
  const outputsSet = new Set<string>();
  const tracked: ActionIo = {
    ...io,
    setOutput: (name, value) => {
      outputsSet.add(name);
      io.setOutput(name, value);
    },
  };
  let inputs: ActionInputs | undefined;
  let card: RendezvousCard | undefined;
  try {
    inputs = parseInputs((name) => core.getInput(name));
    // Masked even when given as a literal rather than from `secrets`.
    if (inputs.secret !== undefined) core.setSecret(inputs.secret);
    if (inputs.role === 'coordinator') {
      for (const value of Object.values(inputs.k6Env)) if (value !== '') core.setSecret(value);
    }
    if (inputs.role === 'plan') {
      await runPlanRole(inputs, { ...tracked, log: actionsLogger });
      return;
    }
    card = coordinatorCard(inputs, env);
    const k6 = await provisionK6({ version: inputs.k6Version, env, log: actionsLogger });
    core.addPath(dirname(k6.path));
    tracked.setOutput(OUTPUTS.k6Path, k6.path);
    tracked.setOutput(OUTPUTS.k6Version, k6.version);
    const ctx = { ...tracked, k6, workDir, log: actionsLogger, signal: controller.signal };
    if (inputs.role === 'coordinator') await runCoordinatorRole(inputs, { ...ctx, card }, services);
    else await runAgentRole(inputs, ctx, services);
  } catch (error) {
    await reportEarlyFailure({
      error,
      cancelled: controller.signal.aborted,
      inputs,
      card,
      io: tracked,
      outputsSet,
      log: actionsLogger,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The coordinator's rendezvous card, when agents find it through one (no coordinator-url). */
function coordinatorCard(inputs: ActionInputs, env: NodeJS.ProcessEnv): RendezvousCard | undefined {
  if (inputs.role !== 'coordinator' || inputs.coordinatorUrl !== undefined) return undefined;
  return new RendezvousCard({ name: rendezvousName(inputs.testName, runAttempt(env)) });
}
