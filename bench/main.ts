/**
 * `npm run bench`: every benchmark of issue #7, end to end, side by side with
 * standalone k6 in the same run. Writes bench/results/latest.json and the
 * generated block of BENCHMARKS.md (with --write).
 *
 *   node .bench-build/bench/main.js [--quick] [--write] [name ...]
 *
 * Names: overhead longrun skew histogram scale abort (default: all).
 * --quick: short durations, one repetition: checks the benchmarks work, measures nothing.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { provisionK6 } from '../src/k6/provision.js';
import { streamLogger } from '../src/runtime/logger.js';
import { abortReaction } from './abort.js';
import { histogram } from './histogram.js';
import { createContext, REPO_ROOT, type BenchContext } from './lib/context.js';
import { machine } from './lib/machine.js';
import { killAll } from './lib/proc.js';
import { log } from './lib/util.js';
import { longRun } from './longrun.js';
import {
  BENCH_NAMES,
  renderMarkdown,
  replaceBlock,
  type BenchName,
  type BenchResults,
} from './report.js';
import { scale } from './scale.js';
import { overhead } from './overhead.js';
import { startSkew } from './skew.js';

const BENCHES = {
  overhead,
  longrun: longRun,
  skew: startSkew,
  histogram,
  scale,
  abort: abortReaction,
} satisfies Record<BenchName, (ctx: BenchContext) => Promise<unknown>>;

/** The previous results, so a partial rerun keeps the other benchmarks' numbers. */
async function previous(file: string): Promise<Partial<BenchResults>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Partial<BenchResults>;
  } catch {
    return {};
  }
}

async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const write = argv.includes('--write');
  const out = argv.find((a) => a.startsWith('--out='))?.slice(6);
  const names = argv.filter((a) => !a.startsWith('--'));
  for (const name of names) {
    if (!(name in BENCHES)) {
      throw new Error(
        `unknown benchmark "${name}": choose from ${Object.keys(BENCHES).join(', ')}`,
      );
    }
  }
  const selected = (names.length ? names : BENCH_NAMES) as BenchName[];
  const file = out ?? join(REPO_ROOT, 'bench/results', quick ? 'quick.json' : 'latest.json');
  const k6 = await provisionK6({ env: process.env, log: streamLogger(process.stderr) });
  const { context, dispose } = await createContext(k6.path, k6.version, quick);
  const old = quick ? {} : await previous(file);
  const results: BenchResults = {
    ...old,
    date: new Date().toISOString(),
    quick,
    machine: await machine(k6.version),
    measured: { ...old.measured },
  };
  try {
    for (const name of selected) {
      log(`==> ${name}`);
      const started = Date.now();
      Object.assign(results, { [name]: await BENCHES[name](context) });
      results.measured[name] = { date: results.date, commit: results.machine.commit };
      log(`    ${name} took ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  } finally {
    killAll();
    await dispose();
  }
  const json = `${JSON.stringify(results, null, 2)}\n`;
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, json);
  log(`results: ${file}`);
  const markdown = renderMarkdown(results);
  process.stdout.write(markdown);
  if (write) {
    if (quick) throw new Error('--write with --quick: a smoke run does not replace measurements');
    const md = join(REPO_ROOT, 'BENCHMARKS.md');
    await writeFile(md, replaceBlock(await readFile(md, 'utf8'), markdown));
    log(`rewrote the generated block of ${md}`);
  }
}

process.once('SIGINT', () => {
  killAll();
  process.exit(130);
});

main(process.argv.slice(2)).catch((error: unknown) => {
  killAll();
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
