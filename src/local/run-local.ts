import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { Agent, type AgentResult } from '../agent/agent.js';
import { CoordinatorClient } from '../agent/client.js';
import { coordinate, type CoordinateOptions, type CoordinateResult } from '../coordinator/run.js';
import { MAX_LISTED_AGENTS } from '../defaults.js';
import { type Logger, logK6, quietLogger } from '../runtime/logger.js';

export interface LocalRunOptions extends Omit<
  CoordinateOptions,
  'listen' | 'secret' | 'onListening'
> {
  /** Per-agent weights; default equal. */
  weights?: readonly string[];
  /** The URL agents use for the coordinator's (tests route it through a fault proxy). */
  agentUrl?: (coordinatorUrl: string) => Promise<string>;
  /** Agents stop their k6 after failing to reach the coordinator this long (default 10 s). */
  agentGiveUpAfterMs?: number;
  /** Agents wait this long for the coordinator to acknowledge their k6's exit (default 15 s). */
  agentReleasedAckWaitMs?: number;
}

export interface LocalRunResult extends CoordinateResult {
  agentResults: AgentResult[];
}

/**
 * The embedded default: one coordinator on loopback and N agents in this
 * process, each driving its own k6 child, talking real protocol v1 over
 * HTTP exactly as remote agents do (with a random per-run secret).
 */
export async function runLocal(options: LocalRunOptions): Promise<LocalRunResult> {
  const secret = randomBytes(24).toString('base64url');
  let agentRuns: Promise<AgentResult[]> = Promise.resolve([]);
  const result = await coordinate({
    ...options,
    secret,
    listen: '127.0.0.1:0',
    agentsShareMachine: true,
    onListening: async (coordinatorUrl) => {
      const url = options.agentUrl ? await options.agentUrl(coordinatorUrl) : coordinatorUrl;
      // One after another, so the coordinator numbers local-N as agent N.
      let registered = Promise.resolve();
      agentRuns = Promise.all(
        Array.from({ length: options.agents }, (_, i) => {
          const turn = registered;
          let next = () => {};
          registered = new Promise((resolve) => (next = resolve));
          return runAgent(options, { url, secret, index: i, turn, registered: next }).finally(next);
        }),
      );
    },
  });
  return { ...result, agentResults: await agentRuns };
}

interface LocalAgentSlot {
  url: string;
  secret: string;
  index: number;
  /** Settles when the agent before this one has registered (or ended). */
  turn: Promise<void>;
  /** Lets the next agent register. */
  registered: () => void;
}

async function runAgent(
  options: LocalRunOptions,
  { url, secret, index, turn, registered }: LocalAgentSlot,
): Promise<AgentResult> {
  const name = `local-${String(index + 1)}`;
  // Many agents on one terminal: their joins and releases at debug (issue 20.6); k6's lines stay.
  const own = prefixed(options.log, `[${name}] `);
  const log = options.agents > MAX_LISTED_AGENTS ? quietLogger(own, 'debug') : own;
  const workDir = join(options.workDir, name);
  await mkdir(workDir, { recursive: true });
  const client = new CoordinatorClient({
    url,
    secret,
    log,
    giveUpAfterMs: options.agentGiveUpAfterMs ?? 10_000,
  });
  try {
    const agent = new Agent({
      client,
      k6: options.k6,
      workDir,
      name,
      weight: options.weights?.[index] ?? '1',
      env: options.env,
      k6OnMachine: options.agents,
      log,
      onRegistered: registered,
      releasedAckWaitMs: options.agentReleasedAckWaitMs,
      outputFilesAnywhere: true,
    });
    await turn;
    // No signal here: a Ctrl+C goes to the coordinator, which stops every agent
    // the way k6 stops (teardown once, then exit 105).
    const result = await agent.run();
    if (result.exitCode !== 0) log.error(`agent ended: ${result.message}`);
    return result;
  } finally {
    await client.close();
  }
}

export function prefixed(log: Logger, prefix: string): Logger {
  return {
    debug: (m) => log.debug(prefix + m),
    info: (m) => log.info(prefix + m),
    warning: (m) => log.warning(prefix + m),
    error: (m) => log.error(prefix + m),
    k6: (m) => logK6(log, prefix + m),
  };
}
