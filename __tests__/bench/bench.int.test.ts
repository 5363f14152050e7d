/**
 * `npm run bench -- --quick`: every benchmark end to end, one short round, on
 * the real k6 and the shipped CLI bundle. This checks the benchmarks still
 * run and their results hold together; the measurements themselves live in
 * BENCHMARKS.md (timings are not asserted here: this machine is small and noisy).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from '@jest/globals';

import type { BenchResults } from '../../bench/report.js';
import { testK6Path } from '../helpers/k6.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run bench -- --quick', () => {
  it('runs every benchmark against real k6 and writes consistent results', async () => {
    const { stdout } = await promisify(execFile)('bash', ['bench/run.sh', '--quick'], {
      cwd: ROOT,
      env: { ...process.env, K6_PATH: testK6Path() },
      maxBuffer: 16 * 1024 * 1024,
    });
    const r = JSON.parse(
      await readFile(`${ROOT}/bench/results/quick.json`, 'utf8'),
    ) as Required<BenchResults>;

    expect(r.quick).toBe(true);
    expect(Object.keys(r.measured).sort()).toEqual(
      ['abort', 'histogram', 'longrun', 'overhead', 'scale', 'skew'].sort(),
    );
    expect(r.machine.k6).toBe('v2.2.0');

    // 1. Every side made requests and exited 0; the ratios pair runs of the same round.
    expect(r.overhead.runs.map((run) => run.side).sort()).toEqual(
      ['distributed', 'distributed-json', 'k6', 'k6-gogc', 'k6-json'].sort(),
    );
    for (const run of r.overhead.runs) {
      expect(run.exitCode).toBe(0);
      expect(run.requests).toBeGreaterThan(100);
    }
    const rate = (side: string) => r.overhead.runs.find((run) => run.side === side)?.rate ?? NaN;
    expect(r.overhead.ratio.distributed.median).toBeCloseTo(rate('distributed') / rate('k6'), 9);
    expect(r.overhead.ratio.distributedJson.median).toBeCloseTo(
      rate('distributed-json') / rate('k6'),
      9,
    );
    // issue 18: plain k6 with the agent k6's GOGC, against plain k6 and against the agent.
    expect(r.overhead.ratio.k6Gogc.median).toBeCloseTo(rate('k6-gogc') / rate('k6'), 9);
    expect(r.overhead.ratio.distributedVsK6Gogc.median).toBeCloseTo(
      rate('distributed') / rate('k6-gogc'),
      9,
    );

    // 2. Both sides ran the same paced load, the agent on the cloud transport; every process was
    // sampled during it.
    expect(r.longrun.settings.transport).toBe('cloud');
    const expected = r.longrun.settings.rate * r.longrun.settings.durationS;
    for (const count of [r.longrun.requests.k6, r.longrun.requests.distributed]) {
      expect(Math.abs(count - expected)).toBeLessThanOrEqual(expected * 0.05);
    }
    for (const p of [r.longrun.k6, r.longrun.agent, r.longrun.agentK6, r.longrun.coordinator]) {
      expect(p.rssPeakMB).toBeGreaterThan(10);
      expect(p.series.length).toBeGreaterThanOrEqual(3);
    }

    // 3. Every agent's first iteration reached the target, in both modes.
    expect(r.skew.runs.map((run) => run.mode).sort()).toEqual(['k6-only', 'loopback', 'proxy']);
    for (const run of r.skew.runs) {
      expect(run.offsetsMs).toHaveLength(r.skew.settings.agents);
      expect(run.skewMs).toBe(Math.max(...run.offsetsMs));
    }

    // 4. The histogram stays within its design bound against k6's formula.
    for (const e of r.histogram.worstRelativeError) {
      expect(e.error).toBeLessThanOrEqual(r.histogram.bound);
    }
    expect(r.histogram.bytesPerDelta.at(-1)?.histogramBytes).toBeLessThan(
      r.histogram.bytesPerDelta.at(-1)?.rawJsonBytes ?? 0,
    );

    // 5. The coordinator ran every simulated agent to the end without an error, once with
    // deltas made from k6's cloud pushes and once with the same seconds made from k6's JSON
    // lines (issue 18: the coordinator's cost of each, same run).
    expect(r.scale.settings.transports).toEqual(['cloud', 'json']);
    expect(r.scale.steps.map((s) => [s.transport, s.agents])).toEqual(
      ['cloud', 'json'].flatMap((t) => r.scale.settings.steps.map((agents) => [t, agents])),
    );
    expect(r.scale.runs.map((run) => run.transport)).toEqual(['cloud', 'json']);
    for (const step of r.scale.runs) {
      expect(step.exitCode).toBe(0);
      expect(step.errors).toBe(0);
      expect(step.metricsRequests).toBeGreaterThan(0);
      expect(step.coordinatorPeakRssMB).toBeGreaterThan(10);
      expect(step.deltaBytes).toHaveLength(2);
      expect(step.jsonDeltaBytes).toHaveLength(2);
      expect(Math.min(...step.deltaBytes)).toBeGreaterThan(1000);
    }

    // 6. abortOnFail stopped every side (k6, both transports) with exit code 99 after the target
    // failed.
    expect(r.abort.runs.map((run) => run.side).sort()).toEqual(
      ['distributed', 'distributed-json', 'k6'].sort(),
    );
    for (const run of r.abort.runs) {
      expect(run.exitCode).toBe(99);
      expect(run.loadStoppedMs).toBeGreaterThanOrEqual(0);
      expect(run.requestsAfterCrossing).toBeGreaterThan(0);
    }

    expect(stdout).toContain('<!-- distributed:start -->');
    expect(stdout).toContain('quick smoke run, not a measurement');
  }, 300_000);
});
