/**
 * The differential conformance suite (issue 16): every case of cases.ts runs
 * with standalone `k6 run` and with `run --agents 3`, and every difference is
 * a failure, printed as a table. README.md beside this file describes the
 * corpus and the tolerances.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdir } from 'node:fs/promises';
import { relative } from 'node:path';

import { EXAMPLE_CASES, OWN_CASES, SKIPPED_EXAMPLES, type ConformanceCase } from './cases.js';
import { compare, formatTable } from './compare.js';
import { k6ExamplesDir, observe, prepareCorpus, type Corpus } from './runner.js';

/** CONFORMANCE_ALL=1 also runs the cases that wait for a fix, to see how they differ today. */
const RUN_KNOWN = process.env.CONFORMANCE_ALL === '1';
const CASE_TIMEOUT_MS = 120_000;

let corpus: Corpus;
beforeAll(async () => {
  corpus = await prepareCorpus();
}, 60_000);
afterAll(async () => {
  // Unset when beforeAll failed (e.g. no go-httpbin): its error is the one to read.
  await (corpus as Corpus | undefined)?.close();
});

function caseTest(c: ConformanceCase): void {
  const known = c.knownDifferences ?? [];
  const skip = known.length > 0 && !RUN_KNOWN;
  const title = known.length > 0 ? `${c.name} [known difference: ${known.join(', ')}]` : c.name;
  (skip ? it.skip : it)(
    title,
    async () => {
      const k6 = await observe('k6', c, corpus);
      if (c.k6Exit !== undefined) {
        expect(`standalone k6 exited ${k6.exitCode}\n${k6.stderr}`).toMatch(
          new RegExp(`^standalone k6 exited ${c.k6Exit}\n`),
        );
      }
      const agents = await observe('agents', c, corpus);
      const differences = compare(k6, agents, c);
      const table = formatTable(c.name, differences);
      const tail = agents.stderr.trimEnd().split('\n').slice(-12).join('\n');
      expect(
        differences.length > 0 ? `${table}\n\nthe distributed run's last lines:\n${tail}` : '',
      ).toBe('');
    },
    CASE_TIMEOUT_MS,
  );
}

describe('conformance with k6 run: k6’s own examples against go-httpbin', () => {
  EXAMPLE_CASES.forEach(caseTest);
});

describe('conformance with k6 run: our scripts (issue 16 items, executors, k6 habits)', () => {
  OWN_CASES.forEach(caseTest);
});

describe('the corpus', () => {
  it('runs every example script of k6 or names why not', async () => {
    const dir = await k6ExamplesDir();
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    const scripts = entries
      .filter((e) => e.isFile() && /\.(js|ts)$/.test(e.name))
      .map((e) => relative(dir, `${e.parentPath}/${e.name}`));
    const run = new Set(EXAMPLE_CASES.map((c) => c.script.replace(/^examples\//, '')));
    const unaccounted = scripts.filter(
      (s) => !run.has(s) && !Object.keys(SKIPPED_EXAMPLES).some((prefix) => s.startsWith(prefix)),
    );
    expect(unaccounted).toEqual([]);
  });
});
