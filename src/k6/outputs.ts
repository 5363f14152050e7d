import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';

import { K6DistributedError } from '../errors.js';
import type { Assignment } from '../protocol/messages.js';
import { K6_EXIT_CODES } from './exit-codes.js';

/**
 * `--out` on a distributed run (issue 20.8): each agent's k6 also writes the
 * user's outputs, alongside the metric stream the coordinator merges, as each
 * k6-operator runner does. Network outputs (InfluxDB, Prometheus remote
 * write, OpenTelemetry) receive every agent's samples, each tagged with its
 * agent (`instance_id`) so that the same series from two agents stay apart;
 * file outputs (json, csv) get one file per agent.
 */

/** The outputs k6 v2.2.0 has built in (internal/cmd/outputs.go). */
const BUILTIN = [
  'cloud',
  'csv',
  'experimental-opentelemetry',
  'experimental-prometheus-rw',
  'influxdb',
  'json',
  'opentelemetry',
  'statsd',
  'web-dashboard',
] as const;

/** The tag each agent's outputs carry: the agent's number in the run (1, 2, ...). */
export const INSTANCE_TAG = 'instance_id';

/** The variables that configure an output, read by k6 from its environment. */
const OUTPUT_ENV: Readonly<Record<string, RegExp>> = {
  influxdb: /^K6_INFLUXDB_/,
  'experimental-prometheus-rw': /^K6_PROMETHEUS_RW_/,
  opentelemetry: /^K6_OTEL_/,
  'experimental-opentelemetry': /^K6_OTEL_/,
  // Not K6_CSV_FILENAME: each agent's file name is in its argument.
  csv: /^K6_CSV_(SAVE_INTERVAL|TIME_FORMAT)$/,
};

/**
 * Whether an agent takes the variable `name` from the coordinator for these
 * outputs: only the settings of an output it runs (never K6_CSV_FILENAME,
 * K6_SECRET_SOURCE, K6_BUILD_SERVICE_URL or any other k6 setting).
 */
export function isOutputSetting(name: string, outputs: readonly string[]): boolean {
  return outputs.some((output) => OUTPUT_ENV[splitOutput(output)[0]]?.test(name) === true);
}

/** The outputs the user gave the run: every `--out` in order, else K6_OUT (comma-separated, as k6 reads it). */
export function userOutputs(flags: readonly string[], env: NodeJS.ProcessEnv): string[] {
  if (flags.length > 0) return [...flags];
  const out = env.K6_OUT ?? '';
  return out.trim() === '' ? [] : out.split(',').filter((o) => o !== '');
}

/** What agents run of the user's outputs. */
export interface OutputsPlan {
  /** `--out` values for agents, file names not yet per agent. */
  outputs: string[];
  /** The outputs' settings from the coordinator's environment, for the agents' k6. */
  env: Record<string, string>;
}

/**
 * Checks the user's outputs before any load. Refused (k6's message and exit
 * code for an unknown type): `cloud` (the agents' own transport; each agent
 * would create a cloud test run of its share), json or csv to stdout (an
 * agent's stdout is not the user's terminal), and output extensions.
 * `web-dashboard` is not run on agents (one per agent would show that
 * agent's share): the coordinator serves the merged run's page instead. `remoteFiles`: agents on other machines write file outputs
 * into their own working directory, so the path must stay inside it.
 */
export function planOutputs(
  outputs: readonly string[],
  options: { env: NodeJS.ProcessEnv; remoteFiles: boolean },
): OutputsPlan {
  const plan: OutputsPlan = { outputs: [], env: {} };
  for (const output of outputs) {
    const [type, arg = ''] = splitOutput(output);
    if (!(BUILTIN as readonly string[]).includes(type)) {
      throw new K6DistributedError(
        'K6_TEST_INVALID',
        `invalid output type '${type}', available types are: ${BUILTIN.join(', ')} ` +
          '(k6-distributed runs k6’s built-in outputs on agents; output extensions are not supported)',
        { data: { exitCode: K6_EXIT_CODES['generic-error'] } },
      );
    }
    // The coordinator serves the merged run's page instead (coordinator/live-dashboard.ts).
    if (type === 'web-dashboard') continue;
    refuse(type === 'cloud', `--out ${output}`, CLOUD_FIX);
    refuse(
      type === 'statsd',
      `--out ${output}`,
      'k6 v0.55.0 removed the statsd output (it is now the xk6-output-statsd extension); ' +
        'use experimental-prometheus-rw, influxdb or opentelemetry',
    );
    if (type === 'json' || type === 'csv') {
      const file = outputFile(type, arg, options.env);
      if (typeof file !== 'string') {
        throw new K6DistributedError('INVALID_OPTION', `--out ${output}: ${file.problem}`);
      }
      refuse(
        file === '' || file === '-',
        `--out ${output} writes to k6's stdout`,
        'give a file name (e.g. --out json=results.json): each agent writes its own file',
      );
      refuse(
        options.remoteFiles && !insideWorkingDirectory(file),
        `--out ${output}`,
        'give a path inside the working directory (no absolute path, no ..): each agent writes ' +
          'its own file in its own working directory',
      );
    }
    const settings = OUTPUT_ENV[type];
    for (const [name, value] of Object.entries(options.env)) {
      if (settings?.test(name) && value !== undefined) plan.env[name] = value;
    }
    plan.outputs.push(output);
  }
  return plan;
}

const CLOUD_FIX =
  'each agent would stream its share to a Grafana Cloud test run of its own; use `k6 cloud run` ' +
  'for a cloud-run test, or an output such as experimental-prometheus-rw';

function refuse(condition: boolean, what: string, fix: string): void {
  if (condition) {
    throw new K6DistributedError(
      'INVALID_OPTION',
      `${what} is not possible on a distributed run: ${fix}`,
    );
  }
}

function splitOutput(output: string): [string, string | undefined] {
  const eq = output.indexOf('=');
  return eq < 0 ? [output, undefined] : [output.slice(0, eq), output.slice(eq + 1)];
}

const CSV_KEYS = ['saveInterval', 'fileName', 'timeFormat'];

/**
 * The file a json or csv output writes, as k6 decides it (csv: its argument,
 * the last `fileName=` of its pairs winning as in k6's ParseArg, else
 * K6_CSV_FILENAME, else file.csv); for an argument k6 refuses, why.
 */
function outputFile(
  type: string,
  arg: string,
  env: NodeJS.ProcessEnv,
): string | { problem: string } {
  if (type === 'json' || !arg.includes('='))
    return type === 'json' || arg !== '' ? arg : csvDefault(env);
  let file: string | undefined;
  for (const pair of arg.split(',')) {
    const [key = '', value = ''] = pair.split(/=(.*)/s);
    if (!CSV_KEYS.includes(key) || value === '') {
      return { problem: `k6 cannot parse "${pair}" in a csv output: use ${CSV_KEYS.join('=, ')}=` };
    }
    if (key === 'fileName') file = value;
  }
  return file ?? csvDefault(env);
}

function csvDefault(env: NodeJS.ProcessEnv): string {
  return env.K6_CSV_FILENAME || 'file.csv';
}

/**
 * The file every agent's k6 writes console.log() lines to for
 * `--console-output` (or K6_CONSOLE_OUTPUT), or undefined without one. Agents
 * that share this machine (a local run) get one absolute path: k6 appends to
 * it (O_APPEND), so it holds every agent's lines as one k6's file would.
 * Agents elsewhere each write the file in their own working directory.
 */
export function consoleOutputForAgents(
  file: string | undefined,
  options: { cwd: string; remoteFiles: boolean },
): string | undefined {
  if (file === undefined) return undefined;
  if (!options.remoteFiles) return resolve(options.cwd, file);
  // The agents' own rule, so a run is refused here rather than by every agent.
  if (consoleOutputProblem(file, true) !== undefined) {
    throw new K6DistributedError(
      'INVALID_OPTION',
      `--console-output ${file}: give a path inside the working directory (no absolute path, ` +
        'no ..): each agent writes its console output in its own working directory',
    );
  }
  return file;
}

/** Why this agent refuses to write its console output to `file`, or undefined. */
export function consoleOutputProblem(file: string, remoteFiles: boolean): string | undefined {
  return remoteFiles && !insideWorkingDirectory(file)
    ? "it is outside the agent's working directory"
    : undefined;
}

/** A relative path that stays inside the directory it is resolved in. */
export function insideWorkingDirectory(file: string): boolean {
  if (isAbsolute(file) || /^[a-zA-Z]:/.test(file)) return false;
  const path = normalize(file);
  return path !== '..' && !path.startsWith(`..${sep}`) && !path.startsWith('../');
}

/**
 * `results.json` → `results.agent-2.json`, `out.json.gz` → `out.agent-2.json.gz`
 * (k6 gzips a name ending in .gz), `file` → `file.agent-2`.
 */
export function agentFileName(file: string, instanceId: number | string): string {
  const name = basename(file);
  const gz = name.endsWith('.gz') ? '.gz' : '';
  const stem = name.slice(0, name.length - gz.length);
  const dot = stem.lastIndexOf('.');
  const [base, ext] = dot > 0 ? [stem.slice(0, dot), stem.slice(dot)] : [stem, ''];
  const own = `${base}.agent-${String(instanceId)}${ext}${gz}`;
  return dirname(file) === '.' && !file.startsWith('.') ? own : join(dirname(file), own);
}

/**
 * One agent's `--out` values: json and csv files named for the agent (a csv
 * output gets its file name in its argument, which wins over K6_CSV_FILENAME).
 */
export function agentOutputs(
  outputs: readonly string[],
  instanceId: number,
  env: NodeJS.ProcessEnv,
): string[] {
  return outputs.map((output) => {
    const [type, arg = ''] = splitOutput(output);
    if (type === 'json') return `json=${agentFileName(arg, instanceId)}`;
    if (type !== 'csv') return output;
    const named = outputFile(type, arg, env);
    // planOutputs refused any other.
    const file = agentFileName(typeof named === 'string' ? named : 'file.csv', instanceId);
    if (!arg.includes('=')) return `csv=${file}`;
    const rest = arg.split(',').filter((pair) => !pair.startsWith('fileName='));
    return `csv=${[`fileName=${file}`, ...rest].join(',')}`;
  });
}

/**
 * What an agent accepts from the coordinator as its k6's outputs: k6's
 * built-in network and file outputs, and (unless the agent runs in the
 * user's own `run` process) files inside its working directory only; a
 * coordinator must not make an agent's k6 write anywhere else on its machine.
 * Returns the problem, or undefined.
 */
export function agentOutputProblem(output: string, remoteFiles: boolean): string | undefined {
  const [type, arg = ''] = splitOutput(output);
  if (!AGENT_OUTPUTS.includes(type)) return `output type '${type}' is not one agents run`;
  if (type !== 'json' && type !== 'csv') return undefined;
  const file = outputFile(type, arg, {});
  if (typeof file !== 'string') return file.problem;
  if (file === '' || file === '-') return `${output} writes to stdout`;
  if (remoteFiles && !insideWorkingDirectory(file)) {
    return `${output} writes outside the agent's working directory`;
  }
  return undefined;
}

const AGENT_OUTPUTS: readonly string[] = BUILTIN.filter(
  (type) => !['cloud', 'web-dashboard', 'statsd'].includes(type),
);

/**
 * The `--tag` flags of an agent with outputs: every sample tagged with the
 * agent, and the test's own tags kept (k6's `--tag` replaces options.tags and
 * earlier --tag flags instead of adding to them).
 */
export function agentTagArgs(tags: Record<string, string>): string[] {
  // k6 refuses `--tag name=` (an empty value); such a tag tags nothing.
  return Object.entries(tags).flatMap(([name, value]) =>
    value === '' ? [] : ['--tag', `${name}=${value}`],
  );
}

/** One agent's outputs: the `--out` values, the tags of every sample, the outputs' settings. */
export type AgentOutputs = NonNullable<Assignment['outputs']>;

/**
 * Each agent's outputs for a run with `plan`, or undefined without outputs:
 * the test's own tags (as k6 consolidated them into the archive) and the
 * agent's `instance_id`.
 */
export function outputsForAgents(
  plan: OutputsPlan,
  testTags: unknown,
  env: NodeJS.ProcessEnv,
): ((instanceId: number) => AgentOutputs) | undefined {
  if (plan.outputs.length === 0) return undefined;
  const tags: Record<string, string> = {};
  if (typeof testTags === 'object' && testTags !== null) {
    for (const [name, value] of Object.entries(testTags)) {
      if (typeof value === 'string') tags[name] = value;
    }
  }
  return (instanceId) => ({
    out: agentOutputs(plan.outputs, instanceId, env),
    tags: { ...tags, [INSTANCE_TAG]: String(instanceId) },
    env: plan.env,
  });
}

/**
 * The preamble's `output:` line (k6 prints e.g. `json (results.json)`):
 * files as each agent names them, and the tag that tells agents apart;
 * undefined without outputs agents run.
 */
export function outputsText(
  outputs: readonly string[],
  env: NodeJS.ProcessEnv,
): string | undefined {
  const shown = outputs.filter((o) => splitOutput(o)[0] !== 'web-dashboard');
  if (shown.length === 0) return undefined;
  const text = shown.map((output) => {
    const [type, arg = ''] = splitOutput(output);
    if (type === 'json' || type === 'csv') {
      const file = outputFile(type, arg, env);
      return `${type} (${agentFileName(typeof file === 'string' ? file : '?', '<n>')} from agent <n>)`;
    }
    return arg === '' ? type : `${type} (${arg})`;
  });
  return `${text.join(', ')}; samples tagged ${INSTANCE_TAG}=<n>`;
}
