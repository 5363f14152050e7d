import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Command, Option } from 'commander';

import { Agent } from '../agent/agent.js';
import { CoordinatorClient } from '../agent/client.js';
import { coordinate, type CoordinateResult } from '../coordinator/run.js';
import { renderDemoTotals, runDemo } from '../demo/demo.js';
import { splitHostPort } from '../coordinator/server.js';
import { defaultLabel, JOIN_TIMEOUT_MS, POLL_HOLD_MS } from '../defaults.js';
import { errorMessage, K6DistributedError } from '../errors.js';
import { provisionK6 } from '../k6/provision.js';
import { k6FlagsAndScript } from '../k6/run-args.js';
import { runLocal } from '../local/run-local.js';
import {
  baselineFileSchema,
  compareFigures,
  describeFailures,
  type KeyFigures,
  keyFigures,
  type RegressionLimits,
  renderComparisonText,
} from '../report/compare.js';
import { METRIC_TRANSPORTS, type MetricTransport } from '../protocol/messages.js';
import { renderHtmlReport } from '../report/html.js';
import { K6_EXIT_CODES } from '../k6/exit-codes.js';
import { renderRunReport } from '../report/run-report.js';
import type { Logger } from '../runtime/logger.js';
import { type ReservedFile, reserveFiles } from '../runtime/reserved-file.js';
import { isLoopbackHost } from '../runtime/net.js';
import {
  agentLossPolicy,
  durationMs,
  envAssignment,
  positiveInt,
  regressionLimits,
  tag,
  weight,
} from './options.js';
import type { CliIo } from './main.js';

/** Sets the process exit code from inside a command's action. */
export type SetExitCode = (code: number) => void;

const SECRET_ENV = 'K6_DISTRIBUTED_SECRET';

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
  return command
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
      new Option('--transport <kind>', "how agents get their k6's metrics: cloud or json")
        .choices(METRIC_TRANSPORTS)
        .env('K6_DISTRIBUTED_TRANSPORT')
        .default('json'),
    )
    .addOption(
      new Option('--start-lead <duration>', 'how far ahead the common start is announced')
        .argParser(durationMs)
        .default(1_000, '1s')
        .hideHelp(),
    )
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
      'write a self-contained HTML report: charts over time, thresholds, checks, agents',
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
    )
    .allowUnknownOption()
    .argument(
      '[k6-args...]',
      'the script and `k6 run` flags (-e, --vus, --duration, --tag, ...), in any order',
    );
}

/**
 * --report-html, opened before the load (issue 17.7: sockets cannot take its
 * descriptor), or undefined when not asked for or not openable now.
 */
async function reserveHtmlReport(flags: CoordinatorFlags): Promise<ReservedFile | undefined> {
  const files = await reserveFiles({ html: flags.reportHtml });
  return files.html;
}

/**
 * --report-html: the run as one HTML page; a failure to render or write it
 * is logged, as k6 does for its summary files: the exit code stays the run's.
 */
async function writeHtmlReport(
  flags: CoordinatorFlags,
  result: CoordinateResult,
  script: string,
  log: Logger,
  file: ReservedFile | undefined,
): Promise<void> {
  if (flags.reportHtml === undefined) return;
  try {
    const html = renderHtmlReport({
      result,
      source: result.summary,
      timeline: result.timeline,
      title: script,
      generatedAt: new Date(),
    });
    await (file ? file.write(html) : writeFile(flags.reportHtml, html));
    log.info(`HTML report: ${flags.reportHtml}`);
  } catch (error) {
    log.error(`could not write the HTML report to ${flags.reportHtml}: ${errorMessage(error)}`);
  }
}

/** The distributed run's report after the summary; a failure to render it is logged, never the verdict. */
function printRunReport(io: CliIo, log: Logger, result: CoordinateResult): void {
  try {
    io.stdout.write(renderRunReport(result));
  } catch (error) {
    log.error(`could not render the run report: ${errorMessage(error)}`);
  }
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

/**
 * Prints the comparison with --baseline and returns the exit code: k6's, or
 * 99 (as for crossed thresholds: the limits are thresholds on the change)
 * when a passing run is worse than a --fail-on-regression limit.
 */
function compareWithBaseline(
  io: CliIo,
  log: Logger,
  flags: CoordinatorFlags,
  baseline: KeyFigures | undefined,
  result: CoordinateResult,
): number {
  if (baseline === undefined || flags.baseline === undefined) return result.exitCode;
  const comparison = compareFigures(keyFigures(result.summary), baseline, flags.failOnRegression);
  io.stdout.write(`\n${renderComparisonText(flags.baseline, comparison)}`);
  if (comparison.failures.length === 0 || result.exitCode !== 0) return result.exitCode;
  log.error(`regressed against ${flags.baseline}: ${describeFailures(comparison.failures)}`);
  return K6_EXIT_CODES['thresholds-failed'];
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

export function addRunCommands(program: Command, io: CliIo, log: Logger, exit: SetExitCode) {
  coordinatorOptions(
    program
      .command('run')
      .description('run a test on a local coordinator and N local agents (each its own k6)')
      .addOption(new Option('--agents <n>', 'number of agents').argParser(positiveInt).default(2)),
  ).action(async (args: string[], flags: CoordinatorFlags) => {
    const { flags: k6Flags, script } = k6FlagsAndScript(args);
    const baseline = await readBaseline(flags);
    await withWorkDir(async (workDir) => {
      const k6 = await provisionK6({ env: io.env, log });
      const report = await reserveHtmlReport(flags);
      try {
        const result = await runLocal({
          ...runSettings(flags),
          k6,
          script,
          flags: k6Flags,
          workDir,
          env: io.env,
          log,
          signal: io.signal,
          ...summaryOutput(io, flags),
        });
        printRunReport(io, log, result);
        await writeHtmlReport(flags, result, script, log, report);
        exit(compareWithBaseline(io, log, flags, baseline, result));
      } finally {
        await report?.release();
      }
    });
  });

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
      const baseline = await readBaseline(flags);
      await withWorkDir(async (workDir) => {
        const k6 = await provisionK6({ env: io.env, log });
        const report = await reserveHtmlReport(flags);
        try {
          const result = await coordinate({
            ...runSettings(flags),
            k6,
            script,
            flags: k6Flags,
            workDir,
            listen: flags.listen,
            secret,
            env: io.env,
            log,
            signal: io.signal,
            ...summaryOutput(io, flags),
            onListening: (url) => void io.stdout.write(`${url}\n`),
          });
          printRunReport(io, log, result);
          await writeHtmlReport(flags, result, script, log, report);
          exit(compareWithBaseline(io, log, flags, baseline, result));
        } finally {
          await report?.release();
        }
      });
    },
  );

  program
    .command('demo')
    .description('a local distributed run of an example script against a built-in target')
    .addOption(new Option('--agents <n>', 'number of agents').argParser(positiveInt).default(3))
    .action(async (flags: { agents: number }) => {
      await withWorkDir(async (workDir) => {
        const k6 = await provisionK6({ env: io.env, log });
        const result = await runDemo({
          k6,
          agents: flags.agents,
          workDir,
          env: io.env,
          log,
          signal: io.signal,
        });
        io.stdout.write(`${renderRunReport(result)}\n${renderDemoTotals(result.counts)}`);
        exit(result.exitCode);
      });
    });

  program
    .command('agent')
    .description('join a coordinator and run its share of the test on this machine')
    .requiredOption('--coordinator <url>', 'the coordinator URL it printed')
    .option('--secret <secret>', `the coordinator's shared secret (or ${SECRET_ENV})`)
    .option('--weight <w>', 'share of the load relative to other agents', weight, '1')
    .option('--tag <key=value>', 'agent tag, e.g. region=eu (repeatable)', tag)
    .option(
      '-e, --env <KEY=VALUE>',
      "override one of the test's environment variables (__ENV) on this agent only (repeatable)",
      envAssignment,
    )
    .option('--name <name>', 'name shown in reports (default: agent-<n>)')
    .addOption(
      new Option('--give-up-after <duration>', 'stop k6 after losing the coordinator this long')
        .argParser(durationMs)
        .default(60_000, '60s'),
    )
    .action(
      async (flags: {
        coordinator: string;
        secret?: string;
        weight: string;
        tag?: Record<string, string>;
        env?: Record<string, string>;
        name?: string;
        giveUpAfter: number;
      }) => {
        await withWorkDir(async (workDir) => {
          const k6 = await provisionK6({ env: io.env, log });
          const client = new CoordinatorClient({
            url: flags.coordinator,
            secret: flags.secret ?? io.env[SECRET_ENV],
            giveUpAfterMs: flags.giveUpAfter,
            log,
          });
          try {
            const agent = new Agent({
              client,
              k6,
              workDir,
              name: flags.name,
              weight: flags.weight,
              tags: flags.tag,
              env: io.env,
              envOverrides: flags.env,
              log,
            });
            const result = await agent.run(io.signal);
            if (result.exitCode === 0) log.info(`agent: ${result.message}`);
            else log.error(`agent: ${result.message}`);
            exit(result.exitCode);
          } finally {
            await client.close();
          }
        });
      },
    );
}

function runSettings(flags: CoordinatorFlags & { agents: number }) {
  return {
    agents: flags.agents,
    joinTimeoutMs: flags.joinTimeout,
    onAgentLoss: flags.onAgentLoss,
    pollHoldMs: flags.pollHold,
    startLeadMs: flags.startLead,
    transport: flags.transport,
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

async function withWorkDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'k6-distributed-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
