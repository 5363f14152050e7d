import { readFile } from 'node:fs/promises';

import { type Command, Option } from 'commander';

import {
  afterRun,
  printRunReport,
  releaseHtmlReport,
  reserveHtmlReport,
} from '../after-run/after-run.js';
import { dashboardExport } from '../coordinator/live-dashboard.js';
import { baselineFileSchema } from '../coordinator/result-file.js';
import type { KeyFigures } from '../metrics/key-figures.js';
import { coordinate, type CoordinateOptions, type CoordinateResult } from '../coordinator/run.js';
import { splitHostPort } from '../coordinator/server.js';
import { defaultLabel, JOIN_TIMEOUT_MS, METRIC_TRANSPORT, POLL_HOLD_MS } from '../defaults.js';
import { errorMessage, K6DistributedError } from '../errors.js';
import { provisionK6 } from '../k6/provision.js';
import { k6FlagsAndScript } from '../k6/run-args.js';
import { parseRunFlags } from '../k6/run-flags.js';
import { runLocal } from '../local/run-local.js';
import { METRIC_TRANSPORTS, type MetricTransport } from '../protocol/messages.js';
import {
  describeFailures,
  type RegressionLimits,
  renderComparisonText,
} from '../report/compare.js';
import { quietLogger } from '../runtime/logger.js';
import { isLoopbackHost } from '../runtime/net.js';
import { type CliIo, type CommandContext, withWorkDir } from './io.js';
import {
  agentLossPolicy,
  durationMs,
  positiveInt,
  regressionLimits,
  SECRET_ENV,
} from './options.js';

interface CoordinatorFlags {
  agents: number;
  summaryJson?: string;
  includeSetupData?: boolean;
  reportHtml?: string;
  baseline?: string;
  failOnRegression?: RegressionLimits;
  joinTimeout: number;
  onAgentLoss: 'abort' | 'continue';
  pollHold: number;
  startLead: number;
  transport: MetricTransport;
}

function coordinatorOptions(command: Command): Command {
  const runOptions = command
    .addOption(
      new Option('--join-timeout <duration>', 'how long to wait for every agent to join')
        .argParser(durationMs)
        .default(JOIN_TIMEOUT_MS, defaultLabel(JOIN_TIMEOUT_MS)),
    )
    .addOption(
      new Option('--on-agent-loss <policy>', 'abort the run when an agent is lost, or continue')
        .argParser(agentLossPolicy)
        .default('abort'),
    )
    .addOption(
      new Option('--poll-hold <duration>', 'longest a long-poll is held')
        .argParser(durationMs)
        .default(POLL_HOLD_MS, defaultLabel(POLL_HOLD_MS))
        .hideHelp(),
    )
    .addOption(
      new Option(
        '--transport <kind>',
        "how agents get their k6's metrics: cloud (k6 aggregates in-process) or json (every sample)",
      )
        .choices(METRIC_TRANSPORTS)
        .env('K6_DISTRIBUTED_TRANSPORT')
        .default(METRIC_TRANSPORT),
    )
    .addOption(
      new Option('--start-lead <duration>', 'how far ahead the common start is announced')
        .argParser(durationMs)
        .default(1_000, '1s')
        .hideHelp(),
    );
  return resultOptions(runOptions)
    .allowUnknownOption()
    .argument(
      '[k6-args...]',
      'the script and `k6 run` flags (-e, --vus, --duration, --tag, ...), in any order',
    );
}

/** Where the run's result goes and what it is compared with. */
function resultOptions(command: Command): Command {
  return command
    .option(
      '--summary-json <file>',
      'write the merged result (verdict, agents, time series, summary data) as JSON',
    )
    .option(
      '--include-setup-data',
      "keep setup()'s data in the --summary-json file (left out by default: it often holds secrets)",
    )
    .option(
      '--report-html <file>',
      'write a self-contained HTML report: charts over time, thresholds, checks, groups, metrics, agents',
    )
    .option(
      '--baseline <file>',
      "compare p(95), error rate and request rate with an earlier run's --summary-json",
    )
    .addOption(
      new Option(
        '--fail-on-regression <limits>',
        'with --baseline: exit 99 when worse than e.g. "p95=10%,error-rate=1%,request-rate=15%"',
      ).argParser(regressionLimits),
    );
}

/**
 * --baseline: the figures of an earlier run's merged result file, read and
 * checked before any load is made.
 */
async function readBaseline(flags: CoordinatorFlags): Promise<KeyFigures | undefined> {
  const file = flags.baseline;
  if (file === undefined) {
    if (flags.failOnRegression === undefined) return undefined;
    throw new K6DistributedError(
      'INVALID_OPTION',
      '--fail-on-regression needs --baseline FILE: the merged result an earlier run wrote ' +
        'with --summary-json',
    );
  }
  const fix =
    "give the file an earlier run wrote with --summary-json (or the action's result.json)";
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new K6DistributedError(
      'INVALID_OPTION',
      `--baseline ${file}: cannot read it (${errorMessage(error)}); ${fix}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new K6DistributedError('INVALID_OPTION', `--baseline ${file} is not JSON; ${fix}`);
  }
  const parsed = baselineFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new K6DistributedError(
      'INVALID_OPTION',
      `--baseline ${file} is not a k6-distributed result with figures to compare; ${fix}`,
    );
  }
  return parsed.data.figures;
}

/** The end-of-test summary goes to stdout, as k6's does. */
function summaryOutput(io: CliIo, flags: CoordinatorFlags) {
  return {
    summaryJson: flags.summaryJson,
    summaryJsonSetupData: flags.includeSetupData === true,
    output: {
      stdout: (text: string | Buffer) => void io.stdout.write(text),
      stderr: (text: string | Buffer) => void io.stderr.write(text),
      isTTY: io.stdout.isTTY === true,
    },
  };
}

/** `run`: a local coordinator and N local agents, each its own k6. */
export function addRunCommand(program: Command, ctx: CommandContext): void {
  coordinatorOptions(
    program
      .command('run')
      .description('run a test on a local coordinator and N local agents (each its own k6)')
      .addOption(new Option('--agents <n>', 'number of agents').argParser(positiveInt).default(2)),
  ).action(async (args: string[], flags: CoordinatorFlags) => {
    const { flags: k6Flags, script } = k6FlagsAndScript(args);
    await distributedRun(ctx, flags, { script, k6Flags }, (settings) =>
      runLocal({ ...settings, flags: k6Flags }),
    );
  });
}

/** `coordinator`: serve a test to remote agents and drive the run. */
export function addCoordinatorCommand(program: Command, ctx: CommandContext): void {
  const { io } = ctx;
  coordinatorOptions(
    program
      .command('coordinator')
      .description('serve a test to remote agents and drive the run; prints its URL first')
      .requiredOption('--agents <n>', 'number of agents to wait for', positiveInt)
      .option('--listen <host:port>', 'address to listen on', '127.0.0.1:0')
      .option('--secret <secret>', `shared secret agents must present (or ${SECRET_ENV})`),
  ).action(
    async (args: string[], flags: CoordinatorFlags & { listen: string; secret?: string }) => {
      const { flags: k6Flags, script } = k6FlagsAndScript(args);
      const secret = flags.secret ?? io.env[SECRET_ENV];
      requireSecretBeyondLoopback(flags.listen, secret);
      await distributedRun(ctx, flags, { script, k6Flags }, (settings) =>
        coordinate({
          ...settings,
          flags: k6Flags,
          listen: flags.listen,
          secret,
          onListening: (url) => void io.stdout.write(`${url}\n`),
        }),
      );
    },
  );
}

/** What `run` and `coordinator` give their run beyond the k6 flags and their own options. */
type RunSettings = Omit<CoordinateOptions, 'flags' | 'listen' | 'secret' | 'onListening'>;

/**
 * `run` and `coordinator` once their options are checked: --baseline read
 * before any load, the run, the distributed run's report, then the shared
 * after-run step (HTML report, comparison, final exit code).
 */
async function distributedRun(
  { io, log: cliLog, exit }: CommandContext,
  flags: CoordinatorFlags,
  { script, k6Flags }: { script: string; k6Flags: readonly string[] },
  start: (settings: RunSettings) => Promise<CoordinateResult>,
): Promise<void> {
  const userFlags = readUserFlags(k6Flags, io.env);
  const log = userFlags?.quiet ? quietLogger(cliLog) : cliLog;
  const baseline = await readBaseline(flags);
  await withWorkDir(async (workDir) => {
    const k6 = await provisionK6({ env: io.env, log });
    // --report-html, else where k6 would export its web dashboard's report (issue 20.8).
    const html = await reserveHtmlReport(
      flags.reportHtml ?? (userFlags && dashboardExport(io.env, userFlags.outputs)),
    );
    try {
      const result = await start({
        ...runSettings(flags),
        k6,
        script,
        workDir,
        env: io.env,
        log,
        signal: io.signal,
        ...summaryOutput(io, flags),
      });
      printRunReport((text) => io.stdout.write(text), log, result);
      const after = await afterRun({
        result,
        title: script,
        html,
        baseline: baseline && { figures: baseline, limits: flags.failOnRegression },
        log,
        generatedAt: new Date(),
      });
      if (after.comparison !== undefined && flags.baseline !== undefined) {
        io.stdout.write(`\n${renderComparisonText(flags.baseline, after.comparison)}`);
      }
      const { failures } = after.verdict;
      if (failures.length > 0) {
        log.error(`regressed against ${String(flags.baseline)}: ${describeFailures(failures)}`);
      }
      exit(after.verdict.exitCode);
    } finally {
      await releaseHtmlReport(html);
    }
  });
}

/**
 * The k6 flags as far as the CLI itself needs them before the run (`-q`, the
 * dashboard's export); undefined when k6 would reject them: the run says why.
 */
function readUserFlags(k6Flags: readonly string[], env: NodeJS.ProcessEnv) {
  try {
    return parseRunFlags(k6Flags, env);
  } catch {
    return undefined;
  }
}

const CLI_PROGRESS_INTERVAL_MS = 1_000;

function runSettings(flags: CoordinatorFlags & { agents: number }) {
  return {
    agents: flags.agents,
    joinTimeoutMs: flags.joinTimeout,
    onAgentLoss: flags.onAgentLoss,
    pollHoldMs: flags.pollHold,
    startLeadMs: flags.startLead,
    transport: flags.transport,
    // Every second, as `k6 run` shows its progress (issue 20.5).
    progressIntervalMs: CLI_PROGRESS_INTERVAL_MS,
  };
}

function requireSecretBeyondLoopback(listen: string, secret: string | undefined): void {
  if (secret !== undefined && secret.length >= 16) return;
  if (isLoopbackHost(splitHostPort(listen).host) && secret === undefined) return;
  throw new K6DistributedError(
    'INVALID_OPTION',
    secret === undefined
      ? `--listen ${listen} is reachable beyond this machine, so agents must authenticate: ` +
          `set --secret or ${SECRET_ENV} (at least 16 characters) on coordinator and agents.`
      : `the secret is too short: use at least 16 random characters ` +
          '(e.g. `openssl rand -base64 24`).',
  );
}
