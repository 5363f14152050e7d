/**
 * Issue 20.8 (first step): `K6_WEB_DASHBOARD=true` makes standalone k6 serve
 * its web dashboard; on agents it would show one share each, and a second
 * one on a machine fails to bind. The distributed run starts none, says so
 * before the run and where the merged charts are, and otherwise runs as k6.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { CLI, exec } from '../helpers/cli-process.js';
import { freePort } from '../helpers/free-port.js';
import { tempDir } from '../helpers/fs.js';
import { testK6Path } from '../helpers/k6.js';

describe("issue 20.8: k6's web dashboard (real k6)", () => {
  it('K6_WEB_DASHBOARD=true: k6 serves it; the distributed run starts none on any agent, warns once, and exits as k6', async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'script.js'),
      'export const options = { iterations: 4 };\nexport default function () {}\n',
    );
    const env = (port: number) => ({
      K6_WEB_DASHBOARD: 'true',
      K6_WEB_DASHBOARD_HOST: '127.0.0.1',
      K6_WEB_DASHBOARD_PORT: String(port),
    });
    const k6 = await exec(testK6Path(), ['run', 'script.js'], dir, env(await freePort()));
    const ours = await exec(
      process.execPath,
      [CLI, 'run', '--agents', '2', 'script.js'],
      dir,
      env(await freePort()),
    );

    expect(ours.code).toBe(k6.code);
    // What k6 prints when it serves the dashboard: the oracle that the setting is live.
    expect(k6.stdout + k6.stderr).toMatch(/web dashboard: http:\/\/127\.0\.0\.1:\d+/);
    expect(ours.stdout + ours.stderr).not.toMatch(/web dashboard: http/);
    const warnings = ours.stderr.split('\n').filter((l) => l.includes('K6_WEB_DASHBOARD'));
    expect(warnings).toEqual([
      "warning: K6_WEB_DASHBOARD is set, but k6's web dashboard would show one agent's share " +
        "on each agent, so agents do not start it. The merged run's charts over time are in " +
        'the HTML report: --report-html FILE (the action uploads it as an artifact).',
    ]);
  }, 60_000);
});
