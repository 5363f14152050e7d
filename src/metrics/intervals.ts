import { CLOUD_AGGREGATION_PERIOD_MS, type CloudValue } from './cloud-series.js';
import { METRIC_LIMITS, TIMELINE_INTERVAL_MS, type IntervalContribution } from './delta.js';
import { Histogram } from './histogram.js';

/** The metrics the time series charts (metrics/timeline.ts), each of the run's totals. */
const CHARTED = new Set([
  'http_reqs',
  'iterations',
  'http_req_failed',
  'http_req_duration',
  'vus',
  'iteration_duration',
  'data_received',
  'data_sent',
]);

interface Slot {
  requests: number;
  iterations: number;
  failed: number;
  checked: number;
  durations: Histogram | undefined;
  iterationDurations: Histogram | undefined;
  received: number;
  sent: number;
  vus: number | undefined;
  /** When `vus` was sampled (agent clock): the last by time wins. */
  vusAt: number;
}

const emptySlot = (): Slot => ({
  requests: 0,
  iterations: 0,
  failed: 0,
  checked: 0,
  durations: undefined,
  iterationDurations: undefined,
  received: 0,
  sent: 0,
  vus: undefined,
  vusAt: -Infinity,
});

/**
 * The agent's side of the time series (issue 18): the charted metrics'
 * samples filed by the time k6 gives them (a JSON point's own time, a cloud
 * value's aggregation bucket), under intervals of the run counted from the
 * start instant on this machine's clock. The coordinator adds the agents'
 * intervals of the same index, so a chart's second holds exactly the samples
 * k6 stamped in it, however late they arrive. Samples before the start
 * instant is known (setup()) go under the first interval.
 */
export class IntervalRecorder {
  readonly #intervalMs = TIMELINE_INTERVAL_MS;
  readonly #cloudPeriodMs = CLOUD_AGGREGATION_PERIOD_MS;
  #startLocalMs: number | undefined;
  #slots = new Map<number, Slot>();

  static charts(metric: string): boolean {
    return CHARTED.has(metric);
  }

  /** The start instant on this machine's clock (epoch ms). */
  setStart(startLocalMs: number): void {
    this.#startLocalMs = startLocalMs;
  }

  /** One sample of a charted metric at `timeMs` (this machine's clock). */
  sample(metric: string, timeMs: number, value: number): void {
    const slot = this.#slot(timeMs);
    switch (metric) {
      case 'http_reqs':
        slot.requests += value;
        break;
      case 'iterations':
        slot.iterations += value;
        break;
      case 'http_req_failed':
        slot.checked++;
        if (value !== 0) slot.failed++;
        break;
      case 'http_req_duration':
        (slot.durations ??= new Histogram()).add(value);
        break;
      case 'vus':
        setVus(slot, value, timeMs);
        break;
      case 'iteration_duration':
        (slot.iterationDurations ??= new Histogram()).add(value);
        break;
      case 'data_received':
        slot.received += value;
        break;
      case 'data_sent':
        slot.sent += value;
        break;
      default:
    }
  }

  /**
   * One aggregated value of a charted metric: the bucket is filed under the
   * interval holding its middle (the start instant is a whole second of the
   * coordinator's clock, so k6's whole-second buckets match the intervals
   * within the agents' clock offset).
   */
  cloud(metric: string, v: CloudValue): void {
    const slot = this.#slot(v.timeMs + this.#cloudPeriodMs / 2);
    if (metric === 'http_reqs' && v.type === 'counter') slot.requests += v.value;
    else if (metric === 'iterations' && v.type === 'counter') slot.iterations += v.value;
    else if (metric === 'http_req_failed' && v.type === 'rate') {
      slot.failed += v.nonzero;
      slot.checked += v.total;
    } else if (metric === 'http_req_duration' && v.type === 'trend') {
      (slot.durations ??= new Histogram()).mergeK6(v);
    } else if (metric === 'vus' && v.type === 'gauge') setVus(slot, v.last, v.timeMs);
    else if (metric === 'iteration_duration' && v.type === 'trend') {
      (slot.iterationDurations ??= new Histogram()).mergeK6(v);
    } else if (metric === 'data_received' && v.type === 'counter') slot.received += v.value;
    else if (metric === 'data_sent' && v.type === 'counter') slot.sent += v.value;
  }

  get idle(): boolean {
    return this.#slots.size === 0;
  }

  /**
   * The intervals since the last call, oldest first; the recorder starts
   * afresh. `totalDurations`, `totalIterationDurations`: how many
   * http_req_duration and iteration_duration samples the delta's totals
   * hold; one interval holding them all says `total` instead of sending
   * them twice.
   */
  take(totalDurations = 0, totalIterationDurations = 0): IntervalContribution[] {
    const slots = [...this.#slots].sort(([a], [b]) => a - b);
    this.#slots = new Map();
    const only = slots.length === 1 ? slots[0]?.[1] : undefined;
    const whole = only?.durations?.count === totalDurations;
    const wholeIterations = only?.iterationDurations?.count === totalIterationDurations;
    return slots.map(([i, s]) => ({
      i,
      requests: s.requests,
      iterations: s.iterations,
      failed: s.failed,
      checked: s.checked,
      ...(s.durations &&
        s.durations.count > 0 && { durations: whole ? ('total' as const) : s.durations.toWire() }),
      ...(s.vus !== undefined && { vus: s.vus }),
      ...(s.iterationDurations &&
        s.iterationDurations.count > 0 && {
          iterationDurations: wholeIterations ? ('total' as const) : s.iterationDurations.toWire(),
        }),
      ...(s.received > 0 && { received: s.received }),
      ...(s.sent > 0 && { sent: s.sent }),
    }));
  }

  #slot(timeMs: number): Slot {
    const start = this.#startLocalMs;
    const i =
      start === undefined ? 0 : Math.max(0, Math.floor((timeMs - start) / this.#intervalMs));
    return this.#slots.get(i) ?? this.#newSlot(i);
  }

  /**
   * Only while the coordinator is out of reach for minutes are there more
   * intervals than a delta may hold: the oldest joins the next one, so memory
   * and the delta stay bounded and every count still arrives.
   */
  #newSlot(i: number): Slot {
    if (this.#slots.size >= METRIC_LIMITS.maxIntervalsPerDelta) {
      const [oldest, next] = [...this.#slots.keys()].sort((a, b) => a - b);
      if (oldest !== undefined && i < oldest) return this.#slots.get(oldest) as Slot;
      if (oldest !== undefined && next !== undefined) this.#fold(oldest, next);
    }
    const slot = emptySlot();
    this.#slots.set(i, slot);
    return slot;
  }

  #fold(oldest: number, next: number): void {
    const from = this.#slots.get(oldest) as Slot;
    const to = this.#slots.get(next) as Slot;
    this.#slots.delete(oldest);
    to.requests += from.requests;
    to.iterations += from.iterations;
    to.failed += from.failed;
    to.checked += from.checked;
    if (from.durations) (to.durations ??= new Histogram()).merge(from.durations);
    if (from.vus !== undefined) setVus(to, from.vus, from.vusAt);
    if (from.iterationDurations) {
      (to.iterationDurations ??= new Histogram()).merge(from.iterationDurations);
    }
    to.received += from.received;
    to.sent += from.sent;
  }
}

function setVus(slot: Slot, value: number, atMs: number): void {
  if (atMs < slot.vusAt) return;
  slot.vus = value;
  slot.vusAt = atMs;
}
