import { K6DistributedError } from '../errors.js';
import { K6_EXIT_CODES } from './exit-codes.js';

/**
 * How a flag takes its value in pflag, the parser k6 uses: a boolean or an
 * optional-value flag (pflag's NoOptDefVal) never takes the next argument, so
 * `--http-debug script.js` leaves the script alone; every other flag does.
 */
type ValueKind = 'required' | { whenBare: string };

interface FlagSpec {
  long: string;
  short?: string;
  kind: ValueKind;
}

const BOOL: ValueKind = { whenBare: 'true' };
const VALUE: ValueKind = 'required';

/**
 * The flags `k6 run` v2.2.0 accepts (internal/cmd options.go optionFlagSet,
 * runtime_options.go runtimeOptionFlagSet, config.go configFlagSet, root.go
 * rootCmdPersistentFlagSet, cobra's --help).
 */
const K6_RUN_FLAGS: readonly FlagSpec[] = [
  { long: 'vus', short: 'u', kind: VALUE },
  { long: 'duration', short: 'd', kind: VALUE },
  { long: 'iterations', short: 'i', kind: VALUE },
  { long: 'stage', short: 's', kind: VALUE },
  { long: 'execution-segment', kind: VALUE },
  { long: 'execution-segment-sequence', kind: VALUE },
  { long: 'paused', short: 'p', kind: BOOL },
  { long: 'no-setup', kind: BOOL },
  { long: 'no-teardown', kind: BOOL },
  { long: 'max-redirects', kind: VALUE },
  { long: 'batch', kind: VALUE },
  { long: 'batch-per-host', kind: VALUE },
  { long: 'rps', kind: VALUE },
  { long: 'user-agent', kind: VALUE },
  { long: 'http-debug', kind: { whenBare: 'headers' } },
  { long: 'insecure-skip-tls-verify', kind: BOOL },
  { long: 'no-connection-reuse', kind: BOOL },
  { long: 'no-vu-connection-reuse', kind: BOOL },
  { long: 'min-iteration-duration', kind: VALUE },
  { long: 'throw', short: 'w', kind: BOOL },
  { long: 'blacklist-ip', kind: VALUE },
  { long: 'block-hostnames', kind: VALUE },
  { long: 'summary-trend-stats', kind: VALUE },
  { long: 'summary-time-unit', kind: VALUE },
  { long: 'system-tags', kind: VALUE },
  { long: 'tag', kind: VALUE },
  { long: 'console-output', kind: VALUE },
  { long: 'discard-response-bodies', kind: BOOL },
  { long: 'local-ips', kind: VALUE },
  { long: 'dns', kind: VALUE },
  { long: 'include-system-env-vars', kind: BOOL },
  { long: 'compatibility-mode', kind: VALUE },
  { long: 'type', short: 't', kind: VALUE },
  { long: 'env', short: 'e', kind: VALUE },
  { long: 'no-thresholds', kind: BOOL },
  { long: 'summary-mode', kind: VALUE },
  { long: 'summary-export', kind: VALUE },
  { long: 'new-machine-readable-summary', kind: BOOL },
  { long: 'traces-output', kind: VALUE },
  { long: 'out', short: 'o', kind: VALUE },
  { long: 'linger', short: 'l', kind: BOOL },
  { long: 'no-usage-report', kind: BOOL },
  { long: 'features', kind: VALUE },
  { long: 'secret-source', kind: VALUE },
  { long: 'log-output', kind: VALUE },
  { long: 'log-format', kind: VALUE },
  { long: 'config', short: 'c', kind: VALUE },
  { long: 'no-color', kind: BOOL },
  { long: 'verbose', short: 'v', kind: BOOL },
  { long: 'quiet', short: 'q', kind: BOOL },
  { long: 'address', short: 'a', kind: VALUE },
  { long: 'profiling-enabled', kind: BOOL },
  { long: 'help', short: 'h', kind: BOOL },
];

const BY_LONG = new Map(K6_RUN_FLAGS.map((f) => [f.long, f]));
const BY_SHORT = new Map(K6_RUN_FLAGS.flatMap((f) => (f.short ? [[f.short, f] as const] : [])));

const UNKNOWN_FIX = 'use a flag of `k6 run` (k6 v2.2.0) or of this command: see --help';
const VALUE_FIX = 'give its value after it, or as --flag=value';

/** One flag as given on the command line. */
export interface K6Flag {
  /** Canonical long form, e.g. `--vus` for `-u`. */
  name: string;
  /** As the user wrote it, e.g. `-u`: for messages. */
  written: string;
  /** The value k6 sees; `true` or the flag's default for a bare boolean or optional-value flag. */
  value: string;
  /** Arguments that pass the flag on to k6 unchanged in meaning. */
  args: string[];
}

export interface K6Args {
  flags: K6Flag[];
  /** Everything that is not a flag or a flag's value, in order (`k6 run` wants exactly one: the script). */
  positionals: string[];
}

/**
 * Splits `k6 run` arguments as k6's pflag does: flags and positionals in any
 * order, `--flag=value`, `--flag value`, `-u 2`, `-u2`, `-u=2`, grouped short
 * booleans (`-qv`), bare boolean and optional-value flags, `--` ending the
 * flags. An unknown flag or a missing value fails with pflag's message and
 * k6's exit code (255), as `k6 run` would.
 */
export function parseK6Args(args: readonly string[]): K6Args {
  const result: K6Args = { flags: [], positionals: [] };
  const rest = [...args];
  while (rest.length > 0) {
    const arg = rest.shift() ?? '';
    if (arg === '--') {
      result.positionals.push(...rest);
      break;
    }
    if (arg.startsWith('--')) result.flags.push(longFlag(arg, rest));
    else if (arg.startsWith('-') && arg.length > 1) result.flags.push(...shortFlags(arg, rest));
    else result.positionals.push(arg);
  }
  return result;
}

function longFlag(arg: string, rest: string[]): K6Flag {
  const eq = arg.indexOf('=');
  const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
  const spec = BY_LONG.get(name);
  if (spec === undefined) throw flagError(`unknown flag: --${name}`, UNKNOWN_FIX);
  const written = `--${name}`;
  if (eq >= 0) return flag(spec, written, arg.slice(eq + 1), [arg]);
  if (spec.kind !== 'required') return flag(spec, written, spec.kind.whenBare, [arg]);
  const value = rest.shift();
  if (value === undefined) throw flagError(`flag needs an argument: --${name}`, VALUE_FIX);
  return flag(spec, written, value, [arg, value]);
}

/** `-qv`, `-u 2`, `-u2`, `-u=2`, `-qu 2`: each letter a flag until one takes a value. */
function shortFlags(arg: string, rest: string[]): K6Flag[] {
  const flags: K6Flag[] = [];
  let letters = arg.slice(1);
  while (letters.length > 0) {
    const letter = letters[0] ?? '';
    const spec = BY_SHORT.get(letter);
    if (spec === undefined) {
      throw flagError(`unknown shorthand flag: '${letter}' in -${letters}`, UNKNOWN_FIX);
    }
    const written = `-${letter}`;
    const after = letters.slice(1);
    if (spec.kind !== 'required' && !after.startsWith('=')) {
      flags.push(flag(spec, written, spec.kind.whenBare, [`--${spec.long}`]));
      letters = after;
      continue;
    }
    if (after !== '') {
      const value = after.startsWith('=') ? after.slice(1) : after;
      return [...flags, flag(spec, written, value, [`--${spec.long}=${value}`])];
    }
    const value = rest.shift();
    if (value === undefined) {
      throw flagError(`flag needs an argument: '${letter}' in -${letter}`, VALUE_FIX);
    }
    // A lone short flag keeps its spelling, as the user wrote it.
    if (flags.length === 0) return [flag(spec, written, value, [arg, value])];
    return [...flags, flag(spec, written, value, [`--${spec.long}`, value])];
  }
  if (flags.length === 1 && flags[0]) flags[0].args = [arg];
  return flags;
}

function flag(spec: FlagSpec, written: string, value: string, args: string[]): K6Flag {
  return { name: `--${spec.long}`, written, value, args };
}

/** pflag's own message and k6's exit code for it (k6 exits 255 on any flag error). */
function flagError(message: string, fix: string): K6DistributedError {
  return new K6DistributedError('K6_TEST_INVALID', `${message} (${fix})`, {
    data: { exitCode: K6_EXIT_CODES['generic-error'], k6Errors: [message] },
  });
}

/**
 * The script among `k6 run` arguments: exactly one positional, anywhere, as
 * `k6 run` wants; the rest are k6 flags, in order.
 */
export function k6FlagsAndScript(args: readonly string[]): { flags: string[]; script: string } {
  const parsed = parseK6Args(args);
  const [script, ...extra] = parsed.positionals;
  if (script === undefined || extra.length > 0) {
    const got = parsed.positionals.length;
    throw new K6DistributedError(
      'K6_TEST_INVALID',
      `accepts 1 arg(s), received ${String(got)}: give one test script, e.g. ` +
        '`run --agents 3 --vus 10 script.js`' +
        (got > 1 ? ` (got ${parsed.positionals.map((p) => JSON.stringify(p)).join(', ')})` : ''),
      { data: { exitCode: K6_EXIT_CODES['generic-error'] } },
    );
  }
  return { flags: parsed.flags.flatMap((f) => f.args), script };
}
