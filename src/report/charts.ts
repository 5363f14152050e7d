import type { Timeline, TimelinePoint } from '../metrics/timeline.js';

/** Most points a chart shows: GitHub renders wider charts, but they stop being readable. */
export const CHART_POINTS = 60;

/**
 * At most `max` points: runs of neighbouring intervals merged. Request rate is
 * the mean, VUs the last value, iterations the sum, the error rate
 * request-weighted, and p(95) the highest of the run (a chart should not hide
 * a spike).
 */
export function downsample(points: readonly TimelinePoint[], max = CHART_POINTS): TimelinePoint[] {
  const size = Math.ceil(points.length / max);
  if (size <= 1) return [...points];
  const out: TimelinePoint[] = [];
  for (let i = 0; i < points.length; i += size) {
    const run = points.slice(i, i + size);
    const last = run[run.length - 1] as TimelinePoint;
    const p95s = run.flatMap((p) => (p.p95 === null ? [] : [p.p95]));
    const rated = run.filter((p) => p.errorRate !== null && p.rps > 0);
    const weight = rated.reduce((sum, p) => sum + p.rps, 0);
    out.push({
      t: last.t,
      rps: run.reduce((sum, p) => sum + p.rps, 0) / run.length,
      vus: last.vus,
      p95: p95s.length ? Math.max(...p95s) : null,
      errorRate:
        weight > 0 ? rated.reduce((sum, p) => sum + (p.errorRate ?? 0) * p.rps, 0) / weight : null,
      iterations: run.reduce((sum, p) => sum + p.iterations, 0),
    });
  }
  return out;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

function xychart(title: string, yAxis: string, xs: number[], kind: 'line' | 'bar', ys: number[]) {
  return [
    '```mermaid',
    'xychart-beta',
    `  title "${title}"`,
    // Quoted: Mermaid reads x-axis categories as text.
    `  x-axis "seconds" [${xs.map((x) => `"${String(x)}"`).join(', ')}]`,
    `  y-axis "${yAxis}"`,
    `  ${kind} [${ys.join(', ')}]`,
    '```',
  ];
}

/**
 * p(95) over the intervals that had requests: an interval without any has no
 * p(95), and Mermaid draws no gaps, so it is left off the axis rather than
 * drawn as a 0 ms dip (issue 20.9). None for fewer than two such intervals.
 */
function p95Chart(points: readonly TimelinePoint[]): string[][] {
  const measured = points.filter((p) => p.p95 !== null);
  if (measured.length < 2) return [];
  return [
    xychart(
      'http_req_duration p(95), ms',
      'ms',
      measured.map((p) => round(p.t, 1)),
      'line',
      measured.map((p) => round(p.p95 ?? 0, 2)),
    ),
    [''],
  ];
}

/**
 * Load and latency over time as Mermaid xychart blocks, which GitHub renders
 * in job summaries and comments: request rate, p(95) of http_req_duration and
 * active VUs, merged over agents. Empty when the run has fewer than two
 * intervals.
 */
export function mermaidCharts(timeline: Timeline | undefined): string[] {
  const points = downsample(timeline?.merged ?? []);
  if (points.length < 2) return [];
  const xs = points.map((p) => round(p.t, 1));
  const charts = [
    xychart(
      'Requests per second',
      'req/s',
      xs,
      'line',
      points.map((p) => round(p.rps, 1)),
    ),
    [''],
    ...p95Chart(points),
    xychart(
      'Active VUs',
      'VUs',
      xs,
      'bar',
      points.map((p) => p.vus),
    ),
  ];
  return charts.flat();
}
