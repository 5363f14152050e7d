import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirname } from 'node:path';

import * as core from '@actions/core';

import { errorMessage } from '../errors.js';
import { provisionK6 } from '../k6/provision.js';
import { runAgentRole, type AgentServices } from './agent-role.js';
import { runCoordinatorRole, type CoordinatorServices } from './coordinator-role.js';
import { OUTPUTS, parseInputs } from './inputs.js';
import type { ActionIo } from './io.js';
import { actionsLogger } from './logger.js';

export { INPUTS, OUTPUTS } from './inputs.js';

export interface ActionServices extends CoordinatorServices, AgentServices {}

/**
 * The action: parse the inputs, put k6 on the runner, then play the
 * coordinator or an agent. SIGINT/SIGTERM (a cancelled job) stops the run
 * as k6 would: teardown once, exit 105.
 */
export async function run(services: ActionServices, io: ActionIo): Promise<void> {
  const env = io.env;
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => controller.abort(new Error(`received ${signal}`));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const workDir = await mkdtemp(join(env.RUNNER_TEMP ?? tmpdir(), 'k6-distributed-'));
  try {
    const inputs = parseInputs((name) => core.getInput(name));
    // Masked even when given as a literal rather than from `secrets`.
    if (inputs.secret !== undefined) core.setSecret(inputs.secret);
    const k6 = await provisionK6({ version: inputs.k6Version, env, log: actionsLogger });
    core.addPath(dirname(k6.path));
    io.setOutput(OUTPUTS.k6Path, k6.path);
    io.setOutput(OUTPUTS.k6Version, k6.version);
    const ctx = { ...io, k6, workDir, log: actionsLogger, signal: controller.signal };
    if (inputs.role === 'coordinator') await runCoordinatorRole(inputs, ctx, services);
    else await runAgentRole(inputs, ctx, services);
  } catch (error) {
    core.setFailed(errorMessage(error));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(workDir, { recursive: true, force: true });
  }
}
