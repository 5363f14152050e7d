/**
 * The `--report-html` page as a person sees it: a real distributed run by the
 * shipped CLI (2 agents, real k6) writes the report, a real headless Chromium
 * (Debian's package; scripts/test.sh installs it and exports CHROMIUM_PATH)
 * opens it from disk, and the test checks what Chromium laid out and painted,
 * not the markup. A full-page screenshot is kept in .test-results/ for people.
 */
import { constants } from 'node:fs';
import { access, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';

import { onCleanup } from '../helpers/cleanup.js';
import { CliProcess } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const SCREENSHOT = fileURLToPath(new URL('../../.test-results/html-report.png', import.meta.url));
const VIEWPORT = { width: 1280, height: 800 };

/** Debian's chromium, or CHROMIUM_PATH; a missing one fails the test and says how to fix it. */
async function chromiumPath(): Promise<string> {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new Error(
      `no Chromium at ${path}: run scripts/test.sh (it installs Debian's chromium ` +
        'package and exports CHROMIUM_PATH), or apt-get install chromium, or set CHROMIUM_PATH',
    );
  }
  return path;
}

async function launchChromium(executablePath: string): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath,
    // This machine's network is closed: these stop Chromium's own background connections.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  onCleanup(() => browser.close());
  return browser;
}

/** The report of a real 2-agent run of metrics.js (http, checks, thresholds) of about 4 s. */
async function reportOfARealRun(target: TargetServer): Promise<string> {
  const report = join(await tempDir(), 'report.html');
  const thresholds = { http_req_duration: ['p(95)<5000'], items: ['count>0'] };
  const run = new CliProcess([
    'run',
    '--agents',
    '2',
    '--report-html',
    report,
    '-e',
    `TARGET=${target.url}`,
    '-e',
    'EXECUTOR=constant',
    '-e',
    'DURATION=4s',
    '-e',
    'SLEEP=0.05',
    '-e',
    `THRESHOLDS=${JSON.stringify(thresholds)}`,
    fixtureScript('metrics.js'),
  ]);
  const { code } = await run.exited;
  if (code !== 0) throw new Error(`the run exited ${String(code)}:\n${run.text()}`);
  return report;
}

// The little of the DOM that the functions run in the page use: the tests'
// tsconfig has no DOM lib (they run in Node), so these types stand in for it.
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface ClientRect extends Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
}
interface DomElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  getBoundingClientRect(): ClientRect;
  querySelector(selector: string): DomElement | null;
  querySelectorAll<E extends DomElement = DomElement>(selector: string): Iterable<E>;
}
interface SvgLine extends DomElement {
  x1: { baseVal: { value: number } };
  x2: { baseVal: { value: number } };
  y1: { baseVal: { value: number } };
}
interface SvgPolyline extends DomElement {
  getBBox(): Box;
  getTotalLength(): number;
  points: { numberOfItems: number };
}
interface PageGlobals {
  document: {
    documentElement: { scrollWidth: number; clientWidth: number };
    elementFromPoint(x: number, y: number): DomElement | null;
  };
  getComputedStyle(element: DomElement): {
    visibility: string;
    display: string;
    fill: string;
    opacity: string;
    fillOpacity: string;
    fontSize: string;
  };
}

/** One chart as Chromium laid it out: client px, and SVG user units for the plot and series. */
interface ChartLayout {
  title: string;
  box: ClientRect;
  plot: Box;
  series: { name: string; length: number; points: number; bbox: Box; screen: ClientRect }[];
  ticks: { text: string; screen: ClientRect; legible: boolean }[];
}

function chartLayouts(page: Page): Promise<ChartLayout[]> {
  return page.locator('svg.chart').evaluateAll((svgs: DomElement[]) =>
    svgs.map((svg) => {
      const window = globalThis as unknown as PageGlobals;
      // The plot is what the horizontal grid lines span.
      const grid = [...svg.querySelectorAll<SvgLine>('line.grid')];
      const xs = grid.flatMap((l) => [l.x1.baseVal.value, l.x2.baseVal.value]);
      const ys = grid.map((l) => l.y1.baseVal.value);
      const [x, y] = [Math.min(...xs), Math.min(...ys)];
      return {
        title: svg.querySelector('text.title')?.textContent ?? '',
        box: svg.getBoundingClientRect(),
        plot: { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y },
        series: [...svg.querySelectorAll<SvgPolyline>('polyline.series')].map((line) => {
          // DOMRect serializes itself (toJSON); SVGRect does not, so its numbers are copied.
          const { x, y, width, height } = line.getBBox();
          return {
            name: line.getAttribute('data-series') ?? '',
            length: line.getTotalLength(),
            points: line.points.numberOfItems,
            bbox: { x, y, width, height },
            screen: line.getBoundingClientRect(),
          };
        }),
        ticks: [...svg.querySelectorAll('text.tick')].map((tick) => {
          const style = window.getComputedStyle(tick);
          return {
            text: tick.textContent ?? '',
            screen: tick.getBoundingClientRect(),
            legible:
              style.visibility === 'visible' &&
              style.display !== 'none' &&
              style.fill !== 'none' &&
              Number(style.opacity) > 0 &&
              parseFloat(style.fontSize) >= 8,
          };
        }),
      };
    }),
  );
}

/** What is wrong with one chart's layout, as readable lines (none: it is fine). */
function layoutProblems(chart: ChartLayout, viewportWidth: number): string[] {
  const problems: string[] = [];
  const within = (inner: ClientRect, outer: ClientRect) =>
    inner.left >= outer.left - 0.5 &&
    inner.right <= outer.right + 0.5 &&
    inner.top >= outer.top - 0.5 &&
    inner.bottom <= outer.bottom + 0.5;
  const { box, plot } = chart;
  if (!(box.width > 0 && box.height > 0)) problems.push(`empty box ${JSON.stringify(box)}`);
  if (box.left < 0 || box.right > viewportWidth)
    problems.push(`outside the viewport width ${String(viewportWidth)}: ${JSON.stringify(box)}`);
  if (!(plot.width > 0 && plot.height > 0)) problems.push(`no plot area ${JSON.stringify(plot)}`);
  if (!chart.series.some((s) => s.length > 0 && s.bbox.width > 0))
    problems.push('no series with a non-zero length and width');
  for (const s of chart.series) {
    const { x, y, width, height } = s.bbox;
    const inPlot =
      x >= plot.x - 0.5 &&
      y >= plot.y - 0.5 &&
      x + width <= plot.x + plot.width + 0.5 &&
      y + height <= plot.y + plot.height + 0.5;
    if (!inPlot) problems.push(`series ${s.name} leaves the plot: ${JSON.stringify(s.bbox)}`);
    if (!within(s.screen, box)) problems.push(`series ${s.name} is drawn outside the chart`);
  }
  const xTicks = chart.ticks.filter((t) => /^(\d+s|\d\d:\d\d:\d\d)$/.test(t.text)).length;
  const yTicks = chart.ticks.length - xTicks;
  if (xTicks < 2 || yTicks < 2) problems.push(`${String(xTicks)} x and ${String(yTicks)} y labels`);
  for (const t of chart.ticks) {
    if (!(t.screen.width > 0 && t.legible)) problems.push(`label "${t.text}" is not legible`);
    if (!within(t.screen, box)) problems.push(`label "${t.text}" is outside the chart`);
  }
  return problems.map((p) => `${chart.title}: ${p}`);
}

/** The cells of a report section's table, one array of texts per body row. */
function tableRows(page: Page, section: string): Promise<string[][]> {
  return page
    .locator(`h2:text-is("${section}") + table tbody tr`)
    .evaluateAll((rows: DomElement[]) =>
      rows.map((row) => [...row.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())),
    );
}

/** Each chart's pixels with the given parts of every chart hidden (none: as the report shows it). */
async function chartPixels(page: Page, hide: string[] = []): Promise<Buffer[]> {
  const style =
    hide.length > 0
      ? await page.addStyleTag({ content: `${hide.join(',')}{visibility:hidden}` })
      : undefined;
  const shots: Buffer[] = [];
  for (const chart of await page.locator('svg.chart').all())
    shots.push(await chart.screenshot({ animations: 'disabled' }));
  await style?.evaluate((node: { remove(): void }) => node.remove());
  return shots;
}

describe('the HTML report in headless Chromium (Debian chromium, real k6 run)', () => {
  it('lays out and paints its 7 charts, its tables match the 2-agent run, and a screenshot is kept', async () => {
    const executablePath = await chromiumPath(); // before the run: fail fast without it
    const target = await TargetServer.start();
    const report = await reportOfARealRun(target);
    const browser = await launchChromium(executablePath);
    const page = await browser.newPage({ viewport: VIEWPORT });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));

    const url = pathToFileURL(report).href;
    expect((await page.goto(url, { waitUntil: 'load' }))?.ok()).toBe(true);
    // The artifact first, so that it is there for people when an assertion below fails.
    await mkdir(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true, animations: 'disabled' });
    expect(requests).toEqual([url]); // self-contained: the file is all it loads
    expect(await page.title()).toMatch(/^k6-distributed: .*metrics\.js \(passed\)$/);
    expect(await page.locator('p.meta').first().textContent()).toMatch(
      /^started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · 2 agents · /,
    );

    // Laid out: 7 charts of real size in the viewport, nothing wider than the page.
    const { scrollWidth, clientWidth } = await page.evaluate(() => {
      const { documentElement: root } = (globalThis as unknown as PageGlobals).document;
      return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth };
    });
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    const charts = await chartLayouts(page);
    expect(charts.map((c) => c.title)).toEqual([
      'Requests per second',
      'http_req_duration',
      'Active VUs',
      'Failed requests',
      'iteration_duration',
      'Data transferred per second',
      'Requests per second by agent',
    ]);
    // Issue 20.9: the bands k6's web dashboard draws, and bytes both ways.
    for (const i of [1, 4]) {
      expect(charts[i]?.series.map((s) => s.name)).toEqual(['avg', 'p(90)', 'p(95)', 'p(99)']);
    }
    expect(charts[5]?.series.map((s) => s.name)).toEqual(['received', 'sent']);
    expect(charts.flatMap((c) => layoutProblems(c, clientWidth))).toEqual([]);
    // At least 3 one-second intervals, and one line per agent.
    expect(Math.max(...(charts[0]?.series ?? []).map((s) => s.points))).toBeGreaterThanOrEqual(3);
    expect(charts[6]?.series.map((s) => s.name).sort()).toEqual(['local-1', 'local-2']);

    // Painted: hiding the series, then the axis labels, changes every chart's pixels.
    const shown = await chartPixels(page);
    const noSeries = await chartPixels(page, ['svg.chart .series']);
    const noLabels = await chartPixels(page, ['svg.chart .series', 'svg.chart .tick']);
    const painted = charts.map((c, i) => ({
      chart: c.title,
      series: !shown[i]?.equals(noSeries[i] ?? Buffer.alloc(0)),
      labels: !noSeries[i]?.equals(noLabels[i] ?? Buffer.alloc(0)),
    }));
    expect(painted).toEqual(charts.map((c) => ({ chart: c.title, series: true, labels: true })));

    // Each value shows on hover (issue 20.9): the first chart's first point is the topmost
    // element where it is drawn, carries its value as its title, and marks itself on hover.
    const point = page.locator('svg.chart').first().locator('circle.point').first();
    // The screenshots above scrolled the page to the last chart: back to this one.
    await point.scrollIntoViewIfNeeded();
    const hover = await point.evaluate((circle: DomElement) => {
      const { document } = globalThis as unknown as PageGlobals;
      const box = circle.getBoundingClientRect();
      const top = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
      return { topmost: top === circle, title: circle.querySelector('title')?.textContent ?? '' };
    });
    expect(hover.topmost).toBe(true);
    expect(hover.title).toMatch(
      /^Requests per second at \d\d:\d\d:\d\d UTC \(\+\d+(\.\d)?s\): [\d,.]+ req\/s$/,
    );
    await point.hover();
    const opacity = await point.evaluate(
      (c: DomElement) => (globalThis as unknown as PageGlobals).getComputedStyle(c).fillOpacity,
    );
    expect(opacity).toBe('0.35');

    // The tables hold what the run did.
    const agents = await tableRows(page, 'Agents');
    // Rows in join order (the first to join runs setup and teardown), whichever agent that was.
    expect(agents.map((r) => [r[0], r[2], r[3], r[9]])).toEqual([
      ['1*', '0:1/2', '50.0%', '0'],
      ['2', '1/2:1', '50.0%', '0'],
    ]);
    expect(agents.map((r) => r[1]).sort()).toEqual(['local-1', 'local-2']);
    // Each iteration sends one /iteration request: the agents' iterations add up to them.
    const iterations = agents.reduce((sum, r) => sum + Number(r[5]), 0);
    expect(iterations).toBeGreaterThan(0);
    expect(iterations).toBe(target.count('/iteration'));
    expect((await tableRows(page, 'Thresholds')).map((r) => [r[0], r[1], r[3]])).toEqual([
      ['http_req_duration', 'p(95)<5000', '✓ passed'],
      ['items', 'count>0', '✓ passed'],
    ]);
    const checks = await tableRows(page, 'Checks');
    expect(checks.map((r) => r[0])).toEqual([
      '✓ status is 200',
      '✓ token arrived',
      '✗ iteration is even',
    ]);
    expect(checks[0]?.slice(1)).toEqual([String(iterations), '0']);
    expect(Number(checks[2]?.[2])).toBeGreaterThan(0);
    // Issue 20.9: the script's group, shown although the run's summary mode is compact.
    const groups = await tableRows(page, 'Groups');
    expect(groups.map((r) => [r[0], r[1], r[3]])).toEqual([
      ['api', `${String(iterations * 2)} of ${String(iterations * 2)} passed`, String(iterations)],
    ]);

    // The artifact: a full-page PNG, viewport wide and taller than one screen.
    const png = await readFile(SCREENSHOT);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    expect([png.readUInt32BE(16), png.readUInt32BE(20) > VIEWPORT.height]).toEqual([
      VIEWPORT.width,
      true,
    ]);
    expect(png.length).toBeGreaterThan(20_000);
    expect(png.length).toBeLessThan(20_000_000);

    expect(errors).toEqual([]);
  }, 180_000);
});
