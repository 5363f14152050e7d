import * as core from '@actions/core';

import { Agent } from '../agent/agent.js';
import { CoordinatorClient } from '../agent/client.js';
import { runAttempt } from '../github/actions-run.js';
import { findCoordinatorUrl, rendezvousName } from '../github/rendezvous.js';
import type { RoleContext } from './coordinator-role.js';
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
  const url =
    inputs.coordinatorUrl ??
    (await findCoordinatorUrl({
      name: rendezvousName(inputs.testName, runAttempt(ctx.env)),
      timeoutMs: inputs.joinTimeoutMs,
      log: ctx.log,
      signal: ctx.signal,
    }));
  const client = new CoordinatorClient({
    url,
    ...(inputs.auth === 'secret'
      ? { secret: inputs.secret }
      : { credential: () => services.mintIdToken() }),
    log: ctx.log,
  });
  try {
    const agent = new Agent({
      client,
      k6: ctx.k6,
      workDir: ctx.workDir,
      name: agentName(ctx.env),
      weight: inputs.weight,
      tags: inputs.tags,
      env: ctx.env,
      envOverrides: inputs.env,
      log: ctx.log,
    });
    const result = await agent.run(ctx.signal);
    ctx.setOutput(OUTPUTS.exitCode, String(result.exitCode));
    if (result.exitCode === 0) ctx.log.info(`agent: ${result.message}`);
    else core.setFailed(`agent: ${result.message}`);
  } finally {
    await client.close();
  }
}

/** A name for reports (e.g. `env: K6_DISTRIBUTED_AGENT_NAME: eu-${{ matrix.n }}`); else agent-<n>. */
function agentName(env: NodeJS.ProcessEnv): string | undefined {
  return env.K6_DISTRIBUTED_AGENT_NAME?.trim() || undefined;
}
