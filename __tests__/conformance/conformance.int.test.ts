/**
 * The differential conformance suite (issue 16): every case of cases.ts runs
 * with standalone `k6 run` and with `run --agents 3`, and every difference is
 * a failure, printed as a table. README.md beside this file describes the
 * corpus and the tolerances.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

import { EXAMPLE_CASES, OWN_CASES, SKIPPED_EXAMPLES, type ConformanceCase } from './cases.js';
import { compare, formatTable } from './compare.js';
import { k6ExamplesDir, observe, prepareCorpus, type Corpus, type Observation } from './runner.js';

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

/** Cases whose k6-vs-k6 comparison shows that the tolerances cover k6's own spread. */
const SELF_CHECKED = [
  'executor constant-vus',
  'executor ramping-arrival-rate',
  'abortOnFail with delayAbortEval',
  'groups and checks, --summary-mode=full',
  'handleSummary() data, every metric kind, a failing threshold',
];

describe('the comparer', () => {
  const byName = (name: string): ConformanceCase => {
    const found = OWN_CASES.find((c) => c.name === name);
    if (!found) throw new Error(`no case named ${name}`);
    return found;
  };

  it.each(SELF_CHECKED)(
    'finds no difference between two standalone k6 runs of %s',
    async (name) => {
      const c = byName(name);
      const first = await observe('k6', c, corpus);
      const second = await observe('k6', c, corpus);
      expect(formatTable(name, compare(first, second, c))).toBe(formatTable(name, []));
    },
    CASE_TIMEOUT_MS,
  );

  it('finds a changed exit code, count, check, verdict, summary line and duration', async () => {
    const c = byName('handleSummary() data, every metric kind, a failing threshold');
    const k6 = await observe('k6', c, corpus);
    const changed = structuredClone(k6);
    const data = changed.handleSummary as {
      metrics: Record<string, { values: Record<string, number>; thresholds?: unknown }>;
      root_group: { groups: { checks: { passes: number }[] }[] };
      state: { testRunDurationMs: number };
    };
    changed.exitCode = 0;
    changed.stdout += '\n  █ THRESHOLDS\n';
    data.metrics.orders = { ...data.metrics.orders, values: { count: 14, rate: 1 } };
    delete data.metrics.paid?.thresholds;
    (data.root_group.groups[0]?.checks[0] ?? { passes: 0 }).passes += 1;
    data.state.testRunDurationMs += 1000;
    expect(
      compare(k6, changed, c)
        .map((d) => d.what)
        .sort(),
    ).toEqual(
      [
        'exit code',
        'summary: shown by one only',
        'handleSummary() metrics › orders › values › count',
        'handleSummary() metrics › paid › thresholds',
        'handleSummary() root_group › groups › order › checks › order accepted › passes',
        'testRunDurationMs',
      ].sort(),
    );
  });

  it('lets vus and vus_max differ by one last tick only when a run ends within 150 ms of a whole second', async () => {
    const c = byName('handleSummary() data, every metric kind, a failing threshold');
    const k6 = await observe('k6', c, corpus);
    const what = (a: Observation, b: Observation) => compare(a, b, c).map((d) => d.what);
    const one = { value: 1, min: 1, max: 1 };

    // k6 took its one tick at 1.04 s; a run without it is k6 on another day.
    expect(what(withGauges(k6, 1040, one), withGauges(k6, 1040, undefined))).toEqual([]);
    // One more tick: its value is the gauge's, its min and max take it in.
    const before = { value: 2, min: 1, max: 2 };
    expect(
      what(withGauges(k6, 2960, before), withGauges(k6, 2960, { value: 3, min: 1, max: 3 })),
    ).toEqual([]);
    // Not what one more tick can make: a min below every value the other run saw.
    expect(
      what(withGauges(k6, 2960, before), withGauges(k6, 2960, { value: 2, min: 0, max: 2 })),
    ).toEqual(expect.arrayContaining(['--summary-export metrics › vus › min']));
    // Far from a whole second, every tick is certain: any difference is one.
    expect(what(withGauges(k6, 1500, one), withGauges(k6, 1500, undefined))).toEqual(
      expect.arrayContaining(['--summary-export metrics › vus', 'handleSummary() metrics › vus']),
    );
  });

  it('issue 18.2: finds checks listed in another order', async () => {
    const c = byName('groups and checks, --summary-mode=full');
    const k6 = await observe('k6', c, corpus);
    const lines = k6.stdout.split('\n');
    const check = (l: string | undefined) => /^\s+[✓✗] /.test(l ?? '');
    const first = lines.findIndex((l, i) => check(l) && check(lines[i + 1]));
    expect(first).toBeGreaterThanOrEqual(0);
    const swapped = [...lines];
    [swapped[first], swapped[first + 1]] = [lines[first + 1] ?? '', lines[first] ?? ''];
    const changed = { ...k6, stdout: swapped.join('\n') };
    expect(compare(k6, changed, c).map((d) => d.what)).toEqual([
      expect.stringMatching(/^summary: order at item \d+$/),
    ]);
  });
});

describe('the corpus', () => {
  it('points every script it runs at go-httpbin: no case reaches the internet', async () => {
    const entries = await readdir(corpus.dir, { recursive: true, withFileTypes: true });
    const remote = /(?:httpbin\.org|quickpizza\.grafana\.com|localhost:8080|httpbin\.test)/;
    const scripts = entries.filter((e) => e.isFile() && /\.(js|ts)$/.test(e.name));
    const offenders: string[] = [];
    for (const e of scripts) {
      const source = await readFile(join(e.parentPath, e.name), 'utf8');
      if (remote.test(source)) offenders.push(relative(corpus.dir, join(e.parentPath, e.name)));
    }
    expect(scripts.length).toBeGreaterThan(50);
    const skipped = (f: string) =>
      Object.keys(SKIPPED_EXAMPLES).some((prefix) => f.startsWith(`examples/${prefix}`));
    expect(offenders.filter((f) => !skipped(f))).toEqual([]);
  });

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

/** `o` with its duration set and its vus and vus_max figures set (or gone, with their summary lines). */
function withGauges(
  o: Observation,
  durationMs: number,
  figures: { value: number; min: number; max: number } | undefined,
): Observation {
  const out = structuredClone(o);
  const exported = out.summaryExport as { metrics: Record<string, unknown> };
  const data = out.handleSummary as {
    metrics: Record<string, unknown>;
    state: { testRunDurationMs: number };
  };
  data.state.testRunDurationMs = durationMs;
  for (const gauge of ['vus', 'vus_max']) {
    if (figures) {
      exported.metrics[gauge] = { ...figures };
      data.metrics[gauge] = { type: 'gauge', contains: 'default', values: { ...figures } };
    } else {
      const without = (m: Record<string, unknown>) =>
        Object.fromEntries(Object.entries(m).filter(([name]) => name !== gauge));
      exported.metrics = without(exported.metrics);
      data.metrics = without(data.metrics);
    }
  }
  if (!figures) {
    out.stdout = out.stdout
      .split('\n')
      .filter((line) => !/^\s+vus(_max)?\.{2,}/.test(line))
      .join('\n');
  }
  return out;
}
