/** What every benchmark gets: the k6 and CLI under test, a work directory, the mode. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchContext {
  k6: string;
  k6Version: string;
  /** The shipped CLI bundle (dist/cli/index.js): what users run. */
  cli: string;
  workDir: string;
  /** Short durations and few repetitions: a smoke run, not a measurement. */
  quick: boolean;
  /** Environment for k6 and the CLI: nothing from the caller's shell leaks in. */
  env: NodeJS.ProcessEnv;
  script(name: string, source: string): Promise<string>;
}

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export async function createContext(k6: string, k6Version: string, quick: boolean) {
  const workDir = await mkdtemp(join(tmpdir(), 'k6d-bench-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: workDir,
    K6_PATH: k6,
    K6_NO_USAGE_REPORT: 'true',
    K6_NO_COLOR: 'true',
  };
  const context: BenchContext = {
    k6,
    k6Version,
    cli: join(REPO_ROOT, 'dist/cli/index.js'),
    workDir,
    quick,
    env,
    async script(name, source) {
      const path = join(workDir, name);
      await writeFile(path, source);
      return path;
    },
  };
  return { context, dispose: () => rm(workDir, { recursive: true, force: true }) };
}
