/**
 * The coordinator's first step on the real k6: archive the test and read its
 * execution requirements; an invalid script or option fails right there with
 * k6's own message and exit code.
 */
import { describe, expect, it } from '@jest/globals';
import { stat } from 'node:fs/promises';

import { hasErrorCode } from '../../src/errors.js';
import { parseGoDuration, prepareTest } from '../../src/k6/archive.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript, testK6Path } from '../helpers/k6.js';

const k6 = () => ({ path: testK6Path(), version: '2.2.0' });

describe('prepareTest (real k6)', () => {
  it('archives the script and reads scenarios, thresholds, maxVUs and totalDuration', async () => {
    const outDir = await tempDir();
    const test = await prepareTest({
      k6: k6(),
      script: fixtureScript('thresholds.js'),
      outDir,
      env: process.env,
    });

    expect((await stat(test.archivePath)).size).toBeGreaterThan(0);
    expect(test.options.scenarios).toMatchObject({
      main: { executor: 'shared-iterations', vus: 3, iterations: 10 },
    });
    expect(test.options.thresholds).toEqual({
      http_req_duration: ['p(95)<500'],
      'checks{kind:api}': ['rate>0.99'],
    });
    expect(test.options.summaryTrendStats).toEqual(['avg', 'min', 'med', 'max', 'p(90)', 'p(95)']);
    expect(test.maxVUs).toBe(3);
    // shared-iterations: maxDuration 10m default + gracefulStop 30s
    expect(test.totalDurationMs).toBe(630_000);
  });

  it('consolidates k6 flags into the archive, as `k6 run` would apply them', async () => {
    const test = await prepareTest({
      k6: k6(),
      script: fixtureScript('thresholds.js'),
      flags: ['--vus', '5', '--duration', '3s', '-e', 'FOO=bar'],
      outDir: await tempDir(),
      env: process.env,
    });
    expect(test.options.scenarios).toEqual({
      default: expect.objectContaining({
        executor: 'constant-vus',
        vus: 5,
        duration: '3s',
      }) as unknown,
    });
    expect(test.maxVUs).toBe(5);
    expect(test.totalDurationMs).toBe(33_000);
  });

  it.each([
    ['invalid/syntax.js', [], 107, /Unexpected end of input/],
    ['invalid/init-throws.js', [], 107, /init boom/],
    ['invalid/bad-executor.js', [], 104, /unknown executor type 'bogus'/],
    ['invalid/bad-threshold.js', [], 104, /failed parsing threshold.*p\(95\)<<500/],
    ['thresholds.js', ['--vus', '-3'], 104, /the number of VUs must be more than 0/],
  ])("%s %j fails with exit %i and k6's message", async (script, flags, exitCode, message) => {
    const failure: unknown = await prepareTest({
      k6: k6(),
      script: fixtureScript(script),
      flags,
      outDir: await tempDir(),
      env: process.env,
    }).catch((e: unknown) => e);

    expect(hasErrorCode(failure, 'K6_TEST_INVALID')).toBe(true);
    expect(failure).toMatchObject({ data: { exitCode } });
    expect((failure as Error).message).toMatch(message);
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['0s', 0],
    ['10m30s', 630_000],
    ['1h0m0s', 3_600_000],
    ['1.5s', 1_500],
    ['300ms', 300],
    ['2m0.5s', 120_500],
    ['1µs', 0.001],
  ])('%s = %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBeCloseTo(ms, 9);
  });

  it('rejects what Go would not print', () => {
    expect(() => parseGoDuration('10 minutes')).toThrow(/not a Go duration/);
    expect(() => parseGoDuration('')).toThrow(/not a Go duration/);
  });
});
