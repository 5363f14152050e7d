import { K6DistributedError } from '../errors.js';
import { userOutputs } from './outputs.js';
import { parseK6Args } from './run-args.js';

export type SummaryMode = 'compact' | 'full' | 'disabled';

/** What `k6 run` flags mean for the run as a whole, read where the coordinator runs. */
export interface RunFlags {
  /** Flags `k6 archive` accepts: options and runtime options, in the order given. */
  archiveFlags: string[];
  summaryMode: SummaryMode;
  /** --summary-export: the legacy JSON summary file, written from merged data. */
  summaryExport: string | undefined;
  noThresholds: boolean;
  noColor: boolean;
  /**
   * Whether the coordinator's environment goes into `__ENV`: `k6 run`'s
   * default is true (`k6 archive`'s is false, so the archive is always told).
   */
  includeSystemEnvVars: boolean;
  /**
   * Every --secret-source value, in order (agents need them too); else
   * K6_SECRET_SOURCE, which the first flag replaces, as in k6.
   */
  secretSources: string[];
  /** `-q`/`--quiet`: no chatter, preamble or progress from the coordinator either. */
  quiet: boolean;
  /** Every `--out` value in order, else K6_OUT's (k6/outputs.ts). */
  outputs: string[];
  /**
   * `--console-output`, else K6_CONSOLE_OUTPUT: the file console.log() lines go
   * to instead of the log. Not in k6's archive (lib.Options has it as
   * `json:"-"`): every agent's k6 is given it.
   */
  consoleOutput: string | undefined;
}

/** `k6 run` flags that belong to one process's outputs, meaningless for the merged run. */
const PER_PROCESS = new Set([
  '--linger',
  '-l',
  '--no-usage-report',
  '--paused',
  '-p',
  '--address',
  '-a',
]);
const UNSUPPORTED: Record<string, string> = {
  '--features': 'is not passed to agents yet',
  // k6 does not archive it (lib.Options `json:"-"`), and the addresses are one machine's.
  '--local-ips':
    "is not passed to agents: its addresses are this machine's, and each agent's k6 would " +
    'hand the same first addresses to its own VUs',
};
/** Outputs run on every agent (k6/outputs.ts), not archived. */
const OUTPUT_FLAGS = new Set(['--out', '-o']);

const SUMMARY_MODES: readonly SummaryMode[] = ['compact', 'full', 'disabled'];

/**
 * Splits the k6 flags a user gives a distributed run: what is archived with
 * the script (and so reaches every agent), and what the coordinator applies
 * to the merged run itself (summary, thresholds). K6_SUMMARY_MODE,
 * K6_SUMMARY_EXPORT, K6_NO_THRESHOLDS and K6_NO_COLOR are read as k6 does; a
 * flag wins over its variable.
 */
export function parseRunFlags(flags: readonly string[], env: NodeJS.ProcessEnv = {}): RunFlags {
  const result: RunFlags = {
    archiveFlags: [],
    summaryMode: parseSummaryMode(env.K6_SUMMARY_MODE ?? 'compact'),
    summaryExport: env.K6_SUMMARY_EXPORT || undefined,
    noThresholds: isTrue(env.K6_NO_THRESHOLDS),
    noColor: isTrue(env.K6_NO_COLOR) || env.NO_COLOR !== undefined,
    includeSystemEnvVars: goBool(env.K6_INCLUDE_SYSTEM_ENV_VARS) ?? true,
    secretSources: env.K6_SECRET_SOURCE === undefined ? [] : [env.K6_SECRET_SOURCE],
    quiet: false,
    outputs: [],
    consoleOutput: env.K6_CONSOLE_OUTPUT || undefined,
  };
  if (env.K6_LOCAL_IPS) {
    throw new K6DistributedError(
      'INVALID_OPTION',
      `K6_LOCAL_IPS ${UNSUPPORTED['--local-ips'] ?? ''}: unset it for the distributed run`,
    );
  }
  const outputFlags: string[] = [];
  let secretSourceFlags = 0;
  const parsed = parseK6Args(flags);
  if (parsed.positionals.length > 0) {
    throw new K6DistributedError(
      'INVALID_OPTION',
      `${parsed.positionals.map((p) => JSON.stringify(p)).join(', ')} is not a k6 flag or ` +
        'the value of one: give only `k6 run` flags here',
    );
  }
  for (const flag of parsed.flags) {
    if (flag.name in UNSUPPORTED) {
      throw new K6DistributedError(
        'INVALID_OPTION',
        `${flag.written} ${UNSUPPORTED[flag.name] ?? ''}: remove it from the k6 flags`,
      );
    }
    if (PER_PROCESS.has(flag.name)) continue;
    if (OUTPUT_FLAGS.has(flag.name)) {
      outputFlags.push(flag.value);
      continue;
    }
    if (flag.name === '--console-output') {
      // k6 keeps an empty value as unset (internal/cmd/options.go).
      if (flag.value !== '') result.consoleOutput = flag.value;
      continue;
    }
    if (flag.name === '--secret-source' && secretSourceFlags++ === 0) result.secretSources = [];
    applyRunFlag(result, flag.name, flag.value);
    result.archiveFlags.push(...flag.args);
  }
  result.outputs = userOutputs(outputFlags, env);
  return result;
}

function applyRunFlag(result: RunFlags, name: string, value: string | undefined): void {
  switch (name) {
    case '--summary-mode':
      result.summaryMode = parseSummaryMode(value ?? '');
      return;
    case '--summary-export':
      result.summaryExport = value || undefined;
      return;
    case '--no-thresholds':
      result.noThresholds = value === undefined || isTrue(value);
      return;
    case '--no-color':
      result.noColor = value === undefined || isTrue(value);
      return;
    case '--include-system-env-vars':
      result.includeSystemEnvVars = value === undefined || isTrue(value);
      return;
    case '--secret-source':
      if (value !== undefined) result.secretSources.push(value);
      return;
    case '--quiet':
      result.quiet = value === undefined || isTrue(value);
      return;
  }
}

function parseSummaryMode(value: string): SummaryMode {
  if ((SUMMARY_MODES as readonly string[]).includes(value)) return value as SummaryMode;
  throw new K6DistributedError(
    'INVALID_OPTION',
    `invalid summary mode "${value}": use one of ${SUMMARY_MODES.join(', ')}`,
  );
}

/**
 * Go's strconv.ParseBool, which k6 uses for K6_INCLUDE_SYSTEM_ENV_VARS;
 * undefined when unset or invalid (k6 itself then reports the bad value).
 */
function goBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (isTrue(value)) return true;
  return ['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value) ? false : undefined;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 't', 'TRUE', 'True', 'T'].includes(value);
}
