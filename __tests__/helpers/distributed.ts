import { runLocal, type LocalRunOptions, type LocalRunResult } from '../../src/local/run-local.js';
import type { Logger } from '../../src/runtime/logger.js';
import { tempDir } from './fs.js';
import { testK6Path } from './k6.js';

/** Every log line of a run, for assertions on what the user was told. */
export class CapturingLogger implements Logger {
  readonly lines: string[] = [];
  debug(m: string): void {
    this.lines.push(`debug: ${m}`);
  }
  info(m: string): void {
    this.lines.push(m);
  }
  warning(m: string): void {
    this.lines.push(`warning: ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error: ${m}`);
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export type DistributedRunOptions = Partial<Omit<LocalRunOptions, 'log' | 'k6' | 'script'>> & {
  script: string;
  log?: CapturingLogger;
};

/** The embedded local run (coordinator + agents over real HTTP, real k6), as the CLI runs it. */
export async function runDistributed(
  options: DistributedRunOptions,
): Promise<LocalRunResult & { log: CapturingLogger }> {
  const log = options.log ?? new CapturingLogger();
  const result = await runLocal({
    agents: 3,
    flags: [],
    startLeadMs: 300,
    // The product's default, k6's cloud output (issue 18); K6_DISTRIBUTED_TRANSPORT=json runs
    // the engine tests on the JSON stream instead.
    transport: process.env.K6_DISTRIBUTED_TRANSPORT === 'json' ? 'json' : 'cloud',
    workDir: await tempDir(),
    ...options,
    k6: { path: testK6Path(), version: '2.2.0' },
    env: { ...process.env, K6_NO_COLOR: 'true', ...options.env },
    log,
  });
  return { ...result, log };
}
