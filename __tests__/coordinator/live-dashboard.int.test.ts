/** Issue 20.8: the coordinator's live page for K6_WEB_DASHBOARD (coordinator/live-dashboard.ts). */
import { describe, expect, it } from '@jest/globals';
import { request } from 'undici';

import { dashboardSettings, LiveDashboard } from '../../src/coordinator/live-dashboard.js';
import { renderLivePage } from '../../src/report/html.js';
import { onCleanup } from '../helpers/cleanup.js';
import { CapturingLogger } from '../helpers/distributed.js';
import { freePort } from '../helpers/free-port.js';

describe("issue 20.8: k6's web dashboard settings, read for the merged run", () => {
  it("reads k6's switches: K6_WEB_DASHBOARD_* and --out web-dashboard's query, the query winning", () => {
    expect(dashboardSettings({}, [])).toBeUndefined();
    expect(
      dashboardSettings({ K6_WEB_DASHBOARD: 'false', K6_WEB_DASHBOARD_PORT: '1' }, []),
    ).toBeUndefined();
    expect(dashboardSettings({ K6_WEB_DASHBOARD: 'true' }, [])).toEqual({
      host: '127.0.0.1',
      port: 5665,
      periodMs: 10_000,
      export: undefined,
    });
    const env = {
      K6_WEB_DASHBOARD_HOST: '0.0.0.0',
      K6_WEB_DASHBOARD_PORT: '6000',
      K6_WEB_DASHBOARD_PERIOD: '2s',
      K6_WEB_DASHBOARD_EXPORT: 'env.html',
    };
    // As k6: an empty query value is unset, and the query's report= wins over the variable.
    expect(dashboardSettings(env, ['web-dashboard=port=&report=q.html'])).toMatchObject({
      port: 6000,
      export: 'q.html',
    });
    expect(dashboardSettings(env, ['web-dashboard=port=0&period=1m&export=out.html'])).toEqual({
      host: '0.0.0.0',
      port: 0,
      periodMs: 60_000,
      export: 'out.html',
    });
    expect(
      dashboardSettings({ K6_WEB_DASHBOARD: 'true', K6_WEB_DASHBOARD_PORT: '-1' }, [])?.port,
    ).toBe(-1);
  });

  it('refuses a bad port or period, naming the fix', () => {
    const on = (extra: Record<string, string>) => () =>
      dashboardSettings({ K6_WEB_DASHBOARD: 'true', ...extra }, []);
    expect(on({ K6_WEB_DASHBOARD_PORT: 'http' })).toThrow(
      /invalid web dashboard port "http": give a port number/,
    );
    expect(on({ K6_WEB_DASHBOARD_PORT: '70000' })).toThrow(/port "70000"/);
    expect(on({ K6_WEB_DASHBOARD_PERIOD: 'soon' })).toThrow(
      /period "soon": give a duration such as 10s/,
    );
    expect(on({ K6_WEB_DASHBOARD_PERIOD: '0s' })).toThrow(/period "0s": give a duration above 0/);
  });
});

describe('issue 20.8: the live page server', () => {
  it('serves GET / (rendered at most once a second), 404 elsewhere, 405 for other methods', async () => {
    let renders = 0;
    let nowMs = 0;
    const { dashboard } = await startPage(
      () => `<p>page ${String(++renders)}</p>`,
      () => nowMs,
    );
    const get = async (path: string, method: 'GET' | 'POST' | 'HEAD' = 'GET') => {
      const res = await request(`${dashboard.url}${path}`, { method });
      return {
        status: res.statusCode,
        body: await res.body.text(),
        csp: res.headers['content-security-policy'],
      };
    };
    const pages = await Promise.all(Array.from({ length: 20 }, () => get('/')));
    expect(new Set(pages.map((p) => `${String(p.status)} ${p.body}`))).toEqual(
      new Set(['200 <p>page 1</p>']),
    );
    expect(renders).toBe(1);
    nowMs = 999;
    expect((await get('/')).body).toBe('<p>page 1</p>');
    nowMs = 1_000; // a second on: drawn again
    expect((await get('/')).body).toBe('<p>page 2</p>');
    expect(pages[0]?.csp).toMatch(/default-src 'none'/);
    expect((await get('/?x=1')).status).toBe(200);
    expect((await get('/report')).status).toBe(404);
    expect((await get('/', 'POST')).status).toBe(405);
    expect((await get('/', 'HEAD')).body).toBe('');
  });

  it('answers 500 and warns once when the page cannot be drawn; the coordinator goes on', async () => {
    let nowMs = 0;
    const { dashboard, log } = await startPage(
      () => {
        throw new Error('no timeline');
      },
      () => (nowMs += 1_000),
    );
    for (let i = 0; i < 3; i++) {
      const res = await request(`${dashboard.url}/`);
      await res.body.text();
      expect(res.statusCode).toBe(500);
    }
    expect(log.lines).toEqual(['warning: the web dashboard could not draw the run: no timeline']);
  });

  it('warns and lets the run go on when its port is taken', async () => {
    const port = await freePort();
    const first = await LiveDashboard.start({
      host: '127.0.0.1',
      port,
      log: new CapturingLogger(),
      render: () => '',
    });
    onCleanup(() => first?.close());
    const log = new CapturingLogger();
    const second = await LiveDashboard.start({ host: '127.0.0.1', port, log, render: () => '' });
    expect(second).toBeUndefined();
    expect(log.lines).toEqual([
      expect.stringMatching(
        new RegExp(
          `^warning: the web dashboard could not listen on 127\\.0\\.0\\.1:${String(port)} .*the run goes on without it\\. Set K6_WEB_DASHBOARD_PORT`,
        ),
      ),
    ]);
  });

  it('escapes what the script and agents name, and reloads itself without a script', () => {
    const point = (t: number) => ({ t, rps: 10, vus: 2, p95: 5, errorRate: 0, iterations: 10 });
    const html = renderLivePage({
      title: '<img src=x onerror=alert(1)>.js',
      timeline: {
        intervalS: 1,
        merged: [point(1), point(2)],
        agents: { a: [point(1), point(2)] },
      },
      agents: [{ id: 'a', name: '<b onclick=x>agent</b>', startedAt: 1_796_290_000_000 }],
      status: 'running · 1 of 2 agents <now>',
      refreshS: 10,
      generatedAt: new Date(0),
    });
    expect(html).toContain('<meta http-equiv="refresh" content="10">');
    expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;.js');
    expect(html).toContain('1 of 2 agents &#60;now&#62;');
    expect(html).toContain('&#60;b onclick=x&#62;agent&#60;/b&#62;'); // the agent's own line
    expect(html).not.toMatch(/<img|<script|<b /);
    expect(html).toContain('Requests per second by agent');
  });
});

/** A live page on a free loopback port, drawn by `render` on the clock `now`; closed after the test. */
async function startPage(render: () => string, now: () => number) {
  const log = new CapturingLogger();
  const dashboard = await LiveDashboard.start({ host: '127.0.0.1', port: 0, log, render, now });
  if (!dashboard) throw new Error(`no dashboard: ${log.text()}`);
  onCleanup(() => dashboard.close());
  return { dashboard, log };
}
