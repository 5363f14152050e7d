/**
 * Issue 16 items 5-8 on real k6: the end-of-test summary, handleSummary()
 * data and thresholds of a 3-agent run side by side with a standalone
 * `k6 run` of the same script.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { endOfTest } from '../../src/coordinator/end-of-test.js';
import { parseRunFlags } from '../../src/k6/run-flags.js';
import { renderTextSummary } from '../../src/summary/text.js';
import { CapturingLogger, runDistributed } from '../helpers/distributed.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript, startK6, testK6Path } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

interface Outputs {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function vars(values: Record<string, string>): string[] {
  return Object.entries(values).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
}

/** One standalone k6 on the script: the reference. */
async function standalone(script: string, flags: readonly string[]): Promise<Outputs> {
  const k6 = await startK6(['run', '--quiet', '--no-color', ...flags, fixtureScript(script)]);
  const exit = await k6.proc.done;
  return {
    exitCode: exit.outcome.exitCode,
    stdout: k6.stdout.join('\n'),
    stderr: k6.stderr.join('\n'),
  };
}

async function distributed(script: string, flags: readonly string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const run = await runDistributed({
    script: fixtureScript(script),
    flags: ['--quiet', '--no-color', ...flags],
    output: {
      stdout: (chunk) => out.push(String(chunk)),
      stderr: (chunk) => err.push(String(chunk)),
      isTTY: false,
    },
  });
  return { ...run, stdout: out.join(''), stderr: err.join('') };
}

/**
 * A summary's lines with numbers and time units masked (they vary run to run).
 * Whether a sub-second run shows vus and vus_max is issue 16.11's, not compared here.
 */
function shape(summary: string): string[] {
  return summary
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\s*vus(_max)?\.\./.test(line))
    .map((line) =>
      line
        .replace(/\.{2,}/g, '…')
        .replace(/\s+/g, ' ')
        .replace(/\d+(\.\d+)?/g, 'N')
        .replace(/N(ns|µs|ms|s)(?![\w/])/g, 'N<time>')
        .trim(),
    );
}

/** The message of k6's first error-level log line (logfmt), without its timestamp. */
function errorLine(stderr: string): string | undefined {
  return stderr
    .split('\n')
    .find((line) => line.includes('level=error'))
    ?.replace(/^time="[^"]*" /, '');
}

describe('issue 16.7: a handleSummary() that throws (real k6, 3 agents)', () => {
  it.each([
    [
      'throws: prints the default summary of the real run',
      'false',
      'Error: handleSummary failed on purpose',
    ],
    [
      'rejects (async): prints nothing, as k6',
      'true',
      'Uncaught (in promise) Error: handleSummary rejected on purpose',
    ],
  ])(
    'issue 16.7: one that %s; logs the error as k6 does; keeps the exit code',
    async (_, async, message) => {
      const target = await TargetServer.start();
      const flags = vars({ TARGET: target.url, ASYNC: async });
      const [reference, run] = await Promise.all([
        standalone('issue16/summary-throws.js', flags),
        distributed('issue16/summary-throws.js', flags),
      ]);

      expect(reference.exitCode).toBe(99);
      expect(run.exitCode).toBe(99);
      expect(shape(run.stdout)).toEqual(shape(reference.stdout));
      const lines = [
        "✓ 'count==12' count=12",
        "✗ 'count<12' count=12",
        'http_reqs......................: 12',
        'iterations.....................: 12',
        'HTTP',
      ];
      if (async === 'true') expect(reference.stdout).toBe('');
      else for (const line of lines) expect(reference.stdout).toContain(line);
      for (const line of lines) expect(run.stdout.includes(line)).toBe(async === 'false');
      const exception = errorLine(reference.stderr);
      expect(exception?.startsWith(`level=error msg="${message}\\n\\tat `)).toBe(true);
      expect(errorLine(run.stderr)).toBe(exception);
      expect(run.stderr).not.toContain('k6-distributed-summary');
    },
  );
});

describe('issue 16.8: k6/experimental/fs in the end-of-test step (real k6, 3 agents)', () => {
  it('issue 16.8: fs.open() and csv paths resolve as in the script; handleSummary output as standalone', async () => {
    const [reference, run] = await Promise.all([
      standalone('issue16/fs-open/fs-open.js', []),
      distributed('issue16/fs-open/fs-open.js', []),
    ]);

    expect(reference.exitCode).toBe(0);
    expect(reference.stdout).toBe('fs-open saw 2 iterations, hello');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe('fs-open saw 2 iterations, hello\n');
    expect(run.log.text()).not.toContain('failed to handle the end-of-test summary');
  });

  it('issue 16.8: when handleSummary() cannot run at all, the merged summary is printed and the exit code stays', async () => {
    const run = await distributed('issue16/fs-open/fs-open.js', ['--summary-mode=disabled']);
    expect(run.exitCode).toBe(0);
    const dir = await tempDir();
    const out: string[] = [];
    const log = new CapturingLogger();
    const flags = parseRunFlags(['--summary-export', join(dir, 'export.json')], {});
    // The init code throws in the end-of-test step only: what `k6 run` can never meet.
    await endOfTest({
      k6: { path: testK6Path(), version: '2.2.0' },
      script: fixtureScript('issue16/fs-open/fs-open.js'),
      flags,
      source: run.summary,
      result: run,
      env: { ...process.env, FAIL_INIT: 'true', K6_NO_COLOR: 'true' },
      stdout: (chunk) => out.push(String(chunk)),
      stderr: () => undefined,
      enableColors: false,
      log,
    });

    expect(out.join('')).toBe(
      renderTextSummary(run.summary, { mode: 'compact', enableColors: false }),
    );
    expect(out.join('')).toContain("✓ 'count==2' count=2");
    expect(log.text()).toMatch(
      /error: failed to handle the end-of-test summary: k6 could not run handleSummary\(\) \(.*exit code 107/,
    );
    const exported = JSON.parse(await readFile(join(dir, 'export.json'), 'utf8')) as {
      metrics: { iterations: { count: number } };
    };
    expect(exported.metrics.iterations.count).toBe(2);
  });
});

interface SummaryData {
  metrics: Record<string, { type: string; contains: string; values: Record<string, number> }>;
}

async function summaryData(
  script: string,
  flags: readonly string[],
): Promise<
  [Outputs & { data: SummaryData }, Awaited<ReturnType<typeof distributed>> & { data: SummaryData }]
> {
  const dir = await tempDir();
  const files = [join(dir, 'standalone.json'), join(dir, 'distributed.json')];
  const [reference, run] = await Promise.all([
    standalone(script, [...flags, ...vars({ SUMMARY_FILE: files[0] ?? '' })]),
    distributed(script, [...flags, ...vars({ SUMMARY_FILE: files[1] ?? '' })]),
  ]);
  const read = async (file: string | undefined) =>
    JSON.parse(await readFile(file ?? '', 'utf8')) as SummaryData;
  return [
    { ...reference, data: await read(files[0]) },
    { ...run, data: await read(files[1]) },
  ];
}

describe('issue 16.8: the end-of-test step ignores k6 run options meant for the test', () => {
  it('issue 16.8: K6_LINGER, K6_PAUSED, K6_ADDRESS and K6_OUT in the environment neither hang nor redirect it', async () => {
    const run = await distributed('issue16/fs-open/fs-open.js', ['--summary-mode=disabled']);
    const dir = await tempDir();
    const out: string[] = [];
    const log = new CapturingLogger();
    await endOfTest({
      k6: { path: testK6Path(), version: '2.2.0' },
      script: fixtureScript('issue16/fs-open/fs-open.js'),
      flags: parseRunFlags([], {}),
      source: run.summary,
      result: run,
      env: {
        ...process.env,
        K6_LINGER: 'true',
        K6_PAUSED: 'true',
        K6_ADDRESS: '127.0.0.1:1',
        K6_OUT: `json=${join(dir, 'samples.json')}`,
      },
      stdout: (chunk) => out.push(String(chunk)),
      stderr: () => undefined,
      enableColors: false,
      log,
    });

    expect(out.join('')).toBe('fs-open saw 2 iterations, hello\n');
    expect(log.text()).toBe('');
    await expect(readFile(join(dir, 'samples.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('issue 16.6: a trend of few distinct values (real k6, 3 agents)', () => {
  it("issue 16.6: samples 128, 256 and 512 give k6's exact percentiles; med==256 passes as in k6", async () => {
    const [reference, run] = await summaryData('issue16/discrete-trend.js', []);

    expect(reference.exitCode).toBe(0);
    expect(run.exitCode).toBe(0);
    expect(reference.data.metrics.batch_size?.values.med).toBe(256);
    expect(run.data.metrics.batch_size).toEqual(reference.data.metrics.batch_size);
  });

  it('issue 16.6: past 256 distinct values every stat stays within 0.5 % of k6', async () => {
    const values = Array.from({ length: 300 }, (_, i) => (i * 7.3 + 1) ** 1.5);
    const [reference, run] = await summaryData('issue16/discrete-trend.js', [
      ...vars({ VALUES: values.join(','), THRESHOLDS: '{}' }),
    ]);

    expect(run.exitCode).toBe(reference.exitCode);
    const want = reference.data.metrics.batch_size?.values ?? {};
    const got = run.data.metrics.batch_size?.values ?? {};
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [stat, value] of Object.entries(want)) {
      expect(Math.abs((got[stat] ?? NaN) - value)).toBeLessThanOrEqual(0.005 * Math.abs(value));
    }
    for (const exact of ['min', 'max', 'count']) expect(got[exact]).toBe(want[exact]);
  });
});

describe('issue 16.5: metrics that never got a sample (real k6, 3 agents)', () => {
  /** k6 shows vus and vus_max per its own timing rules (issue 16.11): not compared here. */
  const keys = (data: SummaryData) =>
    Object.keys(data.metrics)
      .filter((k) => k !== 'vus' && k !== 'vus_max')
      .sort();
  const UNSAMPLED = [
    'http_req_duration',
    'errors',
    'payload_time',
    'payload_time{kind:big}',
    'retry_rate',
    'queue_depth',
  ];

  it("issue 16.5: handleSummary() data lists the thresholds' unsampled metrics with k6's values and verdicts; avg>0 fails with 99", async () => {
    const [reference, run] = await summaryData('issue16/unsampled.js', []);

    expect(reference.exitCode).toBe(99);
    expect(run.exitCode).toBe(99);
    expect(run.message).toBe("thresholds on metrics 'payload_time' have been crossed");
    expect(keys(run.data)).toEqual(keys(reference.data));
    expect(keys(reference.data)).toEqual(expect.arrayContaining(UNSAMPLED));
    expect(keys(reference.data)).not.toContain('never_used');
    for (const name of UNSAMPLED)
      expect(run.data.metrics[name]).toEqual(reference.data.metrics[name]);
  });

  it('issue 16.5: the default summary shows them and their thresholds as k6 does', async () => {
    const [reference, run] = await Promise.all([
      standalone('issue16/unsampled.js', []),
      distributed('issue16/unsampled.js', []),
    ]);

    expect(run.exitCode).toBe(reference.exitCode);
    const lines = (text: string) =>
      shape(text).filter((l) => /errors|payload_time|retry_rate|queue_depth|'/.test(l));
    expect(lines(run.stdout)).toEqual(lines(reference.stdout));
    for (const line of ["✗ 'avg>0' avg=0s", "✓ 'count<1' count=0", 'payload_time']) {
      expect(reference.stdout).toContain(line);
    }
  });

  it('issue 16.5: with --no-thresholds k6 shows none of them, and neither does the run', async () => {
    const [reference, run] = await summaryData('issue16/unsampled.js', ['--no-thresholds']);

    expect(reference.exitCode).toBe(0);
    expect(run.exitCode).toBe(0);
    expect(keys(run.data)).toEqual(keys(reference.data));
    expect(keys(reference.data)).not.toContain('errors');
    expect(keys(reference.data)).not.toContain('http_req_duration');
  });
});
