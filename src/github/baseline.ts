import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DefaultArtifactClient } from '@actions/artifact';

import { errorMessage } from '../errors.js';
import { baselineFileSchema } from '../coordinator/result-file.js';
import type { KeyFigures } from '../metrics/key-figures.js';
import type { BaselineLookup } from '../report/baseline-view.js';
import { parseJson } from '../runtime/net.js';
import { isGhesUnsupported } from './actions-run.js';
import type { Octokit } from './publish.js';

/** The files of the report artifact every coordinator job uploads. */
export const REPORT_FILES = { result: 'result.json', html: 'report.html' } as const;

/**
 * The report artifact's name, per test and run attempt (artifact names are
 * unique within a run). It cannot equal a rendezvous name, which starts
 * with "k6-distributed-".
 */
export function reportArtifactName(testName: string, runAttempt: string): string {
  return `k6-report-${testName}-attempt-${runAttempt}`;
}

/** The workflow file of GITHUB_WORKFLOW_REF (`o/r/.github/workflows/load.yml@refs/...`). */
export function workflowFile(workflowRef: string | undefined): string | undefined {
  return /\.github\/workflows\/([^/@]+)@/.exec(workflowRef ?? '')?.[1];
}

/** Downloads one artifact of another run into `dir`. */
export type ArtifactDownload = (artifactId: number, runId: number, dir: string) => Promise<void>;

export interface BaselineOptions {
  octokit: Octokit;
  owner: string;
  repo: string;
  /** The workflow's file name, e.g. load.yml: the baseline comes from the same workflow. */
  workflow: string;
  /** The pull request's base branch. */
  branch: string;
  testName: string;
  /** This run, never its own baseline. */
  runId?: number;
  download: ArtifactDownload;
  /** How many of the branch's latest completed runs are looked at (default 20). */
  maxRuns?: number;
}

/**
 * The events whose runs on the base branch run the base branch's own code
 * as configured: a comment command (`issue_comment`) or a `workflow_run` may
 * run other code, and pull request runs are never a baseline.
 */
export const BASELINE_EVENTS = ['push', 'schedule', 'workflow_dispatch'] as const;

/** A report artifact larger than this is not downloaded (a result.json is far smaller). */
export const MAX_REPORT_BYTES = 50 * 1024 * 1024;

/** The API's page size for a run's artifacts, and how many pages are read at most. */
const ARTIFACT_PAGE = 100;
const ARTIFACT_PAGES = 10;

/**
 * The last successful run of this workflow on the base branch that kept a
 * passing report for this test, and its figures. Failed or cancelled runs
 * and runs without the artifact are passed over (and listed), as are runs
 * of other events (see BASELINE_EVENTS); an API or download failure ends
 * the search with the reason. Never throws.
 */
export async function findBaseline(o: BaselineOptions): Promise<BaselineLookup> {
  const skipped: string[] = [];
  const notFound = (reason: string): BaselineLookup => ({
    found: false,
    branch: o.branch,
    reason,
    skipped,
  });
  let runs;
  try {
    runs = await candidateRuns(o);
  } catch (error) {
    return notFound(apiProblem(error, `the runs of ${o.workflow} on ${o.branch}`));
  }
  const name = new RegExp(`^k6-report-${escapeRegExp(o.testName)}-attempt-(\\d+)$`);
  for (const run of runs) {
    const label = `run #${String(run.run_number)}`;
    if (run.conclusion !== 'success') {
      skipped.push(`${label} ${run.conclusion ?? 'did not finish'}`);
      continue;
    }
    let artifacts;
    try {
      artifacts = await runArtifacts(o, run.id);
    } catch (error) {
      return notFound(apiProblem(error, `the artifacts of ${label}`));
    }
    const artifact = artifacts
      .filter((a) => !a.expired && name.test(a.name))
      .sort((a, b) => attemptOf(b.name, name) - attemptOf(a.name, name))[0];
    if (artifact === undefined) {
      skipped.push(`${label} kept no report for test "${o.testName}"`);
      continue;
    }
    if (artifact.size_in_bytes > MAX_REPORT_BYTES) {
      skipped.push(`${label}: its report is larger than ${String(MAX_REPORT_BYTES >> 20)} MiB`);
      continue;
    }
    const read = await readFigures(o, artifact.id, run.id);
    if (read.kind === 'unavailable') return notFound(`${label}: ${read.reason}`);
    if (read.kind === 'invalid') {
      skipped.push(`${label}: ${read.reason}`);
      continue;
    }
    return {
      found: true,
      branch: o.branch,
      run: { id: run.id, number: run.run_number, url: run.html_url, sha: run.head_sha },
      figures: read.figures,
      skipped,
    };
  }
  return notFound(
    runs.length === 0
      ? `no completed ${BASELINE_EVENTS.join(', ')} run of ${o.workflow} on ${o.branch} yet`
      : `no successful run of ${o.workflow} among the last ${String(runs.length)} on ${o.branch} kept a passing report`,
  );
}

/** The workflow's latest completed runs on the base branch, of the events that can set a baseline. */
async function candidateRuns(o: BaselineOptions) {
  const response = await o.octokit.rest.actions.listWorkflowRuns({
    owner: o.owner,
    repo: o.repo,
    workflow_id: o.workflow,
    branch: o.branch,
    status: 'completed',
    exclude_pull_requests: true,
    per_page: o.maxRuns ?? 20,
  });
  return response.data.workflow_runs.filter(
    (run) => run.id !== o.runId && (BASELINE_EVENTS as readonly string[]).includes(run.event),
  );
}

/** A run's artifacts, every page up to a bound (big matrix workflows keep many). */
async function runArtifacts(o: BaselineOptions, runId: number) {
  const all = [];
  for (let page = 1; page <= ARTIFACT_PAGES; page++) {
    const response = await o.octokit.rest.actions.listWorkflowRunArtifacts({
      owner: o.owner,
      repo: o.repo,
      run_id: runId,
      per_page: ARTIFACT_PAGE,
      page,
    });
    all.push(...response.data.artifacts);
    if (response.data.artifacts.length < ARTIFACT_PAGE) break;
  }
  return all;
}

type ReadResult =
  | { kind: 'figures'; figures: KeyFigures }
  /** This artifact is not a usable baseline; an older run's may be. */
  | { kind: 'invalid'; reason: string }
  /** Downloads do not work (service down, GHES): looking further would only wait. */
  | { kind: 'unavailable'; reason: string };

/** The figures of a downloaded report artifact, or what is wrong with it. */
async function readFigures(
  o: BaselineOptions,
  artifactId: number,
  runId: number,
): Promise<ReadResult> {
  let dir: string | undefined;
  try {
    dir = await mkdtemp(join(tmpdir(), 'k6-distributed-baseline-'));
    try {
      await o.download(artifactId, runId, dir);
    } catch (error) {
      return { kind: 'unavailable', reason: downloadProblem(error) };
    }
    const file = join(dir, REPORT_FILES.result);
    if ((await stat(file)).size > MAX_REPORT_BYTES) {
      return { kind: 'invalid', reason: `its ${REPORT_FILES.result} is too large` };
    }
    const parsed = baselineFileSchema.safeParse(parseJson(await readFile(file, 'utf8')));
    if (!parsed.success) {
      return {
        kind: 'invalid',
        reason: `its ${REPORT_FILES.result} is not a k6-distributed result`,
      };
    }
    if (parsed.data.exitCode !== 0) {
      return {
        kind: 'invalid',
        reason: `its test failed (k6 exit code ${String(parsed.data.exitCode)})`,
      };
    }
    return { kind: 'figures', figures: parsed.data.figures };
  } catch (error) {
    return { kind: 'invalid', reason: `its report could not be read (${errorMessage(error)})` };
  } finally {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }
}

function downloadProblem(error: unknown): string {
  if (isGhesUnsupported(error)) {
    return (
      'artifacts v4 are not available on GitHub Enterprise Server, so there is no baseline: ' +
      'set "compare-with-base: false"'
    );
  }
  return `its report could not be downloaded (${errorMessage(error)})`;
}

/** The real download: @actions/artifact's client reading another run of this repository. */
export function artifactDownload(token: string, owner: string, repo: string): ArtifactDownload {
  return async (artifactId, runId, dir) => {
    await new DefaultArtifactClient().downloadArtifact(artifactId, {
      path: dir,
      findBy: {
        token,
        workflowRunId: runId,
        repositoryOwner: owner,
        repositoryName: repo,
      },
    });
  };
}

function attemptOf(artifactName: string, pattern: RegExp): number {
  return Number(pattern.exec(artifactName)?.[1] ?? 0);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function apiProblem(error: unknown, what: string): string {
  const { status, response } = error as {
    status?: unknown;
    response?: { headers?: Record<string, string | undefined> };
  };
  if (status === 404) {
    return `could not list ${what} (HTTP 404): is the workflow new in this pull request?`;
  }
  if ((status === 403 || status === 429) && response?.headers?.['x-ratelimit-remaining'] === '0') {
    return `could not list ${what}: the GitHub API rate limit is used up; the next run will compare`;
  }
  if (status === 403) {
    return (
      `could not list ${what} (HTTP 403): give the workflow ` +
      '`permissions: actions: read` so the token can read earlier runs'
    );
  }
  return `could not list ${what}: ${errorMessage(error)}`;
}
