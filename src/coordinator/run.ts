import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';

import { prepareTest, type PreparedTest } from '../k6/archive.js';
import type { K6Binary } from '../k6/binary.js';
import { METRIC_TRANSPORT } from '../defaults.js';
import { errorMessage } from '../errors.js';
import { K6_EXIT_CODES } from '../k6/exit-codes.js';
import { parseRunFlags, type RunFlags } from '../k6/run-flags.js';
import { secretSourcesForAgents } from '../k6/secret-sources.js';
import { segmentsForWeights } from '../k6/segments.js';
import { distributedPreamble, k6Preamble } from '../k6/preamble.js';
import {
  consoleOutputForAgents,
  outputsForAgents,
  outputsText,
  planOutputs,
} from '../k6/outputs.js';
import { renderLivePage } from '../report/html.js';
import { testEnvironment } from '../k6/test-env.js';
import { thresholdMetrics } from '../k6/threshold-metrics.js';
import { type ScriptScan, scanScript } from '../k6/script-scan.js';
import { BUILTIN_METRIC_NAMES } from '../metrics/builtin.js';
import type { Timeline } from '../metrics/timeline.js';
import type { MetricInfo } from '../metrics/types.js';
import { LoadMonitor } from '../runtime/machine-load.js';
import type { Logger } from '../runtime/logger.js';
import { releaseFiles, reserveFiles } from '../runtime/reserved-file.js';
import type { SummarySource } from '../summary/source.js';
import { type RegistrationAuth, secretAuth } from './auth.js';
import { Coordinator, type CoordinatorOptions, DEFAULT_START_LEAD_MS } from './coordinator.js';
import { dashboardSettings, type DashboardSettings, LiveDashboard } from './live-dashboard.js';
import { DEFAULT_DEADLINE_GRACE_MS, runDeadlineMs } from './deadline.js';
import { endOfTest } from './end-of-test.js';
import { markOutliers } from './outliers.js';
import type { RunOutcome } from './outcome.js';
import { idleAgentsWarning } from './idle-agents.js';
import { CoordinatorMetrics } from './run-metrics.js';
import { CoordinatorServer, type ServerOptions } from './server.js';
import { chooseTransport } from './transport.js';
import type { MetricTransport } from '../protocol/messages.js';

export interface CoordinateOptions {
  k6: K6Binary;
  /** Reads this machine's load during the test (default: the process's shared monitor). */
  load?: LoadMonitor;
  /** Every agent runs on this machine (`run`): a saturation warning's fix says so. */
  agentsShareMachine?: boolean;
  script: string;
  /**
   * `k6 run` flags: options (-e, --vus, --duration, --tag, --config, ...) are
   * archived with the script; summary and threshold flags apply to the merged run.
   */
  flags: readonly string[];
  agents: number;
  /** host:port to listen on; defaults to 127.0.0.1:0. */
  listen?: string;
  /** Reached only through a cloudflared tunnel (trust its client-address header). */
  behindCloudflare?: boolean;
  /** A shared secret agents register with (shorthand for `auth: secretAuth(secret)`). */
  secret?: string;
  /** Who may register (e.g. GitHub OIDC); overrides `secret`. */
  auth?: RegistrationAuth;
  workDir: string;
  joinTimeoutMs?: number;
  pollHoldMs?: number;
  livenessTimeoutMs?: number;
  startLeadMs?: number;
  onAgentLoss?: 'abort' | 'continue';
  /**
   * Added to the test's own longest duration for the run's deadline
   * (./deadline.ts), and waited again before agents that still have not
   * finished are dropped. Default 60 s.
   */
  deadlineGraceMs?: number;
  env: NodeJS.ProcessEnv;
  cwd?: string;
  log: Logger;
  /** Called once the server listens, with the URL agents should use. */
  onListening?: (url: string) => void | Promise<void>;
  /** Aborting it (SIGINT/SIGTERM) stops the run as k6 would: teardown once, exit 105. */
  signal?: AbortSignal;
  /** How often agents send metric deltas (default: metricsIntervalFor(agents)). */
  metricsIntervalMs?: number;
  thresholdIntervalMs?: number;
  /** How often a progress line is logged during the run (default 5 s; 0: never). */
  progressIntervalMs?: number;
  /** The coordinator's clock (epoch ms); another machine's in tests of clock skew. */
  now?: () => number;
  /** Where the end-of-test summary goes; without it none is produced. */
  output?: {
    stdout: (text: string | Buffer) => void;
    stderr: (text: string | Buffer) => void;
    isTTY: boolean;
    /**
     * Frames the end-of-test output (k6's summary, handleSummary()'s output),
     * which prints names from the script and the agents: the action stops
     * GitHub's workflow commands there (issue 17.9).
     */
    around?: <T>(print: () => Promise<T>) => Promise<T>;
  };
  /** --summary-json: write the machine-readable merged result here. */
  summaryJson?: string;
  /** Keep setup()'s data in that file (off: it often carries secrets). */
  summaryJsonSetupData?: boolean;
  /** The HTTP server's limits on connections and bodies (tests lower them). */
  serverLimits?: Pick<
    ServerOptions,
    'connections' | 'bodiesPerAgent' | 'routeMaxBytes' | 'headersTimeoutMs' | 'requestTimeoutMs'
  >;
  /** How agents get their k6's samples (default cloud, k6's own aggregation; issue 18). */
  transport?: MetricTransport;
}

/**
 * How often agents send deltas: every second, every 2 s above 128 agents
 * (the coordinator's CPU is per delta: BENCHMARKS.md, coordinator scale).
 */
export function metricsIntervalFor(agents: number): number {
  return agents > 128 ? 2_000 : 1_000;
}

export interface CoordinateResult extends RunOutcome {
  test: PreparedTest;
  /** What the summary was rendered from. */
  summary: SummarySource;
  /** The run over time, merged and per agent. */
  timeline: Timeline;
}

/**
 * A whole coordinator: validates and archives the test with k6 (an invalid
 * test throws K6_TEST_INVALID with k6's exit code before anyone gets work),
 * serves protocol v1, drives the run and resolves with its result.
 */
export async function coordinate(options: CoordinateOptions): Promise<CoordinateResult> {
  const { flags, test, secretSources, scan, warnings, agentOutputs, consoleOutput, dashboard } =
    await checkTest(options);
  for (const warning of warnings) options.log.warning(warning);
  const [metrics, preamble] = await Promise.all([
    runMetrics(options, test, flags, scan),
    readPreamble(options, test, flags),
  ]);
  const coordinator = await newCoordinator(options, test, metrics, {
    secretSources,
    agentOutputs,
    consoleOutput,
  });
  // Before any connection can take the descriptors they need (issue 17.7).
  const files = options.output
    ? await reserveFiles({
        summaryJson: outputPath(options, options.summaryJson),
        summaryExport: outputPath(options, flags.summaryExport),
      })
    : {};
  const server = await CoordinatorServer.listen({
    coordinator,
    archivePath: test.archivePath,
    auth: options.auth ?? (options.secret === undefined ? undefined : secretAuth(options.secret)),
    listen: options.listen ?? '127.0.0.1:0',
    behindCloudflare: options.behindCloudflare,
    log: options.log,
    ...options.serverLimits,
  }).catch(async (error: unknown) => {
    await releaseFiles(files);
    throw error;
  });
  const onAbort = () =>
    coordinator.abort({
      exitCode: K6_EXIT_CODES['external-abort'],
      message: 'the coordinator was interrupted (signal); stopping every agent',
    });
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  let live: LiveDashboard | undefined;
  try {
    options.log.info(
      `coordinator listening on ${server.url}, waiting for ${String(options.agents)} agents`,
    );
    live = dashboard && (await startLivePage(options, dashboard, metrics, coordinator));
    await options.onListening?.(server.url);
    await printPreamble(options, live ? withDashboardLine(preamble, live.url) : preamble);
    // Without k6's plan to print it in (it could not be read, or -q), the address still shows.
    if (live && (preamble === undefined || flags.quiet))
      options.log.info(`web dashboard: ${live.url}`);
    const result = await coordinator.result;
    return await endOfRun({ options, flags, test, metrics, coordinator, result, files });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    coordinator.close();
    await live?.close();
    await server.close();
    await releaseFiles(files);
  }
}

/**
 * The merged run's live page for K6_WEB_DASHBOARD (issue 20.8): the HTML
 * report's charts so far, reloaded every K6_WEB_DASHBOARD_PERIOD. Port -1:
 * none (k6's way to get only the export).
 */
async function startLivePage(
  options: CoordinateOptions,
  settings: DashboardSettings,
  metrics: CoordinatorMetrics,
  coordinator: Coordinator,
): Promise<LiveDashboard | undefined> {
  if (settings.port < 0) return undefined;
  const render = () => {
    const agents = coordinator.agents.map((a) => ({
      id: a.id,
      name: a.name,
      startedAt: a.event('started')?.at,
    }));
    const joined = `${String(agents.length)} of ${String(options.agents)} agents`;
    return renderLivePage({
      title: options.script,
      timeline: metrics.timeline.started ? metrics.timeline.snapshot() : undefined,
      agents,
      status: `${coordinator.phase} · ${joined} · test run ${(coordinator.runDurationMs / 1000).toFixed(1)} s`,
      refreshS: settings.periodMs / 1000,
      generatedAt: new Date(),
    });
  };
  return LiveDashboard.start({
    host: settings.host,
    port: settings.port,
    render,
    log: options.log,
  });
}

/** k6's preamble line for its dashboard, after the script's. */
function withDashboardLine(preamble: string | undefined, url: string): string | undefined {
  return preamble?.replace(/(\n {8}script: [^\n]*\n)/, `$1 web dashboard: ${url}\n`);
}

/** A test checked without load (issue 20.4, the action's `verify-only`). */
export interface VerifiedTest {
  test: PreparedTest;
  /** k6's execution plan, as the run would print it; undefined when k6 gave none. */
  plan: string | undefined;
  /** What the run would warn about before any load (__VU across agents, agents without work). */
  warnings: string[];
}

/**
 * Everything a run checks before any agent gets work, and no more: k6
 * archives and inspects the test (an invalid one throws K6_TEST_INVALID with
 * k6's exit code, as a run would), the secret sources and the script scan,
 * k6's execution plan, and the warnings for `options.agents` equal agents.
 */
export async function verifyTest(options: CoordinateOptions): Promise<VerifiedTest> {
  const { flags, test, warnings } = await checkTest(options);
  const segments = segmentsForWeights(Array.from({ length: options.agents }, () => '1'));
  const labels = segments.map((_, i) => `agent ${String(i + 1)}`);
  const idle = idleAgentsWarning(test.options.scenarios, segments, labels);
  if (idle !== undefined) warnings.push(idle);
  const plan = await readPreamble({ ...options, output: options.output ?? NO_OUTPUT }, test, flags);
  return { test, plan, warnings };
}

/** Output that goes nowhere: verifyTest reads the plan even for a caller that prints nothing. */
const NO_OUTPUT = { stdout: () => undefined, stderr: () => undefined, isTTY: false };

/**
 * What a run and verify-only both check before any agent gets work: the
 * flags, k6's archive and inspection of the test (K6_TEST_INVALID with k6's
 * exit code), the secret sources for agents, the script scan, and the
 * warnings so far (__VU across agents: k6 cannot number VUs across
 * instances), and k6's web dashboard settings for the live page.
 */
async function checkTest(options: CoordinateOptions) {
  const flags = parseRunFlags(options.flags, options.env);
  const remoteFiles = options.agentsShareMachine !== true;
  const outputs = planOutputs(flags.outputs, { env: options.env, remoteFiles });
  const consoleOutput = consoleOutputForAgents(flags.consoleOutput, {
    cwd: options.cwd ?? '.',
    remoteFiles,
  });
  const test = await archiveTest(options, flags);
  const secretSources = await secretSourcesForAgents(flags.secretSources, {
    cwd: options.cwd,
    env: options.env,
  });
  const scan = await scanScript(test.archivePath, {
    entry: options.script,
    builtins: BUILTIN_METRIC_NAMES,
  });
  const warnings = options.agents > 1 && scan.vuWarning ? [scan.vuWarning] : [];
  const dashboard = dashboardSettings(options.env, flags.outputs);
  const agentOutputs = outputsForAgents(outputs, test.options.tags, options.env);
  return { flags, test, secretSources, scan, warnings, agentOutputs, consoleOutput, dashboard };
}

/**
 * Validates and archives the test with k6. `k6 run` reads the environment
 * into __ENV by default, `k6 archive` does not: say which one explicitly, so
 * the archive (options included) holds what `k6 run` would see here
 * (k6/test-env.ts).
 */
function archiveTest(options: CoordinateOptions, flags: RunFlags): Promise<PreparedTest> {
  return prepareTest({
    k6: options.k6,
    script: options.script,
    flags: [
      `--include-system-env-vars=${String(flags.includeSystemEnvVars)}`,
      ...flags.archiveFlags,
    ],
    outDir: options.workDir,
    env: testEnvironment(options.env),
    cwd: options.cwd,
  });
}

/**
 * k6's execution plan for the whole test, as `k6 run` prints it before the
 * run (issue 20.5): read while the test is prepared, printed once the
 * coordinator has said its URL (the `coordinator` command's first line).
 * Not under -q, and never a reason to fail.
 */
async function readPreamble(
  options: CoordinateOptions,
  test: PreparedTest,
  flags: RunFlags,
): Promise<string | undefined> {
  if (!options.output || flags.quiet) return undefined;
  try {
    const lines = await k6Preamble({
      k6: options.k6,
      archivePath: test.archivePath,
      env: testEnvironment(options.env),
      cwd: options.cwd,
    });
    return (
      lines &&
      distributedPreamble(lines, {
        script: options.script,
        agents: options.agents,
        outputs: outputsText(flags.outputs, options.env),
      })
    );
  } catch (error) {
    options.log.debug(`could not read k6's execution plan: ${errorMessage(error)}`);
    return undefined;
  }
}

async function printPreamble(options: CoordinateOptions, text: string | undefined): Promise<void> {
  const output = options.output;
  if (!output || text === undefined) return;
  const print = () => {
    output.stdout(text);
    return Promise.resolve();
  };
  await (output.around ? output.around(print) : print());
}

/** The run's metrics: the transport agents use, and what the script's source tells about its metrics. */
async function runMetrics(
  options: CoordinateOptions,
  test: PreparedTest,
  flags: RunFlags,
  scan: ScriptScan,
): Promise<CoordinatorMetrics> {
  const transport = chooseTransport(options.transport ?? METRIC_TRANSPORT, test.options);
  if (transport.warning) options.log.warning(transport.warning);
  const cloud = transport.transport === 'cloud';
  return new CoordinatorMetrics({
    transport: transport.transport,
    declaredMetrics: cloud ? scan.timeMetrics : [],
    sourceOrder: cloud ? scan.sourceOrder : undefined,
    options: test.options,
    flags,
    now: options.now,
    writtenBuiltins: scan.builtinWrites,
    scriptMetrics: scan.metricTypes,
    intervalMs: options.metricsIntervalMs ?? metricsIntervalFor(options.agents),
    thresholdMetrics: flags.noThresholds ? [] : await learnThresholdMetrics(options, test),
  });
}

async function newCoordinator(
  options: CoordinateOptions,
  test: PreparedTest,
  metrics: CoordinatorMetrics,
  forAgents: Pick<CoordinatorOptions, 'secretSources' | 'agentOutputs' | 'consoleOutput'>,
): Promise<Coordinator> {
  return new Coordinator({
    now: options.now,
    metrics,
    thresholdIntervalMs: options.thresholdIntervalMs,
    progressIntervalMs: options.progressIntervalMs,
    load: options.load ?? LoadMonitor.shared,
    agentsShareMachine: options.agentsShareMachine,
    expectedAgents: options.agents,
    archive: await describeFile(test.archivePath),
    scenarios: test.options.scenarios,
    ...forAgents,
    noSetup: test.options.noSetup === true,
    noTeardown: test.options.noTeardown === true,
    joinTimeoutMs: options.joinTimeoutMs,
    pollHoldMs: options.pollHoldMs,
    livenessTimeoutMs: options.livenessTimeoutMs,
    startLeadMs: options.startLeadMs,
    onAgentLoss: options.onAgentLoss,
    deadlineMs: runDeadlineMs(test, {
      startLeadMs: options.startLeadMs ?? DEFAULT_START_LEAD_MS,
      graceMs: options.deadlineGraceMs ?? DEFAULT_DEADLINE_GRACE_MS,
    }),
    deadlineGraceMs: options.deadlineGraceMs ?? DEFAULT_DEADLINE_GRACE_MS,
    log: options.log,
  });
}

/** The finished run: per-agent totals and outliers, k6's summary and the result file, k6's last error. */
async function endOfRun(o: {
  options: CoordinateOptions;
  flags: RunFlags;
  test: PreparedTest;
  metrics: CoordinatorMetrics;
  coordinator: Coordinator;
  result: RunOutcome;
  files: Awaited<ReturnType<typeof reserveFiles>>;
}): Promise<CoordinateResult> {
  const { options, metrics, coordinator, result } = o;
  for (const agent of result.agents) agent.totals = metrics.store.agentTotals(agent.id);
  const records = new Map(coordinator.agents.map((a) => [a.id, a]));
  markOutliers(result.agents, (id) => records.get(id)?.event('ready')?.vusMax);
  warnNoIterations(result, options.log);
  const summary = metrics.summarySource({
    durationMs: coordinator.runDurationMs,
    setupData: coordinator.setupData,
    isStdOutTTY: options.output?.isTTY ?? false,
  });
  const timeline = metrics.timeline.snapshot(coordinator.runMs);
  const output = options.output;
  if (output) {
    const print = () =>
      endOfTest({
        timeline,
        k6: options.k6,
        script: options.script,
        flags: o.flags,
        source: summary,
        result,
        summaryJson: options.summaryJson,
        summaryJsonSetupData: options.summaryJsonSetupData,
        files: o.files,
        cwd: options.cwd,
        env: options.env,
        stdout: output.stdout,
        stderr: output.stderr,
        enableColors: output.isTTY && !o.flags.noColor,
        log: options.log,
      });
    await (output.around ? output.around(print) : print());
  }
  // After the summary, where `k6 run` logs the error it ends with.
  if (result.k6Error !== undefined) options.log.error(result.k6Error);
  return { ...result, test: o.test, summary, timeline };
}

function outputPath(options: CoordinateOptions, path: string | undefined): string | undefined {
  return path === undefined ? undefined : resolve(options.cwd ?? '.', path);
}

/**
 * The thresholds' custom metrics as k6 defines them; without them such a
 * metric that never gets a sample is missing from the summary and its
 * thresholds pass. A failure costs only that, so it is a warning.
 */
async function learnThresholdMetrics(
  options: CoordinateOptions,
  test: PreparedTest,
): Promise<MetricInfo[]> {
  try {
    return await thresholdMetrics({
      k6: options.k6,
      archivePath: test.archivePath,
      thresholdKeys: Object.keys(test.options.thresholds ?? {}),
      env: options.env,
      cwd: options.cwd,
    });
  } catch (error) {
    options.log.warning(
      `could not read the thresholds' custom metric types from k6 (${errorMessage(error)}); ` +
        'a threshold on a custom metric that gets no sample will pass, and the metric ' +
        'will be missing from the summary',
    );
    return [];
  }
}

/** k6's warning when no iteration completed, judged on the whole run (internal/cmd/run.go). */
function warnNoIterations(result: RunOutcome, log: Logger): void {
  if (result.aborted || !ENDED_ON_ITS_OWN.has(result.exitCode)) return;
  const iterations = result.agents.reduce((n, a) => n + (a.totals?.iterations ?? 0), 0);
  if (iterations > 0) return;
  log.warning('No script iterations fully finished, consider making the test duration longer');
}

/** The exit codes of a run k6 saw through to its end without an error of the run itself. */
const ENDED_ON_ITS_OWN = new Set<number>([
  K6_EXIT_CODES.success,
  K6_EXIT_CODES['thresholds-failed'],
  K6_EXIT_CODES['marked-as-failed'],
]);

async function describeFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { sha256: hash.digest('hex'), bytes: (await stat(path)).size };
}
