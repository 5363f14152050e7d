import { K6DistributedError } from '../errors.js';
import { freeLoopbackAddress } from '../k6/address.js';
import type { K6Binary } from '../k6/binary.js';
import { K6_EXIT_CODES } from '../k6/exit-codes.js';
import { K6Process, type K6ProcessExit } from '../k6/process.js';
import { isReadyToStart, K6RestClient } from '../k6/rest-client.js';
import type { Assignment } from '../protocol/messages.js';
import type { Logger } from '../runtime/logger.js';

/**
 * The k6 run flags of an agent (design.md §3): paused until the coordinator
 * says go, driven over its REST API on loopback, no setup()/teardown()/
 * thresholds/summary of its own, and alive after the run (--linger) so
 * teardown() can run on the leader once everyone is done.
 */
export function agentK6Args(assignment: Assignment, address: string, archive: string): string[] {
  return [
    'run',
    '--paused',
    '--address',
    address,
    '--no-setup',
    '--no-teardown',
    '--linger',
    '--no-thresholds',
    '--summary-mode=disabled',
    '--quiet',
    // The metric stream the agent aggregates (design.md §5): stdout, the cheapest
    // live transport measured (BENCHMARKS.md); it carries nothing else under
    // --quiet with the summary off.
    '--out',
    'json=-',
    // K6_LOG_OUTPUT=stdout in the environment would mix logs into the stream.
    '--log-output=stderr',
    '--execution-segment',
    assignment.segment,
    '--execution-segment-sequence',
    assignment.sequence,
    '--tag',
    `instance_id=${String(assignment.instanceId)}`,
    archive,
  ];
}

/** A k6 paused with every VU initialised, and the client for its REST API. */
export interface ReadyK6 {
  proc: K6Process;
  api: K6RestClient;
  vusMax: number;
}

/** Another process can take the free port before k6 binds it; k6 then exits 106. */
const PORT_ATTEMPTS = 3;

/**
 * Starts k6 for this agent's share and waits until it is paused at status 4.
 * Retries on a fresh port when k6 cannot bind its REST API (exit 106).
 */
export async function startAgentK6(options: {
  k6: K6Binary;
  assignment: Assignment;
  archive: string;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** Receives each line of k6's JSON metric stream. */
  onMetricLine: (line: string) => void;
  readyTimeoutMs?: number;
}): Promise<ReadyK6> {
  for (let attempt = 1; ; attempt++) {
    const address = await freeLoopbackAddress();
    const proc = await K6Process.start(options.k6.path, {
      args: agentK6Args(options.assignment, address, options.archive),
      env: { ...(options.env ?? process.env), K6_NO_COLOR: 'true' },
      onStdoutLine: options.onMetricLine,
      onStderrLine: (line) => options.log.info(`[k6] ${line}`),
    });
    const api = new K6RestClient(address);
    try {
      const status = await api.waitForStatus(isReadyToStart, {
        signal: proc.exitSignal,
        timeoutMs: options.readyTimeoutMs ?? 600_000,
      });
      return { proc, api, vusMax: status.vusMax };
    } catch (error) {
      await api.close();
      const exit = await stopNow(proc);
      const portTaken = exit.code === K6_EXIT_CODES['cannot-start-rest-api'];
      if (portTaken && attempt < PORT_ATTEMPTS) continue;
      throw new K6DistributedError(
        'AGENT_FAILED',
        `k6 did not get ready (${exit.outcome.description}, exit code ` +
          `${String(exit.outcome.exitCode)}); its output is above`,
        { cause: error, data: { exitCode: exit.outcome.exitCode } },
      );
    }
  }
}

async function stopNow(proc: K6Process): Promise<K6ProcessExit> {
  return proc.exit ?? proc.stop({ signal: 'SIGKILL', graceMs: 0 });
}
