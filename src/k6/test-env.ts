import { K6DistributedError } from '../errors.js';

/**
 * What of the coordinator's environment a test may see. `k6 run` puts the
 * whole process environment into `__ENV` (for `options` too) unless
 * `--include-system-env-vars=false`; a distributed run ships that same
 * environment to every agent inside the archive, minus the variables below:
 * the runner's credentials and this tool's own settings, which never leave
 * the coordinator.
 *
 * Not denied: other `*_TOKEN`/`*_KEY` names. A test's own credentials (an API
 * token for the system under test) reach `__ENV` by exactly this route in
 * `k6 run`; dropping them by a name pattern would break such tests silently.
 */
export const RUNNER_ENV_DENY = {
  names: [
    // GitHub's token under its usual names (a workflow maps it into env itself).
    'GITHUB_TOKEN',
    'GH_TOKEN',
    'GH_ENTERPRISE_TOKEN',
    // Workflow command files: paths on the coordinator's runner, writable by this job only.
    'GITHUB_ENV',
    'GITHUB_OUTPUT',
    'GITHUB_PATH',
    'GITHUB_STATE',
    'GITHUB_STEP_SUMMARY',
    // This tool's own settings.
    'K6_PATH',
    'CLOUDFLARED_PATH',
  ],
  prefixes: [
    // The runner's tokens and endpoints (ACTIONS_RUNTIME_TOKEN, ACTIONS_ID_TOKEN_REQUEST_*, ...).
    'ACTIONS_',
    'RUNNER_',
    // Action inputs: the `secret` and `github-token` inputs arrive as INPUT_SECRET, INPUT_GITHUB-TOKEN.
    'INPUT_',
    // This tool's own settings, e.g. K6_DISTRIBUTED_SECRET.
    'K6_DISTRIBUTED_',
  ],
} as const;

export function isRunnerEnv(name: string): boolean {
  const upper = name.toUpperCase();
  return (
    (RUNNER_ENV_DENY.names as readonly string[]).includes(upper) ||
    RUNNER_ENV_DENY.prefixes.some((prefix) => upper.startsWith(prefix))
  );
}

/** The coordinator's environment without the runner's own variables. */
export function testEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !isRunnerEnv(name)));
}

/**
 * k6 settings that belong to the machine, not to the test: browser and
 * extension provisioning, usage reports, and the settings of network outputs
 * (used only by an output the coordinator gives; its own settings win). Every other `K6_*` variable
 * configures the test (K6_VUS, K6_ITERATIONS, K6_OUT, K6_CONFIG,
 * K6_SECRET_SOURCE, ...) and k6 would apply an agent machine's own over the
 * coordinator's archived options.
 */
const MACHINE_K6_ENV = [
  /^K6_BROWSER_/,
  /^K6_PROVISION_/,
  /^K6_AUTO_EXTENSION_RESOLUTION$/,
  /^K6_BUILD_SERVICE_URL$/,
  /^K6_NO_USAGE_REPORT$/,
  /^K6_USAGE_REPORT_URL$/,
  // Settings of outputs (issue 20.8): used only by an output the coordinator
  // gives, whose settings from the coordinator's environment go over these.
  /^K6_(INFLUXDB|PROMETHEUS_RW|OTEL)_/,
];

/** An agent's environment for its k6 process: the test's configuration is the coordinator's. */
export function agentK6Environment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(
      ([name]) => !name.startsWith('K6_') || MACHINE_K6_ENV.some((keep) => keep.test(name)),
    ),
  );
}

/** k6's rule for `-e` names (internal/cmd runtime_options.go). */
const ENV_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Parses one `KEY=VALUE` as k6's `-e` does (a missing `=` means an empty value). */
export function parseEnvAssignment(assignment: string): [string, string] {
  const eq = assignment.indexOf('=');
  const name = eq < 0 ? assignment : assignment.slice(0, eq);
  if (!ENV_NAME.test(name)) {
    throw new K6DistributedError(
      'INVALID_OPTION',
      `"${assignment}" is not an environment variable: use KEY=VALUE with a KEY of letters, ` +
        'digits and _, not starting with a digit (as k6 -e requires).',
    );
  }
  return [name, eq < 0 ? '' : assignment.slice(eq + 1)];
}

/** Adds one `-e KEY=VALUE` to `previous` (repeated options collect this way). */
export function envAssignment(
  value: string,
  previous: Record<string, string> = {},
): Record<string, string> {
  const [name, v] = parseEnvAssignment(value);
  return { ...previous, [name]: v };
}
