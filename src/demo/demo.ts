import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { K6Binary } from '../k6/binary.js';
import { runLocal, type LocalRunResult } from '../local/run-local.js';
import type { Logger } from '../runtime/logger.js';
import { DEMO_EXPECTED_ITERATIONS, DEMO_SCRIPT } from './script.js';
import { DemoTarget } from './target.js';

export interface DemoResult extends LocalRunResult {
  counts: ReadonlyMap<string, number>;
}

/**
 * `npm run demo`: the embedded example script, split over N local agents
 * against a built-in loopback target. Nothing leaves this machine.
 */
export async function runDemo(options: {
  k6: K6Binary;
  agents: number;
  workDir: string;
  /** k6's environment (the demo's target comes in with -e). */
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
}): Promise<DemoResult> {
  const script = join(options.workDir, 'demo.js');
  await writeFile(script, DEMO_SCRIPT);
  const target = await DemoTarget.start();
  try {
    options.log.info(`demo target listening on ${target.url}`);
    const result = await runLocal({
      ...options,
      script,
      flags: ['-e', `TARGET=${target.url}`],
    });
    return { ...result, counts: new Map(target.counts) };
  } finally {
    await target.close();
  }
}

/** What the target saw, next to what one standalone k6 would have made it see. */
export function renderDemoTotals(counts: ReadonlyMap<string, number>): string {
  const get = (path: string) => counts.get(path) ?? 0;
  return [
    '  █ WHAT THE TARGET COUNTED',
    '',
    `    setup() calls     ${String(get('/setup'))}  (standalone k6: 1)`,
    `    iterations        ${String(get('/iteration'))}  (standalone k6: ${String(DEMO_EXPECTED_ITERATIONS)})`,
    `    teardown() calls  ${String(get('/teardown'))}  (standalone k6: 1)`,
    '',
  ].join('\n');
}
