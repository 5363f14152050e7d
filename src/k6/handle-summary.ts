import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { K6Binary } from './binary.js';
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
  env?: NodeJS.ProcessEnv;
  stdout: (chunk: Buffer) => void;
  stderr: (chunk: Buffer) => void;
}

export type HandleSummaryOutcome =
  | { ran: true; exitCode: number }
  /** The script exports no handleSummary(): print the default text summary. */
  | { ran: false };

/** Flags of the user's that shape the script's init context; the rest are the run's. */
const INIT_FLAGS = new Set(['-e', '--env', '--compatibility-mode', '--include-system-env-vars']);

/**
 * Runs the user's handleSummary() once, in real k6, on the merged data: k6
 * runs a one-iteration wrapper that imports the script by file URL (its own
 * imports and open() calls resolve as usual) and hands the merged object to
 * the script's handleSummary. k6 then writes the returned stdout, stderr and
 * files exactly as it would at the end of a standalone run, relative to `cwd`.
 */
export async function runHandleSummary(
  options: HandleSummaryOptions,
): Promise<HandleSummaryOutcome> {
  const dir = await mkdtemp(join(tmpdir(), 'k6-distributed-summary-'));
  try {
    const dataPath = join(dir, 'data.json');
    const absent = join(dir, 'no-handle-summary');
    const wrapper = join(dir, 'wrapper.js');
    await writeFile(dataPath, JSON.stringify(options.data));
    await writeFile(
      wrapper,
      wrapperSource(resolve(options.cwd ?? '.', options.script), dataPath, absent),
    );
    const proc = await K6Process.start(options.k6.path, {
      args: [
        'run',
        '--quiet',
        '--no-thresholds',
        '--no-usage-report',
        '--summary-mode=compact',
        '--vus',
        '1',
        '--iterations',
        '1',
        ...initFlags(options.flags),
        wrapper,
      ],
      cwd: options.cwd,
      env: options.env,
      onStdoutData: options.stdout,
      onStderrData: options.stderr,
    });
    const exit = await proc.done;
    if (await exists(absent)) return { ran: false };
    return { ran: true, exitCode: exit.outcome.exitCode };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function wrapperSource(script: string, dataPath: string, absent: string): string {
  return [
    `import * as script from ${JSON.stringify(pathToFileURL(script).href)};`,
    `const data = JSON.parse(open(${JSON.stringify(dataPath)}));`,
    'export default function () {}',
    'export function handleSummary() {',
    `  if (typeof script.handleSummary !== 'function') return { ${JSON.stringify(absent)}: '' };`,
    '  return script.handleSummary(data);',
    '}',
    '',
  ].join('\n');
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

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
