/**
 * The threshold parser accepts and rejects exactly what k6 does: each
 * expression (and submetric key) is archived by the real k6 (`k6 archive`
 * validates thresholds, exit 104 with its message) and parsed by ours.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { errorMessage } from '../../src/errors.js';
import { parseThresholdsOption } from '../../src/thresholds/config.js';
import { validateForType } from '../../src/thresholds/parse.js';
import { tempDir } from '../helpers/fs.js';
import { testK6Path } from '../helpers/k6.js';

const EXPRESSIONS: Array<[metric: string, expression: string]> = [
  // Accepted by k6.
  ['http_req_duration', 'p(95)<200'],
  ['http_req_duration', ' p(95) < 200 '],
  ['http_req_duration', 'p(99.9)>=1e3'],
  ['http_req_duration', 'p(0)<1'],
  ['http_req_duration', 'p(100)<=1'],
  ['http_req_duration', 'avg <= 1.5'],
  ['http_req_duration', 'med===2'],
  ['http_req_duration', 'max!=-3'],
  ['http_req_duration', 'min>.5'],
  ['http_req_duration', 'avg<+Inf'],
  ['http_req_duration', 'avg<1_000'],
  ['http_req_duration', 'avg<1_0.5e1_0'],
  ['http_req_duration', 'avg<0x1p-2'],
  ['http_req_duration', 'avg<1.'],
  ['http_req_failed', 'rate==0'],
  ['http_reqs', 'count!=1'],
  ['http_reqs', 'rate>1E-3'],
  ['vus', 'value<100'],
  // Refused by k6.
  ['http_req_duration', 'p95<1'],
  ['http_req_duration', 'p()<1'],
  ['http_req_duration', 'p(101)<1'],
  ['http_req_duration', 'p(-1)<1'],
  ['http_req_duration', 'p(abc)<1'],
  ['http_req_duration', 'avg<'],
  ['http_req_duration', '<5'],
  ['http_req_duration', 'avg<abc'],
  ['http_req_duration', 'avg 5'],
  ['http_req_duration', 'foo<1'],
  ['http_req_duration', ''],
  ['http_req_duration', 'avg<1 2'],
  ['http_req_duration', 'avg<1__0'],
  ['http_req_duration', 'avg<_1'],
  ['http_req_duration', 'avg<0x10'],
  ['http_req_duration', 'value<1'],
  ['http_req_duration', 'count<1'],
  ['http_req_failed', 'count<1'],
  ['http_reqs', 'p(95)<1'],
  ['vus', 'avg<1'],
];

/** How many of EXPRESSIONS k6 accepts (the first ones). */
const ACCEPTED = 18;

const KEYS = [
  'http_req_duration{status:200}',
  'http_req_duration{status:200,method:GET}',
  'http_req_duration{ "status" : "200" }',
  'http_req_duration{status}',
  'http_req_duration{}',
  'http_req_duration{',
  'http_req_duration}',
  'http_req_duration{a:b}x',
  'http_req_duration{a:b,}',
  'http_req_duration{a:}',
];

const TYPES: Record<string, 'trend' | 'rate' | 'counter' | 'gauge'> = {
  http_req_duration: 'trend',
  http_req_failed: 'rate',
  http_reqs: 'counter',
  vus: 'gauge',
};

/** k6's verdict: accepted (exit 0) or its exit code and message. */
async function k6Archive(thresholds: Record<string, string[]>) {
  const dir = await tempDir();
  const script = join(dir, 'script.js');
  await writeFile(
    script,
    `export const options = { thresholds: ${JSON.stringify(thresholds)} };\nexport default function () {}\n`,
  );
  return new Promise<{ code: number; message: string }>((resolve) => {
    execFile(
      testK6Path(),
      ['archive', '--quiet', '-O', join(dir, 'a.tar'), script],
      { env: { ...process.env, K6_NO_USAGE_REPORT: 'true' } },
      (error, _stdout, stderr) => {
        const match = /msg="((?:[^"\\]|\\.)*)"/.exec(stderr);
        const message = match?.[1] ? (JSON.parse(`"${match[1]}"`) as string) : stderr.trim();
        resolve({ code: error ? Number(error.code) : 0, message });
      },
    );
  });
}

/** Ours: parse every key and expression, then check the aggregation against the metric's type. */
function ours(thresholds: Record<string, string[]>): { ok: true } | { ok: false; message: string } {
  try {
    for (const set of parseThresholdsOption(thresholds)) {
      const type = TYPES[set.metric];
      if (!type) throw new Error(`unknown metric ${set.metric}`);
      for (const t of set.thresholds) validateForType(t.parsed, t.source, set.key, type);
    }
    return { ok: true };
  } catch (error) {
    return { ok: false, message: errorMessage(error) };
  }
}

/** Runs `fn` over `items`, two at a time (this machine has 2 cores). */
async function twoAtATime<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += 2) {
    results.push(...(await Promise.all(items.slice(i, i + 2).map(fn))));
  }
  return results;
}

describe('threshold parser parity with real k6 (k6 archive)', () => {
  it('accepts and rejects the same expressions, with k6 message', async () => {
    const cases = EXPRESSIONS.map(([metric, expression]) => ({ [metric]: [expression] }));
    const k6 = await twoAtATime(cases, k6Archive);
    const rows = cases.map((thresholds, i) => {
      const reference = k6[i] ?? { code: -1, message: '' };
      const mine = ours(thresholds);
      return {
        thresholds,
        k6: reference.code === 0 ? 'accepted' : `exit ${String(reference.code)}`,
        ours: mine.ok ? 'accepted' : 'exit 104',
        // The option parser lists every problem after "invalid thresholds: "; each is k6's message.
        sameMessage:
          mine.ok || mine.message.replace(/^invalid thresholds: /, '') === reference.message,
      };
    });
    expect(rows).toEqual(rows.map((r) => ({ ...r, ours: r.k6, sameMessage: true })));
    // Both sides of the table are exercised.
    expect(rows.filter((r) => r.k6 === 'accepted').length).toBe(ACCEPTED);
    expect(rows.filter((r) => r.k6 === 'exit 104').length).toBe(EXPRESSIONS.length - ACCEPTED);
  }, 120_000);

  it('accepts and rejects the same submetric keys', async () => {
    const cases = KEYS.map((key) => ({ [key]: ['max<5000'] }));
    const k6 = await twoAtATime(cases, k6Archive);
    const rows = cases.map((thresholds, i) => ({
      key: Object.keys(thresholds)[0],
      k6: k6[i]?.code === 0 ? 'accepted' : `exit ${String(k6[i]?.code)}`,
      ours: ours(thresholds).ok ? 'accepted' : 'exit 104',
    }));
    expect(rows).toEqual(rows.map((r) => ({ ...r, ours: r.k6 })));
    expect(rows.filter((r) => r.k6 === 'accepted').length).toBeGreaterThanOrEqual(3);
    expect(rows.filter((r) => r.k6 !== 'accepted').length).toBeGreaterThanOrEqual(3);
  }, 120_000);
});
