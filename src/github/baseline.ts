import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DefaultArtifactClient } from '@actions/artifact';

import { errorMessage } from '../errors.js';
import { baselineFileSchema, type KeyFigures } from '../report/compare.js';
import { parseJson } from '../runtime/net.js';
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

export interface BaselineRun {
  id: number;
  number: number;
  url: string;
  sha: string;
}

export type BaselineLookup =
  | {
      found: true;
      branch: string;
      run: BaselineRun;
      figures: KeyFigures;
      /** Newer runs on the branch that were passed over, and why. */
      skipped: string[];
    }
  | { found: false; branch: string; reason: string; skipped: string[] };

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
  /** How many of the branch's latest completed runs are looked at (default 10). */
  maxRuns?: number;
}

/**
 * The last successful run of this workflow on the base branch that kept a
 * report for this test, and its figures. Failed or cancelled runs, pull
 * request runs and runs without the artifact are passed over (and listed);
 * an API failure ends the search with the reason. Never throws.
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
    const response = await o.octokit.rest.actions.listWorkflowRuns({
      owner: o.owner,
      repo: o.repo,
      workflow_id: o.workflow,
      branch: o.branch,
      status: 'completed',
      exclude_pull_requests: true,
      per_page: o.maxRuns ?? 10,
    });
    runs = response.data.workflow_runs;
  } catch (error) {
    return notFound(apiProblem(error, `the runs of ${o.workflow} on ${o.branch}`));
  }
  const name = new RegExp(`^k6-report-${escapeRegExp(o.testName)}-attempt-(\\d+)$`);
  for (const run of runs) {
    if (run.id === o.runId || run.event.startsWith('pull_request')) continue;
    const label = `run #${String(run.run_number)}`;
    if (run.conclusion !== 'success') {
      skipped.push(`${label} ${run.conclusion ?? 'did not finish'}`);
      continue;
    }
    let artifacts;
    try {
      const response = await o.octokit.rest.actions.listWorkflowRunArtifacts({
        owner: o.owner,
        repo: o.repo,
        run_id: run.id,
        per_page: 100,
      });
      artifacts = response.data.artifacts;
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
    const figures = await readFigures(o, artifact.id, run.id);
    if (typeof figures === 'string') {
      skipped.push(`${label}: ${figures}`);
      continue;
    }
    return {
      found: true,
      branch: o.branch,
      run: { id: run.id, number: run.run_number, url: run.html_url, sha: run.head_sha },
      figures,
      skipped,
    };
  }
  return notFound(
    runs.length === 0
      ? `no completed run of ${o.workflow} on ${o.branch} yet`
      : `no successful run of ${o.workflow} among the last ${String(runs.length)} on ${o.branch} kept a report`,
  );
}

/** The figures of a downloaded report artifact, or what is wrong with it. */
async function readFigures(
  o: BaselineOptions,
  artifactId: number,
  runId: number,
): Promise<KeyFigures | string> {
  const dir = await mkdtemp(join(tmpdir(), 'k6-distributed-baseline-'));
  try {
    await o.download(artifactId, runId, dir);
    const parsed = baselineFileSchema.safeParse(
      parseJson(await readFile(join(dir, REPORT_FILES.result), 'utf8')),
    );
    return parsed.success
      ? parsed.data.figures
      : `its ${REPORT_FILES.result} is not a k6-distributed result`;
  } catch (error) {
    return `its report could not be read (${errorMessage(error)})`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
  const status = (error as { status?: unknown }).status;
  if (status === 404) {
    return `could not list ${what} (HTTP 404): is the workflow new in this pull request?`;
  }
  if (status === 403) {
    return (
      `could not list ${what} (HTTP ${String(status)}): give the workflow ` +
      '`permissions: actions: read` so the token can read earlier runs'
    );
  }
  return `could not list ${what}: ${errorMessage(error)}`;
}
