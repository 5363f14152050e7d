import { freeLoopbackAddress } from './address.js';
import type { K6Binary } from './binary.js';
import { helperRunEnv } from './helper-env.js';
import { K6Process } from './process.js';

export interface PreambleOptions {
  k6: K6Binary;
  /** The test's archive (`k6 archive` output). */
  archivePath: string;
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

const EXECUTION = /^ {5}execution: /;
const SCENARIO = /^ {14}\* /;

/**
 * k6's own execution plan for the whole test, as `k6 run` prints it before
 * its VUs start (issue 20.5):
 *
 *          execution: local
 *             script: script.js
 *             output: -
 *
 *          scenarios: (100.00%) 1 scenario, 10 max VUs, 40s max duration (incl. graceful stop):
 *                   * default: 10 looping VUs for 10s (gracefulStop: 30s)
 *
 * Read from a paused `k6 run` of the archive with no execution segment,
 * stopped as soon as it printed the plan: k6 prints it before it
 * initialises the test's VUs (internal/cmd/run.go), so no VU beyond the one
 * that reads the options is ever made, and no iteration runs. The lines are
 * k6's, every executor's wording included; undefined when k6 printed none
 * (it failed, or took longer than `timeoutMs`).
 */
export async function k6Preamble(options: PreambleOptions): Promise<string[] | undefined> {
  const lines: string[] = [];
  const read: { seen: 'nothing' | 'execution' | 'scenarios' | 'done' } = { seen: 'nothing' };
  let done = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const onLine = (line: string) => {
    if (read.seen === 'nothing' && EXECUTION.test(line)) read.seen = 'execution';
    if (read.seen === 'nothing' || read.seen === 'done') return;
    if (read.seen === 'scenarios' && !SCENARIO.test(line)) {
      read.seen = 'done';
      done();
      return;
    }
    if (line.startsWith('     scenarios: ')) read.seen = 'scenarios';
    lines.push(line);
  };
  const proc = await K6Process.start(options.k6.path, {
    args: [
      'run',
      '--paused',
      '--address',
      await freeLoopbackAddress(),
      '--no-setup',
      '--no-teardown',
      '--no-thresholds',
      '--summary-mode=disabled',
      '--no-usage-report',
      '--log-output=none',
      options.archivePath,
    ],
    env: { ...helperRunEnv(options.env), K6_NO_COLOR: 'true' },
    cwd: options.cwd,
    onStdoutLine: onLine,
  });
  const timeout = setTimeout(done, options.timeoutMs ?? 30_000);
  try {
    await Promise.race([finished, proc.done]);
  } finally {
    clearTimeout(timeout);
    await proc.stop({ signal: 'SIGKILL', graceMs: 0 });
  }
  return read.seen === 'done' ? lines : undefined;
}

/**
 * k6's plan as this run carries it out: the same lines, but executed by
 * `agents` k6 processes from the user's script (k6 saw the archive).
 */
export function distributedPreamble(
  lines: readonly string[],
  { script, agents, outputs }: { script: string; agents: number; outputs?: string },
): string {
  const ours = lines.map((line) => {
    if (EXECUTION.test(line)) return `     execution: distributed, ${String(agents)} agents`;
    if (line.startsWith('        script: ')) return `        script: ${script}`;
    if (outputs && line.startsWith('        output: ')) return `        output: ${outputs}`;
    return line;
  });
  return `\n${ours.join('\n')}\n\n`;
}
