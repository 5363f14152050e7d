/**
 * A distributed run the way it runs across machines: one `k6-distributed
 * coordinator` process and N `k6-distributed agent` processes (each with its
 * own k6), all from the shipped CLI bundle.
 */
import { randomBytes } from 'node:crypto';

import type { BenchContext } from './context.js';
import { launch, type Exit, type Launched } from './proc.js';

export interface DistributedProcesses {
  coordinator: Launched;
  agents: Launched[];
  url: string;
  /** Every process's exit; the coordinator's first. */
  exited: Promise<Exit[]>;
}

/** A `k6-distributed coordinator` process, once it has printed its URL. */
export async function startCoordinator(
  ctx: BenchContext,
  o: { agents: number; k6Args: readonly string[]; coordinatorFlags?: readonly string[] },
): Promise<{ coordinator: Launched; url: string; secret: string }> {
  const secret = randomBytes(18).toString('base64url');
  let resolveUrl: (url: string) => void = () => undefined;
  const printed = new Promise<string>((resolve) => (resolveUrl = resolve));
  let buffered = '';
  const coordinator = launch(
    process.execPath,
    [
      // e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the coordinator.
      ...(process.env.BENCH_COORDINATOR_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ctx.cli,
      'coordinator',
      '--agents',
      String(o.agents),
      ...(o.coordinatorFlags ?? []),
      ...o.k6Args,
    ],
    {
      env: {
        ...ctx.env,
        K6_DISTRIBUTED_SECRET: secret,
      },
      onStdout: (chunk) => {
        buffered += chunk;
        const line = /^(http:\/\/\S+)\n/.exec(buffered)?.[1];
        if (line) resolveUrl(line);
      },
    },
  );
  const url = await Promise.race([
    printed,
    coordinator.exited.then((exit) => {
      throw new Error(
        `the coordinator exited ${String(exit.code)} before printing its URL:\n` +
          coordinator.stderr().slice(-4000),
      );
    }),
  ]);
  return { coordinator, url, secret };
}

export async function startDistributed(
  ctx: BenchContext,
  o: {
    agents: number;
    /** k6 run flags then the script. */
    k6Args: readonly string[];
    coordinatorFlags?: readonly string[];
    /** The URL agents get, e.g. a proxy in front of the coordinator. */
    agentUrl?: (url: string) => Promise<string>;
  },
): Promise<DistributedProcesses> {
  const { coordinator, url, secret } = await startCoordinator(ctx, o);
  const env = { ...ctx.env, K6_DISTRIBUTED_SECRET: secret };
  const agentUrl = o.agentUrl ? await o.agentUrl(url) : url;
  const agents = Array.from({ length: o.agents }, (_, i) =>
    launch(
      process.execPath,
      [ctx.cli, 'agent', '--coordinator', agentUrl, '--name', `bench-${String(i + 1)}`],
      { env },
    ),
  );
  return {
    coordinator,
    agents,
    url,
    exited: Promise.all([coordinator.exited, ...agents.map((a) => a.exited)]),
  };
}
