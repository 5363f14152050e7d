import { parse as parseShell } from 'shell-quote';

import { ACTION_JOIN_TIMEOUT, METRIC_TRANSPORT } from '../defaults.js';
import { K6DistributedError } from '../errors.js';
import { parseEnvAssignment } from '../k6/test-env.js';
import { K6_PINNED_VERSION, normalizeVersion } from '../k6/version.js';
import { parseRegressionLimits, type RegressionLimits } from '../report/compare.js';
import { METRIC_TRANSPORTS, type MetricTransport } from '../protocol/messages.js';
import { agentLossPolicy, durationMs, positiveInt, tag, weight } from '../values.js';

/** Input and output names, spelled once: action.yml is their source. */
export const INPUTS = {
  role: 'role',
  script: 'script',
  agents: 'agents',
  flags: 'flags',
  k6Version: 'k6-version',
  coordinatorUrl: 'coordinator-url',
  tunnel: 'tunnel',
  auth: 'auth',
  secret: 'secret',
  joinTimeout: 'join-timeout',
  onAgentLoss: 'on-agent-loss',
  metricTransport: 'metric-transport',
  weight: 'weight',
  tags: 'tags',
  agentEnv: 'agent-env',
  githubToken: 'github-token',
  commentOnPr: 'comment-on-pr',
  checkRun: 'check-run',
  summaryMode: 'summary-mode',
  uploadReport: 'upload-report',
  includeSetupData: 'include-setup-data',
  compareWithBase: 'compare-with-base',
  failOnRegression: 'fail-on-regression',
  testName: 'test-name',
  k6Env: 'k6-env',
  verifyOnly: 'verify-only',
  agentsMatrix: 'agents-matrix',
  agentsRunsOn: 'agents-runs-on',
} as const;

export const OUTPUTS = {
  result: 'result',
  exitCode: 'exit-code',
  summaryJson: 'summary-json',
  reportHtml: 'report-html',
  regressed: 'regressed',
  k6Path: 'k6-path',
  k6Version: 'k6-version',
  tests: 'tests',
  agents: 'agents',
  agentCount: 'agent-count',
} as const;

interface Common {
  k6Version: string;
  auth: 'oidc' | 'secret';
  secret?: string;
  /** Skips tunnel (coordinator) and rendezvous (both roles). */
  coordinatorUrl?: string;
  joinTimeoutMs: number;
  /** Keys the rendezvous artifact and the PR comment when one workflow runs several tests. */
  testName: string;
}

export interface CoordinatorInputs extends Common {
  role: 'coordinator';
  script: string;
  agents: number;
  flags: string[];
  /** `k6-env`: KEY=VALUE lines for the test's __ENV, from a secret: masked, as `-e` before `flags`. */
  k6Env: Record<string, string>;
  /** Check the script with `k6 archive` and `k6 inspect`, make no load. */
  verifyOnly: boolean;
  tunnel: 'cloudflared' | 'none';
  onAgentLoss: 'abort' | 'continue';
  metricTransport: MetricTransport;
  githubToken?: string;
  commentOnPr: boolean;
  checkRun: boolean;
  summaryMode: 'compact' | 'full' | 'disabled';
  uploadReport: boolean;
  /** Keep setup()'s data in the result JSON (and so in the uploaded artifact). */
  includeSetupData: boolean;
  compareWithBase: boolean;
  failOnRegression: RegressionLimits;
}

export interface AgentInputs extends Common {
  role: 'agent';
  weight: string;
  tags: Record<string, string>;
  /** `agent-env`: this agent's own values over the test's __ENV. */
  env: Record<string, string>;
}

/** The reusable workflow's plan job (issue 20.4, ./plan.ts). */
export interface PlanRoleInputs extends Common {
  role: 'plan';
  /** A path or glob, several separated by newlines. */
  script: string;
  agents: number;
  agentsMatrix: string;
  agentsRunsOn: string | string[];
}

export type ActionInputs = CoordinatorInputs | AgentInputs | PlanRoleInputs;

/** Reads one input by name; '' when unset (as @actions/core's getInput). */
export type InputReader = (name: string) => string;

/**
 * Every input, parsed once into a typed object. All problems are reported
 * together, each naming its input and a valid value.
 */
export function parseInputs(read: InputReader): ActionInputs {
  const problems: string[] = [];
  const get = <T>(name: string, parse: (value: string) => T, fallback: string): T | undefined => {
    const raw = read(name).trim() || fallback;
    try {
      return parse(raw);
    } catch (error) {
      problems.push(`input "${name}": ${(error as Error).message}`);
      return undefined;
    }
  };
  const role = get(INPUTS.role, oneOf('coordinator', 'agent', 'plan'), '');
  const auth = get(INPUTS.auth, oneOf('oidc', 'secret'), 'oidc');
  const secret = read(INPUTS.secret).trim() || undefined;
  if (auth === 'secret' && (secret === undefined || secret.length < 16)) {
    problems.push(
      `input "${INPUTS.secret}": auth: secret needs a secret of at least 16 characters, the ` +
        'same on the coordinator and every agent (e.g. `secret: ${{ secrets.K6_DISTRIBUTED_SECRET }}`)',
    );
  }
  const coordinatorUrl = get(INPUTS.coordinatorUrl, optional(httpUrl), '');
  const common = {
    k6Version: get(INPUTS.k6Version, normalizeVersion, K6_PINNED_VERSION),
    joinTimeoutMs: get(INPUTS.joinTimeout, durationMs, ACTION_JOIN_TIMEOUT),
    testName: get(INPUTS.testName, testName, 'k6'),
  };
  const result =
    role === 'coordinator'
      ? coordinatorInputs(read, get, problems)
      : role === 'plan'
        ? planInputs(read, get, problems)
        : agentInputs(role, get);
  if (
    result.role === 'coordinator' &&
    result.compareWithBase === false &&
    Object.keys(result.failOnRegression ?? {}).length > 0
  ) {
    problems.push(
      `input "${INPUTS.failOnRegression}": needs "${INPUTS.compareWithBase}: true" (the ` +
        'limits apply to the comparison with the base branch)',
    );
  }
  if (problems.length > 0 || role === undefined) {
    throw new K6DistributedError(
      'INVALID_OPTION',
      `invalid action inputs:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  return { ...common, auth, secret, coordinatorUrl, ...result } as ActionInputs;
}

/** Parses one input with a parser and its default; a problem is noted, not thrown. */
type InputGetter = <T>(
  name: string,
  parse: (value: string) => T,
  fallback: string,
) => T | undefined;

function coordinatorInputs(read: InputReader, get: InputGetter, problems: string[]) {
  const script = read(INPUTS.script).trim();
  if (script === '')
    problems.push(`input "${INPUTS.script}": the coordinator needs the test script's path`);
  return {
    role: 'coordinator' as const,
    script,
    agents: get(INPUTS.agents, positiveInt, ''),
    flags: get(INPUTS.flags, splitFlags, ''),
    tunnel: get(INPUTS.tunnel, oneOf('cloudflared', 'none'), 'cloudflared'),
    onAgentLoss: get(INPUTS.onAgentLoss, agentLossPolicy, 'abort'),
    metricTransport: get(INPUTS.metricTransport, oneOf(...METRIC_TRANSPORTS), METRIC_TRANSPORT),
    githubToken: read(INPUTS.githubToken).trim() || undefined,
    commentOnPr: get(INPUTS.commentOnPr, bool, 'true'),
    checkRun: get(INPUTS.checkRun, bool, 'true'),
    summaryMode: get(INPUTS.summaryMode, oneOf('compact', 'full', 'disabled'), 'compact'),
    uploadReport: get(INPUTS.uploadReport, bool, 'true'),
    includeSetupData: get(INPUTS.includeSetupData, bool, 'false'),
    compareWithBase: get(INPUTS.compareWithBase, bool, 'true'),
    failOnRegression: get(INPUTS.failOnRegression, parseRegressionLimits, ''),
    k6Env: get(INPUTS.k6Env, envLines, ''),
    verifyOnly: get(INPUTS.verifyOnly, bool, 'false'),
  };
}

function planInputs(read: InputReader, get: InputGetter, problems: string[]) {
  const script = read(INPUTS.script).trim();
  if (script === '')
    problems.push(`input "${INPUTS.script}": the plan needs the test script's path or a glob`);
  return {
    role: 'plan' as const,
    script,
    agents: get(INPUTS.agents, positiveInt, '3'),
    agentsMatrix: read(INPUTS.agentsMatrix).trim(),
    agentsRunsOn: get(INPUTS.agentsRunsOn, runsOn, 'ubuntu-latest'),
  };
}

/** A runner label, or a JSON list of labels (`["self-hosted", "linux"]`). */
function runsOn(value: string): string | string[] {
  if (!value.startsWith('[')) return value;
  const labels: unknown = JSON.parse(value);
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string' && l !== '')) {
    throw new Error(`"${value}" is not a runner label or a JSON list of labels`);
  }
  return labels as string[];
}

function agentInputs(role: 'agent' | undefined, get: InputGetter) {
  return {
    role,
    weight: get(INPUTS.weight, weight, '1'),
    tags: get(INPUTS.tags, tagList, ''),
    env: get(INPUTS.agentEnv, envLines, ''),
  };
}

function oneOf<T extends string>(...values: T[]): (value: string) => T {
  return (value) => {
    if ((values as string[]).includes(value)) return value as T;
    throw new Error(`"${value}" is not one of ${values.join(', ')}`);
  };
}

function optional<T>(parse: (value: string) => T): (value: string) => T | undefined {
  return (value) => (value === '' ? undefined : parse(value));
}

function httpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`"${value}" is not a URL: use e.g. https://coordinator.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`"${value}" is not an http(s) URL`);
  }
  return url.origin;
}

function bool(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`"${value}" is not a boolean: use true or false`);
}

function testName(value: string): string {
  if (/^[A-Za-z0-9_.-]{1,64}$/.test(value)) return value;
  throw new Error(`"${value}" is not a test name: use 1-64 letters, digits, '.', '_' or '-'`);
}

/** `key=value` pairs separated by commas, spaces or newlines. */
function tagList(value: string): Record<string, string> {
  const entries = value.split(/[\s,]+/).filter((v) => v !== '');
  return entries.reduce<Record<string, string>>((tags, entry) => tag(entry, tags), {});
}

/** One `KEY=VALUE` per line (a value may hold spaces and commas). */
function envLines(value: string): Record<string, string> {
  const lines = value.split(/\r?\n/).map((line) => line.trim());
  return Object.fromEntries(lines.filter((line) => line !== '').map(parseEnvAssignment));
}

/**
 * The `flags` input as k6 run arguments, split as a POSIX shell would
 * (quotes, escapes) but never expanded: `$VAR` stays literal and shell
 * operators are refused.
 */
export function splitFlags(value: string): string[] {
  const words = parseShell(value, (name) => `$${name}`);
  return words.map((word) => {
    if (typeof word === 'string') return word;
    throw new Error(
      `${JSON.stringify(value)} has shell syntax (${JSON.stringify(word)}): give only k6 flags, ` +
        'e.g. --vus 10 --duration 30s -e BASE_URL=https://test.k6.io',
    );
  });
}
