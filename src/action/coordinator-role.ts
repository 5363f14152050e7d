import { join } from 'node:path';

import * as core from '@actions/core';

import type { RegistrationAuth } from '../coordinator/auth.js';
import { secretAuth } from '../coordinator/auth.js';
import type { CoordinateResult } from '../coordinator/run.js';
import { coordinate } from '../coordinator/run.js';
import type { K6Binary } from '../k6/binary.js';
import type { Logger } from '../runtime/logger.js';
import { isLoopbackHost } from '../runtime/net.js';
import { publishCoordinatorUrl, rendezvousName } from '../github/rendezvous.js';
import { verdictOf } from '../github/report-markdown.js';
import { OUTPUTS, type CoordinatorInputs } from './inputs.js';

export interface RoleContext {
  k6: K6Binary;
  env: NodeJS.ProcessEnv;
  workDir: string;
  log: Logger;
  signal: AbortSignal;
}

/** What the coordinator job needs from GitHub beyond the toolkit's core. */
export interface CoordinatorServices {
  /** Verifies agents' GitHub OIDC tokens against this run (auth: oidc). */
  oidcAuth(env: NodeJS.ProcessEnv): RegistrationAuth;
  /** Exposes the local server publicly (tunnel: cloudflared); close() tears it down. */
  openTunnel(localUrl: string): Promise<{ url: string; close(): Promise<void> }>;
  /** Job summary, PR comment and check run; never throws for API errors. */
  publishReports(result: CoordinateResult, inputs: CoordinatorInputs): Promise<void>;
}

/**
 * The coordinator job: serve the test, make the server reachable (a tunnel,
 * or the given coordinator-url), tell agents where it is (rendezvous
 * artifact), drive the run, then publish the verdict where GitHub users look.
 */
export async function runCoordinatorRole(
  inputs: CoordinatorInputs,
  ctx: RoleContext,
  services: CoordinatorServices,
): Promise<void> {
  const summaryJson = join(
    ctx.env.RUNNER_TEMP ?? ctx.workDir,
    `k6-distributed-${inputs.testName}.json`,
  );
  const tunnels: Array<{ close(): Promise<void> }> = [];
  try {
    const result = await coordinate({
      k6: ctx.k6,
      script: inputs.script,
      flags: [...inputs.flags, `--summary-mode=${inputs.summaryMode}`],
      agents: inputs.agents,
      listen: listenAddress(inputs),
      // The tunnel is then the only way in: the server listens on loopback.
      behindCloudflare: inputs.coordinatorUrl === undefined && inputs.tunnel === 'cloudflared',
      auth: inputs.auth === 'secret' ? secretAuth(inputs.secret ?? '') : services.oidcAuth(ctx.env),
      workDir: ctx.workDir,
      joinTimeoutMs: inputs.joinTimeoutMs,
      onAgentLoss: inputs.onAgentLoss,
      env: ctx.env,
      cwd: ctx.env.GITHUB_WORKSPACE,
      log: ctx.log,
      signal: ctx.signal,
      output: {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
        isTTY: false,
      },
      summaryJson,
      onListening: async (localUrl) => {
        const url = await publicUrl(inputs, localUrl, services, tunnels);
        if (inputs.coordinatorUrl === undefined) {
          const name = rendezvousName(inputs.testName, ctx.env.GITHUB_RUN_ATTEMPT ?? '1');
          await publishCoordinatorUrl({ url, name });
          ctx.log.info(`published the coordinator URL ${url} as artifact "${name}"`);
        }
      },
    });
    core.setOutput(OUTPUTS.result, verdictOf(result));
    core.setOutput(OUTPUTS.exitCode, String(result.exitCode));
    core.setOutput(OUTPUTS.summaryJson, summaryJson);
    await services.publishReports(result, inputs);
    if (result.exitCode !== 0) {
      core.setFailed(`k6 exit code ${String(result.exitCode)}: ${result.message}`);
    }
  } finally {
    for (const tunnel of tunnels) await tunnel.close();
  }
}

/**
 * Where the server listens: on the coordinator-url's port (on loopback when
 * that URL is a loopback one, else on every interface), or on loopback for
 * the tunnel.
 */
function listenAddress(inputs: CoordinatorInputs): string {
  if (inputs.coordinatorUrl === undefined) return '127.0.0.1:0';
  const url = new URL(inputs.coordinatorUrl);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${isLoopbackHost(url.hostname) ? '127.0.0.1' : '0.0.0.0'}:${port}`;
}

async function publicUrl(
  inputs: CoordinatorInputs,
  localUrl: string,
  services: CoordinatorServices,
  tunnels: Array<{ close(): Promise<void> }>,
): Promise<string> {
  if (inputs.coordinatorUrl !== undefined) return inputs.coordinatorUrl;
  if (inputs.tunnel === 'none') return localUrl;
  const tunnel = await services.openTunnel(localUrl);
  tunnels.push(tunnel);
  return tunnel.url;
}
