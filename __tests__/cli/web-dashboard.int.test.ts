/**
 * Issue 20.8: `K6_WEB_DASHBOARD=true` makes standalone k6 serve its web
 * dashboard and, with K6_WEB_DASHBOARD_EXPORT, write its report at the end.
 * On agents it would show one share each (and a second one on a machine
 * fails to bind), so agents start none: the coordinator serves one live page
 * of the merged run (the HTML report's charts, reloading), prints its address
 * where k6 prints its dashboard's, and writes the export.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { request } from 'undici';

import { CLI, CliProcess, exec } from '../helpers/cli-process.js';
import { freePort } from '../helpers/free-port.js';
import { tempDir } from '../helpers/fs.js';
import { testK6Path } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const SCRIPT = `
import http from 'k6/http';
import { sleep } from 'k6';
export const options = { vus: 2, duration: '4s' };
export default function () {
  http.get(\`\${__ENV.TARGET}/iteration\`);
  sleep(0.05);
}
`;

async function page(url: string): Promise<{ status: number; type: string; body: string }> {
  const res = await request(url);
  return {
    status: res.statusCode,
    type: String(res.headers['content-type']),
    body: await res.body.text(),
  };
}

describe("issue 20.8: k6's web dashboard (real k6)", () => {
  it('K6_WEB_DASHBOARD=true: one live page of the merged run, no dashboard on any agent, the export written, exit as k6', async () => {
    const dir = await tempDir();
    const script = join(dir, 'script.js');
    await writeFile(script, SCRIPT);
    const target = await TargetServer.start();
    const env = async (name: string) => ({
      K6_WEB_DASHBOARD: 'true',
      K6_WEB_DASHBOARD_HOST: '127.0.0.1',
      K6_WEB_DASHBOARD_PORT: String(await freePort()),
      K6_WEB_DASHBOARD_PERIOD: '1s',
      K6_WEB_DASHBOARD_EXPORT: join(dir, `${name}.html`),
    });
    const k6 = await exec(
      testK6Path(),
      ['run', '-e', `TARGET=${target.url}`, script],
      dir,
      await env('k6'),
    );
    // What k6 prints when it serves the dashboard: the oracle that the setting is live.
    expect(k6.stdout + k6.stderr).toMatch(/^ web dashboard: http:\/\/127\.0\.0\.1:\d+$/m);

    const ours = new CliProcess(
      ['run', '--agents', '2', '-e', `TARGET=${target.url}`, script],
      await env('ours'),
    );
    const url = /web dashboard: (\S+)/.exec(await ours.waitForLine(/^ web dashboard: http/))?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The run prints a progress line each second: look again after each line until the
    // page charts the run (two intervals at least), for as long as the run lasts.
    let live = await page(`${String(url)}/`);
    while (!live.body.includes('<svg class="chart"')) {
      expect(await ours.waitForLineAfter(ours.lines.length)).toBe(true);
      live = await page(`${String(url)}/`);
    }
    expect(live.status).toBe(200);
    expect(live.type).toBe('text/html; charset=utf-8');
    expect(live.body).toContain('<meta http-equiv="refresh" content="1">');
    expect(live.body).toMatch(/<span class="verdict live">live<\/span>/);
    expect(live.body).toContain('2 of 2 agents');
    expect(live.body).toContain('Requests per second by agent');
    expect(live.body).not.toMatch(/<script|src=|href=/); // self-contained, no script
    expect((await page(`${String(url)}/anything`)).status).toBe(404);

    const { code } = await ours.exited;
    expect(code).toBe(k6.code);
    // No agent's k6 started a dashboard of its own (the second could not have bound).
    expect(ours.text()).not.toMatch(/Error from Web dashboard|web-dashboard/);
    expect(ours.text().match(/web dashboard: http/g)).toHaveLength(1);
    // The export: k6 writes its dashboard's report, the run its merged HTML report.
    await expect(readFile(join(dir, 'k6.html'), 'utf8')).resolves.toMatch(/<html/);
    const exported = await readFile(join(dir, 'ours.html'), 'utf8');
    expect(exported).toMatch(/<span class="verdict passed">passed<\/span>/);
    expect(exported).toContain('<h2>Agents</h2>');
  }, 90_000);

  it('K6_WEB_DASHBOARD_EXPORT alone does nothing, as in k6', async () => {
    const dir = await tempDir();
    const script = join(dir, 'script.js');
    await writeFile(
      script,
      'export const options = { iterations: 2 };\nexport default function () {}\n',
    );
    const env = { K6_WEB_DASHBOARD_EXPORT: join(dir, 'export.html') };
    const [k6, ours] = await Promise.all([
      exec(testK6Path(), ['run', '-q', script], dir, env),
      exec(process.execPath, [CLI, 'run', '--agents', '2', script], dir, env),
    ]);
    expect(ours.code).toBe(k6.code);
    await expect(readFile(env.K6_WEB_DASHBOARD_EXPORT)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(ours.stdout + ours.stderr).not.toMatch(/web dashboard|K6_WEB_DASHBOARD/);
  }, 60_000);
});
