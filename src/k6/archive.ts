import { join } from 'node:path';

import { hasErrorCode, K6DistributedError } from '../errors.js';
import type { K6Binary } from './binary.js';
import { K6_EXIT_CODES } from './exit-codes.js';
import { parseK6LogLine } from './log-line.js';
import { K6Process } from './process.js';

/** The options k6 consolidated into the archive, as `k6 inspect` prints them. */
export interface K6Options {
  scenarios?: Record<string, Record<string, unknown> & { executor: string }>;
  thresholds?: Record<string, unknown[]>;
  summaryTrendStats?: string[];
  summaryTimeUnit?: string | null;
  setupTimeout?: string | null;
  teardownTimeout?: string | null;
  [option: string]: unknown;
}

/** A validated test, ready to ship to agents. */
export interface PreparedTest {
  /** `k6 archive` output: script, local modules, open()ed files and options. */
  archivePath: string;
  options: K6Options;
  /** Longest the test can run, graceful stops included (k6's totalDuration). */
  totalDurationMs: number;
  maxVUs: number;
}

export interface PrepareOptions {
  k6: K6Binary;
  script: string;
  /** Option flags that `k6 archive` accepts (-e, --vus, --duration, --tag, --config, ...). */
  flags?: readonly string[];
  /** Folder that receives archive.tar. */
  outDir: string;
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * Builds the archive and reads its execution requirements. k6 validates both
 * the script and the options while archiving, so an invalid test fails here,
 * before any agent gets work, with k6's own message and exit code (107 for a
 * script error, 104 for invalid options or thresholds).
 */
export async function prepareTest(options: PrepareOptions): Promise<PreparedTest> {
  const archivePath = join(options.outDir, 'archive.tar');
  await runK6(options, [
    'archive',
    '--quiet',
    '-O',
    archivePath,
    ...(options.flags ?? []),
    options.script,
  ]);
  const { totalDuration, maxVUs, ...k6Options } = await inspectRequirements(options, archivePath);
  return {
    archivePath,
    options: k6Options,
    totalDurationMs: parseGoDuration(totalDuration ?? '0s'),
    maxVUs: maxVUs ?? 0,
  };
}

type Requirements = K6Options & { totalDuration?: string; maxVUs?: number };

/**
 * `k6 inspect --execution-requirements`, with `k6 run`'s default of 1 VU.
 * `k6 run` takes it from its --vus flag's default; `k6 inspect` has no such
 * flag, so `-i 3`, `-d 10s` or `options.iterations` without VUs fail there
 * with 104 "the number of VUs must be more than 0" while `k6 run` runs them
 * with 1 VU. When no layer set VUs (the archived options have none) and no
 * scenarios replace the shortcut, K6_VUS=1 for the inspection is exactly
 * that default; agents run `k6 run` and apply it themselves.
 */
async function inspectRequirements(
  options: PrepareOptions,
  archivePath: string,
): Promise<Requirements> {
  const inspect = ['inspect', '--execution-requirements', archivePath];
  try {
    return JSON.parse(await runK6(options, inspect)) as Requirements;
  } catch (error) {
    if (
      !hasErrorCode(error, 'K6_TEST_INVALID') ||
      error.data.exitCode !== K6_EXIT_CODES['invalid-config']
    ) {
      throw error;
    }
    const archived = await runK6(options, ['inspect', archivePath]).then(
      (text) => JSON.parse(text) as K6Options,
      () => undefined,
    );
    if (!archived || archived.vus != null || archived.scenarios != null) throw error;
    const withDefault = { ...options, env: { ...options.env, K6_VUS: '1' } };
    return JSON.parse(await runK6(withDefault, inspect)) as Requirements;
  }
}

/** Runs one short k6 command; returns stdout, or throws k6's error with its exit code. */
async function runK6(options: PrepareOptions, args: string[]): Promise<string> {
  const { outcome, stdout, stderr } = await K6Process.run(options.k6.path, {
    args: ['--log-format=json', ...args],
    env: options.env,
    cwd: options.cwd,
  });
  if (outcome.exitCode !== 0) {
    const errors = stderr.map(errorMessageOf).filter((m): m is string => m !== undefined);
    // 255 has no meaning of its own (k6's untyped errors): k6's message says it all.
    const why =
      outcome.exitCode === K6_EXIT_CODES['generic-error'] ? '' : `${outcome.description}, `;
    throw new K6DistributedError(
      'K6_TEST_INVALID',
      `k6 ${args[0] ?? ''} rejected ${options.script} (${why}exit code ${outcome.exitCode}): ` +
        (errors.join('\n') || '(k6 printed no error)'),
      { data: { exitCode: outcome.exitCode, k6Errors: errors } },
    );
  }
  return stdout.join('\n');
}

/**
 * The message of an error-level line of k6's log, else undefined. k6 logs
 * JSON as asked, except for flag errors, which it reports before reading
 * --log-format: those come as logrus text (`level=error msg="..."`).
 */
function errorMessageOf(line: string): string | undefined {
  if (line.trim() === '') return undefined;
  const entry = parseK6LogLine(line);
  if (entry === undefined) return line;
  if (entry.level !== 'error' && entry.level !== 'fatal') return undefined;
  return [entry.msg, entry.error].filter(Boolean).join(': ');
}

const GO_DURATION_UNITS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
  us: 1e-3,
  µs: 1e-3,
  ns: 1e-6,
};

/**
 * Parses Go's time.Duration.String() format ("10m30s", "1h0m0s", "1.5s",
 * "300ms") into milliseconds. Hand-written: Go's format is small and exact,
 * and JS duration libraries each accept a different superset of it.
 */
export function parseGoDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)];
  if (text === '0' || text === '0s') return 0;
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`not a Go duration: "${text}"`);
  }
  return parts.reduce(
    (ms, [, n, unit]) => ms + Number(n) * (GO_DURATION_UNITS[unit ?? ''] ?? 0),
    0,
  );
}
