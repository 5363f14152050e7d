/**
 * Line charts as inline SVG for the HTML report: no script, no network, so
 * the report opens anywhere (an artifact, a mail attachment). Hand-written:
 * a charting library would need JavaScript in the page, and these charts are
 * one polyline per series on a linear axis.
 */

export interface ChartSeries {
  name: string;
  /** One value per x; null leaves a gap. */
  values: readonly (number | null)[];
}

export interface LineChart {
  title: string;
  unit: string;
  /** Seconds since the start, one per point. */
  xs: readonly number[];
  /** The start's wall-clock time (epoch ms): the x axis then reads HH:MM:SS UTC. */
  startEpochMs?: number;
  series: readonly ChartSeries[];
}

const WIDTH = 640;
const HEIGHT = 220;
const PAD = { left: 56, right: 12, top: 28, bottom: 28 };
/** Legend entries per row, and rows at most (then "+N more"). */
const LEGEND = { perRow: 4, rows: 2, rowHeight: 14 };
const COLORS = [
  '#2f6fde',
  '#e0662b',
  '#2c9f5b',
  '#a44bc9',
  '#c9a227',
  '#1fa2b5',
  '#d6436e',
  '#6b7280',
];

/** 1, 2 or 5 times a power of ten at or above `x`: tidy tick steps. */
function niceStep(x: number): number {
  if (!(x > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(x));
  const f = x / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);
}

const num = (x: number) => (Math.round(x * 10) / 10).toString();

/** Largest axis value: the nice step above it stays finite (issue 17.2). */
const AXIS_LIMIT = 1e300;
/** An axis label's width per character at the labels' 11px, generously (digits ~6.1px). */
const LABEL_CHAR_PX = 6.5;
/** Most tick marks per axis, whatever the values (a tick loop always ends). */
const MAX_TICKS = 12;

/** A value the chart can place: finite, within ±AXIS_LIMIT. */
const plottable = (v: number | null | undefined): v is number =>
  typeof v === 'number' && Math.abs(v) <= AXIS_LIMIT;

/**
 * Tick values 0, step, 2·step, … up to `max` (inclusive, with half a step of
 * slack), at most MAX_TICKS + 1 of them: computed by index, so no loop can
 * stall on a step too small to change the value.
 */
function ticks(max: number, step: number): number[] {
  const count = Math.min(MAX_TICKS, Math.floor(max / step + 0.5));
  return Array.from({ length: count + 1 }, (_, i) => i * step);
}

export function svgLineChart(chart: LineChart): string {
  // Values no axis can hold (non-finite, beyond ±1e300) are gaps, not points.
  const series = chart.series.map((s) => ({
    name: s.name,
    values: s.values.map((v) => (plottable(v) ? v : null)),
  }));
  const values = series.flatMap((s) => s.values.filter(plottable));
  const highest = values.reduce((m, v) => Math.max(m, v), 0);
  const step = niceStep(highest / 4);
  const yMax = step * Math.max(1, Math.ceil(highest / step));
  const xMin = 0;
  const xMax = chart.xs.filter(plottable).reduce((m, t) => Math.max(m, t), 1);
  // A legend gets its own rows between the title and the plot.
  const legend = series.length > 1 ? series.length : 0;
  const legendRows = Math.min(LEGEND.rows, Math.ceil(legend / LEGEND.perRow));
  const top = PAD.top + legendRows * LEGEND.rowHeight;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - top - PAD.bottom;
  const x = (t: number) => PAD.left + ((t - xMin) / (xMax - xMin)) * plotW;
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg class="chart" role="img" aria-label="${escapeXml(chart.title)}" viewBox="0 0 ${String(WIDTH)} ${String(HEIGHT)}" width="${String(WIDTH)}" height="${String(HEIGHT)}" xmlns="http://www.w3.org/2000/svg">`,
    `<text class="title" x="${String(PAD.left)}" y="18">${escapeXml(chart.title)}</text>`,
  );
  for (const v of ticks(yMax, step)) {
    parts.push(
      `<line class="grid" x1="${String(PAD.left)}" x2="${String(WIDTH - PAD.right)}" y1="${num(y(v))}" y2="${num(y(v))}"/>`,
      `<text class="tick" x="${String(PAD.left - 6)}" y="${num(y(v) + 4)}" text-anchor="end">${escapeXml(tick(v))}</text>`,
    );
  }
  const xStep = niceStep(xMax / 6);
  for (const t of ticks(xMax - xStep / 2, xStep)) {
    // A label too wide for its place at the right edge (a wall-clock time) is left out.
    if (x(t) + (xLabel(chart, t).length * LABEL_CHAR_PX) / 2 > WIDTH) continue;
    parts.push(
      `<text class="tick" x="${num(x(t))}" y="${String(HEIGHT - 8)}" text-anchor="middle">${xLabel(chart, t)}</text>`,
    );
  }
  parts.push(
    `<text class="unit" x="${String(PAD.left - 6)}" y="${String(top - 10)}" text-anchor="end">${escapeXml(chart.unit)}</text>`,
  );
  const hovers: string[] = [];
  series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length] ?? '#000';
    // One polyline per unbroken run of values.
    let run: string[] = [];
    const flush = () => {
      if (run.length > 0) {
        parts.push(
          `<polyline class="series" data-series="${escapeXml(series.name)}" fill="none" stroke="${color}" stroke-width="2" points="${run.join(' ')}"/>`,
        );
      }
      run = [];
    };
    const points: string[] = [];
    series.values.forEach((v, j) => {
      const t = chart.xs[j];
      if (v === null || !plottable(t)) {
        flush();
        return;
      }
      run.push(`${num(x(t))},${num(y(v))}`);
      points.push(
        pointWithValue(
          x(t),
          y(v),
          `${series.name} at ${atText(chart, t)}: ${valueText(v)} ${chart.unit}`,
        ),
      );
    });
    flush();
    // Each value on hover (the point's title; no script): drawn last, above every line.
    hovers.push(...points);
  });
  parts.push(...hovers);
  const slots = legendRows * LEGEND.perRow;
  series.slice(0, legend).forEach((series, i) => {
    if (i >= slots) return;
    const lx = PAD.left + (i % LEGEND.perRow) * 140;
    const ly = PAD.top + 4 + Math.floor(i / LEGEND.perRow) * LEGEND.rowHeight;
    const more = i === slots - 1 && legend > slots;
    if (!more) {
      parts.push(
        `<rect x="${String(lx)}" y="${String(ly - 4)}" width="10" height="3" fill="${COLORS[i % COLORS.length] ?? '#000'}"/>`,
      );
    }
    const label = more ? `+${String(legend - slots + 1)} more` : series.name;
    parts.push(
      `<text class="legend" x="${String(more ? lx : lx + 14)}" y="${String(ly)}">${escapeXml(label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** A tick's label: seconds since the start, or the wall-clock time when it is known. */
function xLabel(chart: LineChart, t: number): string {
  return chart.startEpochMs === undefined ? `${String(t)}s` : clock(chart.startEpochMs + t * 1_000);
}

/** When a point was: "12:00:07 UTC (+7s)", or "7s" without a start time. */
function atText(chart: LineChart, t: number): string {
  if (chart.startEpochMs === undefined) return `${num(t)}s`;
  return `${clock(chart.startEpochMs + t * 1_000)} UTC (+${num(t)}s)`;
}

/** HH:MM:SS in UTC. */
function clock(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 19);
}

/** An invisible point that shows `title` on hover (issue 20.9). */
function pointWithValue(cx: number, cy: number, title: string): string {
  return `<circle class="point" cx="${num(cx)}" cy="${num(cy)}" r="5"><title>${escapeXml(title)}</title></circle>`;
}

/** A value as a reader wants it on hover: three significant digits at most, no exponent. */
function valueText(v: number): string {
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Number(v.toPrecision(3)).toLocaleString('en-US', { maximumFractionDigits: 3 });
}

function tick(v: number): string {
  if (v === 0) return '0';
  if (v >= 1_000_000) return `${num(v / 1_000_000)}M`;
  if (v >= 1_000) return `${num(v / 1_000)}k`;
  return Number.isInteger(v) ? String(v) : v.toPrecision(2);
}
