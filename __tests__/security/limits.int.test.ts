/**
 * Issue 17, items 4, 7 and 8: what one agent (or anyone on the network) can
 * make the coordinator hold: distinct checks and series, connections, and
 * request bodies. Each on the real coordinator over HTTP with honest real-k6
 * agents, whose run must end as it would undisturbed.
 */
import { stat, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { METRIC_LIMITS, ROUTES, type MetricsReport } from '../../src/protocol/messages.js';
import { CompromisedAgent } from '../helpers/compromised-agent.js';
import { runDistributed } from '../helpers/distributed.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

function vars(target: TargetServer, extra: Record<string, string>): string[] {
  return Object.entries({ TARGET: target.url, ...extra }).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
}

/** What every honest run of metrics.js with ITERATIONS=60 ends with, whatever an attacker did. */
function expectHonestOutcome(
  run: Awaited<ReturnType<typeof runDistributed>>,
  target: TargetServer,
): void {
  expect(run.exitCode).toBe(0);
  expect(target.count('/setup')).toBe(1);
  expect(target.count('/iteration')).toBe(60);
  expect(target.count('/teardown')).toBe(1);
  const count = (metric: string) => run.summary.metrics.get(metric)?.sink.values(0, []).count;
  expect(count('iterations')).toBe(60);
  expect(count('http_reqs')).toBe(62);
  const check = (name: string) => run.summary.checks.find((c) => c.name === name);
  expect(check('status is 200')).toMatchObject({ passes: 60, fails: 0 });
  expect(check('token arrived')).toMatchObject({ passes: 60, fails: 0 });
  expect(check('iteration is even')).toMatchObject({ passes: 30, fails: 30 });
}

describe('issue 17.4: cumulative per-agent limits at the coordinator', () => {
  it('issue 17.4: 150k unique checks from one agent end quickly with a small summary; the run is unchanged', async () => {
    const target = await TargetServer.start();
    const evil = new CompromisedAgent();
    const dir = await tempDir();
    const summaryJson = join(dir, 'summary.json');
    const exportPath = join(dir, 'export.json');
    const stdout: string[] = [];
    const perDelta = METRIC_LIMITS.maxSeriesPerDelta;
    // Agent 2's own next three deltas carry 50,000 unique checks each besides its
    // real data: a compromised agent job, keeping its sequence numbers honest.
    const tamper = evil.tamper(
      1,
      ROUTES.metrics,
      (body, nth) => {
        const report = body as MetricsReport;
        for (let i = 0; i < perDelta - report.delta.series.length; i++) {
          report.delta.series.push({
            kind: 'check',
            name: `c${String(nth)}-${String(i)}`,
            group: '',
            scenario: 'main',
            passes: 1,
            fails: 0,
          });
        }
        return report;
      },
      3,
    );
    const started = performance.now();
    const run = await runDistributed({
      agents: 2,
      script: fixtureScript('metrics.js'),
      flags: [...vars(target, { ITERATIONS: '60', SLEEP: '0.2' }), '--summary-export', exportPath],
      metricsIntervalMs: 200,
      agentUrl: evil.intercept,
      summaryJson,
      output: { stdout: (t) => stdout.push(String(t)), stderr: () => {}, isTTY: false },
    });
    const seconds = (performance.now() - started) / 1000;

    // Each poisoned delta was taken (its honest part counts), none refused.
    expect((await tamper.answered()).map((a) => a.status)).toEqual([200, 200, 200]);
    expectHonestOutcome(run, target);
    // The agent's checks stop at its limit (its own 3 included): at most 1,000 besides the other's.
    expect(run.summary.checks.length).toBeLessThanOrEqual(3 + METRIC_LIMITS.maxChecks);
    expect(run.summary.checks.length).toBeGreaterThanOrEqual(METRIC_LIMITS.maxChecks);
    const warnings = run.log.lines.filter((l) => /more than 1000 distinct checks/.test(l));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^warning: agent 2 \(local-2\) reported more than 1000 distinct checks/,
      ),
    ]);
    // Small outputs: on main, 150k checks made a 40 MB summary.json.
    const sizes = {
      summaryJson: (await stat(summaryJson)).size,
      export: (await stat(exportPath)).size,
      stdout: stdout.join('').length,
    };
    expect(sizes.summaryJson).toBeLessThan(2_000_000);
    expect(sizes.export).toBeLessThan(1_000_000);
    expect(JSON.parse(await readFile(summaryJson, 'utf8'))).toMatchObject({ exitCode: 0 });
    console.log(`issue 17.4: run ${seconds.toFixed(1)} s, sizes ${JSON.stringify(sizes)}`);
  });
});
