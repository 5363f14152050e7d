import { K6DistributedError } from '../errors.js';
import { freeLoopbackAddress } from '../k6/address.js';
import type { K6Binary } from '../k6/binary.js';
import { K6_EXIT_CODES } from '../k6/exit-codes.js';
import { K6Process, type K6ProcessExit } from '../k6/process.js';
import { agentTagArgs } from '../k6/outputs.js';
import { agentK6Environment } from '../k6/test-env.js';
import { isReadyToStart, K6RestClient } from '../k6/rest-client.js';
import type { Assignment, MetricTransport } from '../protocol/messages.js';
import type { Logger } from '../runtime/logger.js';

/** What an agent's k6 run gets besides its assignment. */
export interface AgentK6Inputs {
  assignment: Assignment;
  /** k6's REST API address, on loopback. */
  address: string;
  archive: string;
  /** This agent's own `-e KEY=VALUE` values, over the test's environment. */
  envOverrides?: Record<string, string>;
  /** --secret-source flags (k6/secret-sources.ts). */
  secretSourceFlags?: readonly string[];
  /** Default `json`. */
  transport?: MetricTransport;
}

/**
 * The k6 run flags of an agent (design.md §3): paused until the coordinator
 * says go, driven over its REST API on loopback, no setup()/teardown()/
 * thresholds/summary of its own, and alive after the run (--linger) so
 * teardown() can run on the leader once everyone is done.
 *
 * With the user's outputs (`--out`, issue 20.8) every sample is tagged with
 * the agent: k6's CLI tags replace `options.tags` and the archived `--tag`s
 * instead of adding to them, so the test's own tags are given again with it.
 */
export function agentK6Args(inputs: AgentK6Inputs): string[] {
  const { assignment } = inputs;
  return [
    'run',
    '--paused',
    '--address',
    inputs.address,
    '--no-setup',
    '--no-teardown',
    '--linger',
    '--no-thresholds',
    '--summary-mode=disabled',
    '--quiet',
    // The metric stream the agent aggregates (design.md §5): k6's cloud output
    // into the agent's loopback ingest (k6 aggregates in-process, issue 18), or
    // stdout, the cheapest JSON transport measured (BENCHMARKS.md); stdout
    // carries nothing else under --quiet with the summary off.
    '--out',
    inputs.transport === 'cloud' ? 'cloud' : 'json=-',
    ...(assignment.outputs?.out ?? []).flatMap((output) => ['--out', output]),
    ...agentTagArgs(assignment.outputs?.tags ?? {}),
    // console.log() lines to the user's file, as `k6 run --console-output` (not archived).
    ...(assignment.consoleOutput === undefined
      ? []
      : ['--console-output', assignment.consoleOutput]),
    // K6_LOG_OUTPUT=stdout in the environment would mix logs into the stream.
    '--log-output=stderr',
    '--execution-segment',
    assignment.segment,
    '--execution-segment-sequence',
    assignment.sequence,
    // __ENV is the coordinator's (archived, k6/test-env.ts), never this
    // machine's: `k6 run archive.tar` would otherwise lay this machine's whole
    // environment over it. Only the agent's own -e values override it.
    '--include-system-env-vars=false',
    ...Object.entries(inputs.envOverrides ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    ...(inputs.secretSourceFlags ?? []),
    inputs.archive,
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
  envOverrides?: Record<string, string>;
  secretSourceFlags?: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Go runtime settings (GOGC, GOMEMLIMIT; go-memory.ts), over the machine's environment. */
  goMemoryEnv?: Record<string, string>;
  /** Settings of the coordinator's secret sources (K6_SECRET_SOURCE_URL_*), over this machine's. */
  secretSourceEnv?: Record<string, string>;
  transport?: MetricTransport;
  /** The cloud output's settings (CloudIngest.k6Environment), over everything else. */
  transportEnv?: Record<string, string>;
  log: Logger;
  /** Receives each line of k6's JSON metric stream. */
  onMetricLine: (line: string) => void;
  /** Receives each line of k6's log (stderr); default: logged as `[k6] line`. */
  onLogLine?: (line: string) => void;
  readyTimeoutMs?: number;
}): Promise<ReadyK6> {
  for (let attempt = 1; ; attempt++) {
    const address = await freeLoopbackAddress();
    const proc = await K6Process.start(options.k6.path, {
      args: agentK6Args({ ...options, address }),
      env: {
        ...agentK6Environment(options.env),
        ...options.goMemoryEnv,
        ...options.secretSourceEnv,
        // The user's outputs' settings (issue 20.8; only theirs, agent.ts checks), over the above.
        ...options.assignment.outputs?.env,
        K6_NO_COLOR: 'true',
        ...options.transportEnv,
      },
      onStdoutLine: options.onMetricLine,
      onStderrLine: options.onLogLine ?? ((line) => options.log.info(`[k6] ${line}`)),
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
      if (exit.code === K6_EXIT_CODES['script-exception']) {
        // The script's init code threw in one of this share's VUs: k6 logged why.
        throw new K6DistributedError(
          'K6_INIT_FAILED',
          `k6 could not initialise its VUs: ${exit.outcome.description} (exit code ` +
            `${String(exit.outcome.exitCode)})`,
          { cause: error, data: { exit } },
        );
      }
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
