import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { pathToFileURL } from 'node:url';

import type { K6Binary } from './binary.js';
import { helperRunEnv } from './helper-env.js';
import { K6Process } from './process.js';

export interface HandleSummaryOptions {
  k6: K6Binary;
  /** The user's script, as given to the coordinator. */
  script: string;
  /** k6's legacy summary object built from the merged data (design.md §3). */
  data: unknown;
  /** -e/--env and other runtime flags the script's init code may depend on. */
  flags: readonly string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  stdout: (chunk: Buffer) => void;
  stderr: (chunk: Buffer) => void;
  /** Told when the wrapper cannot sit beside the script (see `wrapperDir`). */
  warn?: (message: string) => void;
  /**
   * Every VU's init code threw in the run: k6 still calls handleSummary() (with
   * no samples), and the wrapper's own VU hits the same error; k6 has logged it
   * once already, so the wrapper's log line of it is dropped.
   */
  initFailed?: boolean;
}

/**
 * How the user's handleSummary() went, as k6 would see it:
 * - `written`: it ran and k6 wrote what it returned (its stdout is passed on),
 *   or k6 refused it and logged why, as `k6 run` does; `exported` is false
 *   when k6 stopped it at handleSummaryTimeout: then, as in `k6 run`, no
 *   --summary-export file either;
 * - `default`: k6 would print its default text summary instead: the script
 *   exports no handleSummary(), or it returned nothing, or it threw (k6 has
 *   already logged the exception as `k6 run` does);
 * - `failed`: k6 could not even call it (the script's init code failed in
 *   the wrapper): nothing was written; `exitCode` and `description` say how
 *   k6 ended.
 */
export type HandleSummaryOutcome =
  | { status: 'written'; exitCode: number; exported: boolean }
  | { status: 'default'; threw: boolean }
  | { status: 'failed'; exitCode: number; description: string };

/** Flags of the user's that shape the script's init context; the rest are the run's. */
const INIT_FLAGS = new Set(['-e', '--env', '--compatibility-mode', '--include-system-env-vars']);

/** The key the wrapper sets on k6's own summary object when handleSummary() throws. */
const THREW_KEY = 'k6DistributedHandleSummaryThrew';

/**
 * Runs the user's handleSummary() once, in real k6, on the merged data: k6
 * runs a one-iteration wrapper that imports the script by file URL and hands
 * the merged object to the script's handleSummary. k6 then writes the
 * returned stdout, stderr and files exactly as it would at the end of a
 * standalone run, relative to `cwd`.
 *
 * The wrapper sits beside the script: k6 resolves `k6/experimental/fs`
 * `open()` paths against the entry script's folder (fs/module.go openImpl),
 * so only there do they find what they find in a `k6 run` of the script.
 * k6's stdout is held until the end: when k6 would print its default
 * summary, the wrapper run's own (one empty iteration) must not reach the
 * user, and the caller prints the merged one instead.
 */
export async function runHandleSummary(
  options: HandleSummaryOptions,
): Promise<HandleSummaryOutcome> {
  const dir = await mkdtemp(join(tmpdir(), 'k6-distributed-summary-'));
  const script = resolve(options.cwd ?? '.', options.script);
  const paths = {
    data: join(dir, 'data.json'),
    absent: join(dir, 'default-summary'),
    export: join(dir, 'k6-summary.json'),
  };
  let wrapper: string | undefined;
  try {
    await writeFile(paths.data, JSON.stringify(options.data));
    wrapper = await writeWrapper(script, dir, wrapperSource(script, paths), options.warn);
    const stdout: Buffer[] = [];
    const stderr = withoutWrapperFrames(basename(wrapper), options.stderr, {
      dropLine: options.initFailed ? isVuInitError : undefined,
    });
    const proc = await K6Process.start(options.k6.path, {
      args: [
        'run',
        '--quiet',
        '--no-thresholds',
        '--no-usage-report',
        '--summary-mode=compact',
        '--summary-export',
        paths.export,
        '--vus',
        '1',
        '--iterations',
        '1',
        ...initFlags(options.flags),
        wrapper,
      ],
      cwd: options.cwd,
      env: helperRunEnv(options.env),
      onStdoutData: (chunk) => stdout.push(chunk),
      onStderrData: stderr.data,
    });
    const exit = await proc.done;
    stderr.flush();
    const outcome = await outcomeOf(paths, exit.outcome);
    if (outcome.status === 'written') for (const chunk of stdout) options.stdout(chunk);
    return outcome;
  } finally {
    if (wrapper !== undefined && dirname(wrapper) !== dir) await rm(wrapper, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
}

async function outcomeOf(
  paths: { absent: string; export: string },
  k6: { exitCode: number; description: string },
): Promise<HandleSummaryOutcome> {
  if ((await readOrUndefined(paths.absent)) !== undefined) {
    return { status: 'default', threw: false };
  }
  const exported = await readOrUndefined(paths.export);
  if (exported?.includes(`"${THREW_KEY}"`)) return { status: 'default', threw: true };
  // No export file: k6 never reached the end-of-test step. k6 exits 0 when it
  // refused what handleSummary() returned, after logging why, as `k6 run` does.
  if (exported === undefined && k6.exitCode !== 0) {
    return { status: 'failed', exitCode: k6.exitCode, description: k6.description };
  }
  return { status: 'written', exitCode: k6.exitCode, exported: exported !== undefined };
}

/**
 * Writes the wrapper beside the script (a hidden, randomly named file that is
 * removed afterwards); where that folder is read-only, into `fallbackDir`,
 * with a warning that fs.open() paths then resolve from there.
 */
async function writeWrapper(
  script: string,
  fallbackDir: string,
  source: string,
  warn: ((message: string) => void) | undefined,
): Promise<string> {
  const name = `.k6-distributed-summary-${randomBytes(6).toString('hex')}.js`;
  const beside = join(dirname(script), name);
  try {
    await writeFile(beside, source, { flag: 'wx' });
    return beside;
  } catch (error) {
    warn?.(
      `cannot write handleSummary()'s wrapper beside ${script} (${(error as Error).message}); ` +
        'running it from a temporary folder, where relative k6/experimental/fs open() paths ' +
        'do not resolve as in the script. Make the script folder writable to fix this.',
    );
    const fallback = join(fallbackDir, name);
    await writeFile(fallback, source);
    return fallback;
  }
}

/**
 * The wrapper's handleSummary(): the user's, called on the merged data, under
 * the script's handleSummaryTimeout (k6 then logs the timeout and writes
 * nothing, as after `k6 run`). k6
 * prints its default summary when the user's returns nothing, or resolves to
 * nothing (`absent` marker), or throws: the wrapper then marks k6's own
 * summary object, which k6 writes to the --summary-export file, and rethrows
 * so that k6 logs the exception as `k6 run` does. A rejected promise is
 * passed on as it is: k6 logs it and prints nothing, in both runs.
 */
function wrapperSource(script: string, paths: { data: string; absent: string }): string {
  const absent = `{ ${JSON.stringify(paths.absent)}: '' }`;
  return [
    `import * as script from ${JSON.stringify(pathToFileURL(script).href)};`,
    `const data = JSON.parse(open(${JSON.stringify(paths.data)}));`,
    // The script's own limit on handleSummary(); K6_HANDLE_SUMMARY_TIMEOUT still overrides it.
    'const timeout = script.options && script.options.handleSummaryTimeout;',
    'export const options = timeout === undefined ? {} : { handleSummaryTimeout: timeout };',
    'export default function () {}',
    'export function handleSummary(own) {',
    `  if (typeof script.handleSummary !== 'function') return ${absent};`,
    `  const threw = (error) => { own.${THREW_KEY} = true; throw error; };`,
    '  let result;',
    '  try {',
    '    result = script.handleSummary(data);',
    '  } catch (error) {',
    '    threw(error);',
    '  }',
    `  if (!result) return ${absent};`,
    "  if (typeof result.then !== 'function') return result;",
    `  return result.then((value) => value || ${absent});`,
    '}',
    '',
  ].join('\n');
}

/**
 * k6's stack traces name the wrapper's frame below the user's: cut it, so
 * the logged exception reads as in `k6 run` of the script. Works on whole
 * lines (a log line never spans two); everything else passes byte for byte,
 * a last line without newline included (`flush`).
 */
function withoutWrapperFrames(
  wrapperName: string,
  write: (chunk: Buffer) => void,
  filter: { dropLine?: (line: string) => boolean } = {},
): { data: (chunk: Buffer) => void; flush: () => void } {
  const escaped = wrapperName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const frame = new RegExp(`\\\\n\\\\tat [^\\\\]*?${escaped}:\\d+:\\d+\\(\\d+\\)\\)`, 'g');
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const emit = (text: string) => {
    const kept = filter.dropLine
      ? text
          .split(/(?<=\n)/)
          .filter((line) => !filter.dropLine?.(line))
          .join('')
      : text;
    if (kept !== '') write(Buffer.from(kept.replace(frame, '')));
  };
  return {
    data: (chunk) => {
      pending += decoder.write(chunk);
      const end = pending.lastIndexOf('\n') + 1;
      emit(pending.slice(0, end));
      pending = pending.slice(end);
    },
    flush: () => {
      emit(pending + decoder.end());
      pending = '';
    },
  };
}

/** k6's log line of a VU whose init code threw (`hint="error while initializing VU #N …"`). */
function isVuInitError(line: string): boolean {
  return line.includes('hint="error while initializing VU #');
}

function initFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const token = flags[i] ?? '';
    const name = token.split('=')[0] ?? '';
    if (!INIT_FLAGS.has(name)) continue;
    out.push(token);
    const takesValue = !token.includes('=') && name !== '--include-system-env-vars';
    if (takesValue && i + 1 < flags.length) out.push(flags[++i] ?? '');
  }
  return out;
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}
