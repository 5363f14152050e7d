import * as core from '@actions/core';

import { Agent } from '../agent/agent.js';
import { CoordinatorClient } from '../agent/client.js';
import { runAttempt } from '../github/actions-run.js';
import {
  coordinatorFailed,
  findCoordinatorUrl,
  readCoordinatorFailure,
  rendezvousName,
} from '../github/rendezvous.js';
import { K6_EXIT_CODES } from '../k6/exit-codes.js';
import type { RoleContext } from './coordinator-role.js';
import { reportFailure } from './early-failure.js';
import { OUTPUTS, type AgentInputs } from './inputs.js';

export interface AgentServices {
  /** Mints a fresh GitHub OIDC token for registration (auth: oidc). */
  mintIdToken(): Promise<string>;
}

/**
 * An agent job: find the coordinator (coordinator-url or the rendezvous
 * artifact), register, and run its share of the test. The verdict is the
 * coordinator job's; an agent fails only when it could not do its part.
 */
export async function runAgentRole(
  inputs: AgentInputs,
  ctx: RoleContext,
  services: AgentServices,
): Promise<void> {
  const rendezvous =
    inputs.coordinatorUrl === undefined
      ? rendezvousName(inputs.testName, runAttempt(ctx.env))
      : undefined;
  const url =
    inputs.coordinatorUrl ??
    (await findCoordinatorUrl({
      name: rendezvous ?? '',
      timeoutMs: inputs.joinTimeoutMs,
      log: ctx.log,
      signal: ctx.signal,
    }));
  const client = coordinatorClient(url, rendezvous, inputs, services, ctx);
  try {
    const name = agentName(ctx.env);
    const agent = new Agent({
      client,
      k6: ctx.k6,
      workDir: ctx.workDir,
      name,
      weight: inputs.weight,
      tags: inputs.tags,
      env: ctx.env,
      envOverrides: inputs.env,
      log: ctx.log,
      forwardLogs: true,
    });
    const result = await agent.run(ctx.signal);
    if (result.exitCode === 0) {
      ctx.setOutput(OUTPUTS.exitCode, '0');
      ctx.log.info(`agent: ${result.message}`);
      return;
    }
    core.setFailed(`agent: ${result.message}`);
    const cancelled = result.exitCode === K6_EXIT_CODES['external-abort'] && ctx.signal.aborted;
    await reportFailure(
      ctx,
      {
        result: cancelled ? 'aborted' : 'error',
        exitCode: result.exitCode,
        message: result.message,
      },
      { inputs, title: name, log: ctx.log },
    );
  } finally {
    await client.close();
  }
}

/**
 * The agent's client; found through the rendezvous, it reads the
 * coordinator's card while the coordinator cannot be reached, and stops at
 * once when the card says it failed (issue 20.2).
 */
function coordinatorClient(
  url: string,
  rendezvous: string | undefined,
  inputs: AgentInputs,
  services: AgentServices,
  ctx: RoleContext,
): CoordinatorClient {
  return new CoordinatorClient({
    url,
    ...(inputs.auth === 'secret'
      ? { secret: inputs.secret }
      : { credential: () => services.mintIdToken() }),
    ...(rendezvous !== undefined && {
      coordinatorGone: async () => {
        const failure = await readCoordinatorFailure({ name: rendezvous });
        return failure && coordinatorFailed(failure);
      },
    }),
    log: ctx.log,
  });
}

/** A name for reports (e.g. `env: K6_DISTRIBUTED_AGENT_NAME: eu-${{ matrix.n }}`); else agent-<n>. */
function agentName(env: NodeJS.ProcessEnv): string | undefined {
  return env.K6_DISTRIBUTED_AGENT_NAME?.trim() || undefined;
}
