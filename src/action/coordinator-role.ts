import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import * as core from '@actions/core';

import type { RegistrationAuth } from '../coordinator/auth.js';
import { secretAuth } from '../coordinator/auth.js';
import type { CoordinateResult } from '../coordinator/run.js';
import { coordinate, verifyTest } from '../coordinator/run.js';
import type { K6Binary } from '../k6/binary.js';
import type { Logger } from '../runtime/logger.js';
import { isLoopbackHost } from '../runtime/net.js';
import { isGhesUnsupported, runAttempt } from '../github/actions-run.js';
import type { RendezvousCard } from '../github/rendezvous.js';
import { REPORT_FILES, reportArtifactName } from '../github/baseline.js';
import {
  type AfterRun,
  afterRun,
  printRunReport,
  type HtmlReportFile,
  releaseHtmlReport,
  reserveHtmlReport,
} from '../after-run/after-run.js';
import type { FinalVerdict } from '../after-run/verdict.js';
import type { BaselineLookup, BaselineView } from '../report/baseline-view.js';
import { type ComparisonRow, describeFailures } from '../report/compare.js';
import { verdictOf } from '../report/format.js';
import { renderVerifiedMarkdown } from '../report/verified-markdown.js';
import { errorMessage } from '../errors.js';
import { OUTPUTS, type CoordinatorInputs } from './inputs.js';
import type { ActionIo } from './io.js';
import { endOfTestOutput } from './workflow-commands.js';

/** What a role runs with: the action's outside world, k6 and the job's own bits. */
export interface RoleContext extends ActionIo {
  k6: K6Binary;
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
  /** Uploads files of `dir` as an artifact; resolves with its web page's URL. */
  uploadArtifact(name: string, files: string[], dir: string): Promise<string>;
  /** On a pull request, the base branch's last successful run; undefined on other events. */
  findBaseline(inputs: CoordinatorInputs): Promise<BaselineLookup | undefined>;
  /** Job summary, PR comment and check run; never throws for API errors. */
  publishReports(
    result: CoordinateResult,
    inputs: CoordinatorInputs,
    extras: PublishExtras,
  ): Promise<void>;
}

/** What the job adds to the run's reports beyond the run itself. */
export interface PublishExtras {
  baseline?: BaselineView;
  /** The uploaded report artifact's page. */
  reportUrl?: string;
  /** The check run's conclusion and title. */
  verdict: FinalVerdict;
}

/**
 * The coordinator job: serve the test, make the server reachable (a tunnel,
 * or the given coordinator-url), tell agents where it is (rendezvous
 * artifact), drive the run, then publish the verdict where GitHub users look.
 */
export async function runCoordinatorRole(
  inputs: CoordinatorInputs,
  ctx: RoleContext & { card?: RendezvousCard },
  services: CoordinatorServices,
): Promise<void> {
  if (inputs.verifyOnly) {
    await verifyOnly(inputs, ctx);
    return;
  }
  const summaryJson = join(
    ctx.env.RUNNER_TEMP ?? ctx.workDir,
    `k6-distributed-${inputs.testName}.json`,
  );
  const reportHtml = summaryJson.replace(/\.json$/, '.html');
  // Opened before the load, with the result file (issue 17.7).
  const html = await reserveHtmlReport(reportHtml);
  const tunnels: Array<{ close(): Promise<void> }> = [];
  // The base branch's baseline is looked up while the test runs.
  const lookup = inputs.compareWithBase ? lookUpBaseline(inputs, services) : undefined;
  try {
    const result = await coordinate({
      k6: ctx.k6,
      script: inputs.script,
      flags: [...testFlags(inputs), `--summary-mode=${inputs.summaryMode}`],
      agents: inputs.agents,
      listen: listenAddress(inputs),
      // The tunnel is then the only way in: the server listens on loopback.
      behindCloudflare: inputs.coordinatorUrl === undefined && inputs.tunnel === 'cloudflared',
      auth: inputs.auth === 'secret' ? secretAuth(inputs.secret ?? '') : services.oidcAuth(ctx.env),
      workDir: ctx.workDir,
      joinTimeoutMs: inputs.joinTimeoutMs,
      onAgentLoss: inputs.onAgentLoss,
      transport: inputs.metricTransport,
      env: ctx.env,
      cwd: ctx.env.GITHUB_WORKSPACE,
      log: ctx.log,
      signal: ctx.signal,
      output: endOfTestOutput((text) => ctx.stdout.write(text)),
      summaryJson,
      summaryJsonSetupData: inputs.includeSetupData,
      onListening: async (localUrl) => {
        const url = await publicUrl(inputs, localUrl, services, tunnels);
        if (ctx.card) {
          await ctx.card.publishUrl(url);
          ctx.log.info(`published the coordinator URL ${url} as artifact "${ctx.card.name}"`);
        }
      },
    });
    // After k6's summary, as the CLI prints it: who ran which share, and how each k6 ended.
    printRunReport((text) => ctx.stdout.write(text), ctx.log, result);
    // The agents that never joined (too few in time, a cancelled run) stop at once.
    if (result.exitCode !== 0 && result.agents.length < inputs.agents) {
      await ctx.card?.publishFailure(result, ctx.log);
    }
    await reportRun(result, inputs, ctx, services, {
      summaryJson,
      reportHtml,
      html,
      lookup: await lookup,
    });
  } finally {
    for (const tunnel of tunnels) await tunnel.close();
    await releaseHtmlReport(html);
  }
}

/** `k6-env` as `-e` flags ahead of `flags`, so an explicit `-e` in `flags` wins. */
function testFlags(inputs: CoordinatorInputs): string[] {
  const env = Object.entries(inputs.k6Env).flatMap(([key, value]) => ['-e', `${key}=${value}`]);
  return [...env, ...inputs.flags];
}

/**
 * `verify-only` (issue 20.4): what a run checks before any agent gets work,
 * for a pull request: k6 archives and inspects the test, the plan and the
 * warnings go to the log and the job summary. An invalid test fails as a run
 * would, with k6's exit code (the early-failure path).
 */
async function verifyOnly(inputs: CoordinatorInputs, ctx: RoleContext): Promise<void> {
  const verified = await verifyTest({
    k6: ctx.k6,
    script: inputs.script,
    flags: testFlags(inputs),
    agents: inputs.agents,
    workDir: ctx.workDir,
    env: ctx.env,
    cwd: ctx.env.GITHUB_WORKSPACE,
    log: ctx.log,
  });
  for (const warning of verified.warnings) ctx.log.warning(warning);
  if (verified.plan !== undefined) ctx.stdout.write(verified.plan);
  ctx.log.info(`${inputs.script}: verified for ${String(inputs.agents)} agents; no load made`);
  ctx.setOutput(OUTPUTS.result, 'verified');
  ctx.setOutput(OUTPUTS.exitCode, '0');
  await ctx.writeJobSummary(
    renderVerifiedMarkdown({
      title: inputs.script,
      agents: inputs.agents,
      plan: verified.plan,
      warnings: verified.warnings,
    }),
  );
}

/** Where the run's reports go, and the baseline lookup that ran beside it. */
interface ReportTargets {
  summaryJson: string;
  reportHtml: string;
  html: HtmlReportFile | undefined;
  lookup: BaselineLookup | undefined;
}

/**
 * After the run: the step outputs, the shared after-run step (comparison,
 * HTML report, verdict), the report artifact, the job summary, PR comment
 * and check, then the job's status.
 */
async function reportRun(
  result: CoordinateResult,
  inputs: CoordinatorInputs,
  ctx: RoleContext,
  services: CoordinatorServices,
  targets: ReportTargets,
): Promise<void> {
  const { summaryJson, reportHtml, lookup } = targets;
  ctx.setOutput(OUTPUTS.result, verdictOf(result));
  ctx.setOutput(OUTPUTS.exitCode, String(result.exitCode));
  ctx.setOutput(OUTPUTS.summaryJson, summaryJson);
  const after = await afterRun({
    result,
    title: inputs.script,
    html: targets.html,
    baseline: lookup && { lookup, limits: inputs.failOnRegression },
    log: ctx.log,
    generatedAt: new Date(ctx.now()),
  });
  ctx.setOutput(OUTPUTS.reportHtml, reportHtml);
  const reportUrl = inputs.uploadReport
    ? await uploadReport(inputs, ctx, services, { summaryJson, reportHtml })
    : undefined;
  ctx.setOutput(
    OUTPUTS.regressed,
    after.comparison ? String(after.comparison.rows.some((r) => r.regressed)) : '',
  );
  await reportStep(ctx.log, 'publish the job summary, PR comment and check', () =>
    services.publishReports(result, inputs, {
      baseline: after.view,
      reportUrl,
      verdict: after.verdict,
    }),
  );
  failJob(result, after);
}

/** Runs one report step; a failure is logged, never thrown: the run's verdict is already decided. */
async function reportStep(log: Logger, what: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (error) {
    log.error(`could not ${what}: ${errorMessage(error)}; the run's verdict stands`);
  }
}

/**
 * The report artifact: the merged result JSON (the next pull request's
 * baseline) and the HTML report. A failure warns: the run's verdict stands.
 */
async function uploadReport(
  inputs: CoordinatorInputs,
  ctx: RoleContext,
  services: CoordinatorServices,
  files: { summaryJson: string; reportHtml: string },
): Promise<string | undefined> {
  const name = reportArtifactName(inputs.testName, runAttempt(ctx.env));
  const dir = join(ctx.workDir, 'report');
  try {
    await mkdir(dir, { recursive: true });
    await copyFile(files.summaryJson, join(dir, REPORT_FILES.result));
    await copyFile(files.reportHtml, join(dir, REPORT_FILES.html));
    const url = await services.uploadArtifact(
      name,
      Object.values(REPORT_FILES).map((file) => join(dir, file)),
      dir,
    );
    ctx.log.info(`uploaded the HTML report and the result JSON as artifact "${name}": ${url}`);
    return url;
  } catch (error) {
    ctx.log.warning(
      `could not upload the report artifact "${name}" (${errorMessage(error)}); ` +
        `the reports are still at ${files.reportHtml} and ${files.summaryJson}` +
        (isGhesUnsupported(error)
          ? '; artifacts v4 are not available on GitHub Enterprise Server: set ' +
            '"upload-report: false" and "compare-with-base: false"'
          : ''),
    );
    return undefined;
  }
}

/** The baseline lookup; never rejects (a failure is a lookup without a baseline). */
async function lookUpBaseline(
  inputs: CoordinatorInputs,
  services: CoordinatorServices,
): Promise<BaselineLookup | undefined> {
  try {
    return await services.findBaseline(inputs);
  } catch (error) {
    return { found: false, branch: '?', reason: errorMessage(error), skipped: [] };
  }
}

/** Fails the job on k6's failure, else on a regression past a fail-on-regression limit. */
function failJob(result: CoordinateResult, after: AfterRun): void {
  const lookup = after.view?.lookup;
  if (result.exitCode !== 0) {
    core.setFailed(`k6 exit code ${String(result.exitCode)}: ${result.message}`);
  } else if (lookup?.found && after.verdict.failures.length > 0) {
    core.setFailed(regressionMessage(lookup, after.verdict.failures));
  }
}

function regressionMessage(
  lookup: Extract<BaselineLookup, { found: true }>,
  failures: readonly ComparisonRow[],
): string {
  return (
    `regressed against ${lookup.branch}'s run #${String(lookup.run.number)}: ` +
    `${describeFailures(failures)}; ` +
    'see the comparison in the job summary, or raise the "fail-on-regression" limits'
  );
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
