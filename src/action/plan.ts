/*
 * Issue 20.4: the reusable workflow's plan job. From the caller's inputs it
 * makes the two matrices the other jobs run: one coordinator per test script
 * (a glob may match several, as run-k6-action's `path`), and every agent of
 * every test, each with its own name, weight, tags, environment and runner
 * (`agents-matrix`, e.g. agents in two regions).
 */
import { relative } from 'node:path';

import { z } from 'zod';

import { K6DistributedError } from '../errors.js';
import { parseEnvAssignment } from '../k6/test-env.js';
import { tag, weight } from '../values.js';

/** GitHub runs at most this many jobs from one matrix. */
export const MAX_MATRIX_JOBS = 256;
/** Test names are at most this long (they name artifacts). */
const MAX_TEST_NAME = 64;

/** `runs-on`: a runner label, or a list of labels. */
const RunsOn = z.union([
  z.string().min(1).max(256),
  z.array(z.string().min(1).max(256)).min(1).max(16),
]);
type RunsOn = z.infer<typeof RunsOn>;

/** One group of agents in `agents-matrix`. */
const AgentGroup = z.strictObject({
  /** Agents in this group (default 1). */
  count: z.number().int().min(1).max(MAX_MATRIX_JOBS).default(1),
  /** Their name; with `count` above 1 each gets `-1`, `-2`, … */
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,48}$/, "use 1-48 letters, digits, '.', '_' or '-'")
    .optional(),
  weight: z.union([z.string(), z.number()]).optional(),
  /** `key=value` pairs, e.g. `region=eu` (a string as the `tags` input takes, or an object). */
  tags: z.union([z.string().max(4096), z.record(z.string(), z.string())]).optional(),
  /** `KEY=VALUE` lines for these agents' `__ENV` only (the `agent-env` input). */
  env: z.string().max(16_384).optional(),
  'runs-on': RunsOn.optional(),
});
type AgentGroup = z.input<typeof AgentGroup>;

const AgentsMatrix = z.array(AgentGroup).min(1).max(MAX_MATRIX_JOBS);

export interface PlanInputs {
  /** The scripts the glob matched, absolute or relative to `workspace`. */
  scripts: readonly string[];
  /** The caller's `script` input (for messages). */
  pattern: string;
  /** `agents`: how many agents each test has, all alike. */
  agents: number;
  /** `agents-matrix` as given (JSON), '' when unset: overrides `agents`. */
  agentsMatrix: string;
  testName: string;
  /** Where agents run unless their group says otherwise. */
  agentsRunsOn: RunsOn;
  workspace: string;
}

export interface PlannedTest {
  script: string;
  'test-name': string;
}

/** One agent job: the action's agent inputs and its runner. */
export interface PlannedAgent {
  'test-name': string;
  name: string;
  weight: string;
  tags: string;
  env: string;
  'runs-on': RunsOn;
}

export interface RunPlan {
  tests: PlannedTest[];
  agents: PlannedAgent[];
  /** Agents per test: the coordinator's `agents`. */
  agentCount: number;
}

/**
 * The tests and agent jobs for one workflow call. Every problem names the
 * input and the fix; nothing is planned past GitHub's 256 jobs per matrix.
 */
export function planRun(inputs: PlanInputs): RunPlan {
  if (inputs.scripts.length === 0) {
    throw invalid(
      `input "script": "${inputs.pattern}" matches no file in the repository: give a path ` +
        'or a glob such as tests/*.js (relative to the repository root; checked out first)',
    );
  }
  const tests = testsFor(inputs);
  const template = agentTemplate(inputs);
  const jobs = tests.length * template.length;
  if (jobs > MAX_MATRIX_JOBS) {
    throw invalid(
      `${String(tests.length)} tests × ${String(template.length)} agents make ${String(jobs)} ` +
        `agent jobs; GitHub runs at most ${String(MAX_MATRIX_JOBS)} from one matrix: match fewer ` +
        'scripts with "script", or give each fewer agents',
    );
  }
  const agents = tests.flatMap((t) => template.map((a) => ({ 'test-name': t['test-name'], ...a })));
  return { tests, agents, agentCount: template.length };
}

/** One test per script; with several, each name gets the script's own (`k6-login`). */
function testsFor(inputs: PlanInputs): PlannedTest[] {
  const scripts = [
    ...new Set(inputs.scripts.map((s) => relative(inputs.workspace, s) || s)),
  ].sort();
  if (scripts.length === 1) return [{ script: scripts[0] ?? '', 'test-name': inputs.testName }];
  const used = new Set<string>();
  return scripts.map((script) => {
    const base = script
      .replace(/^.*[\\/]/, '')
      .replace(/\.[^.]*$/, '')
      .replace(/[^A-Za-z0-9_.-]+/g, '-');
    let name = `${inputs.testName}-${base}`.slice(0, MAX_TEST_NAME);
    for (let n = 2; used.has(name); n++) {
      const suffix = `-${String(n)}`;
      name = `${inputs.testName}-${base}`.slice(0, MAX_TEST_NAME - suffix.length) + suffix;
    }
    used.add(name);
    return { script, 'test-name': name };
  });
}

type AgentTemplate = Omit<PlannedAgent, 'test-name'>;

/** The agents of one test: `agents` alike, or the groups of `agents-matrix`. */
function agentTemplate(inputs: PlanInputs): AgentTemplate[] {
  if (inputs.agentsMatrix.trim() === '') {
    return Array.from({ length: inputs.agents }, (_, i) => ({
      name: `agent-${String(i + 1)}`,
      weight: '1',
      tags: '',
      env: '',
      'runs-on': inputs.agentsRunsOn,
    }));
  }
  const groups = parseAgentsMatrix(inputs.agentsMatrix);
  const names = new Set<string>();
  return groups.flatMap((group, g) =>
    Array.from({ length: group.count }, (_, i) => {
      const base = group.name ?? `group-${String(g + 1)}`;
      const name = group.count > 1 || group.name === undefined ? `${base}-${String(i + 1)}` : base;
      if (names.has(name)) {
        throw invalid(
          `input "agents-matrix": two agents are named "${name}": name each group once`,
        );
      }
      names.add(name);
      return {
        name,
        weight:
          group.weight === undefined ? '1' : checked('weight', () => weight(String(group.weight))),
        tags: tagsText(group.tags),
        env: envText(group.env),
        'runs-on': group['runs-on'] ?? inputs.agentsRunsOn,
      };
    }),
  );
}

function parseAgentsMatrix(text: string): z.output<typeof AgentsMatrix> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(
      `input "agents-matrix" is not JSON (${(error as Error).message}): give a list of agent ` +
        'groups, e.g. [{"count": 2, "tags": "region=eu"}, {"count": 1, "weight": 2, "runs-on": "ubuntu-24.04-arm"}]',
    );
  }
  const parsed = AgentsMatrix.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${pathText(i.path)}: ${i.message}`);
    throw invalid(
      `input "agents-matrix": ${problems.join('; ')}. Each group takes count, name, weight, ` +
        'tags, env and runs-on',
    );
  }
  const total = parsed.data.reduce((n, g) => n + g.count, 0);
  if (total > MAX_MATRIX_JOBS) {
    throw invalid(
      `input "agents-matrix": ${String(total)} agents; GitHub runs at most ` +
        `${String(MAX_MATRIX_JOBS)} jobs from one matrix`,
    );
  }
  return parsed.data;
}

/** `[0].weight`, or `the list` for the whole. */
function pathText(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'the list';
  return path.map((p) => (typeof p === 'number' ? `[${String(p)}]` : `.${String(p)}`)).join('');
}

/** Tags as the agent's `tags` input takes them, each checked. */
function tagsText(tags: AgentGroup['tags']): string {
  if (tags === undefined) return '';
  const pairs =
    typeof tags === 'string'
      ? tags.split(/[\s,]+/).filter((t) => t !== '')
      : Object.entries(tags).map(([k, v]) => `${k}=${v}`);
  for (const pair of pairs) checked('tags', () => tag(pair));
  return pairs.join(',');
}

function envText(env: string | undefined): string {
  if (env === undefined) return '';
  const lines = env.split(/\r?\n/).filter((l) => l.trim() !== '');
  for (const line of lines) checked('env', () => parseEnvAssignment(line.trim()));
  return lines.join('\n');
}

function checked<T>(field: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw invalid(`input "agents-matrix": ${field}: ${(error as Error).message}`);
  }
}

function invalid(message: string): K6DistributedError {
  return new K6DistributedError('INVALID_OPTION', message);
}
