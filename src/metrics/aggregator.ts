import {
  METRIC_LIMITS,
  type MetricDelta,
  type MetricsPlan,
  type SeriesDelta,
  totalTrend,
  type SubmetricSpec,
  type TickPoint,
} from './delta.js';
import type { CloudSeries, CloudValue } from './cloud-series.js';
import { builtinMetric } from './builtin.js';
import { IntervalRecorder } from './intervals.js';
import {
  noSightings,
  sighted,
  SightingOrder,
  sortAddedEntries,
  type Sightings,
} from './sighting-order.js';
import { type CheckCount, checkKey, type Part, partKey } from './series-key.js';
import { createSink, isPlausibleSample, SAMPLE_LIMIT, sinkIn } from './sinks.js';
import type { MetricInfo, MetricType, ValueType } from './types.js';

type AgentSink = ReturnType<typeof createSink>;

/** Adds a sample, or a pre-aggregated value, to one sink. */
type Apply = (sink: AgentSink) => void;

/**
 * When a sample was taken, read only as far as the aggregator needs: most
 * samples need neither (k6/json-output.ts reads k6's time strings).
 */
export interface SampleTime {
  /** Epoch ms, whole: a gauge keeps its value of the latest sample by it. */
  epochMs(): number;
  /** Epoch ms to the microsecond: the interval of the time series a charted sample is filed in. */
  preciseMs(): number;
}

const GAUGES_NEED_TIME = 'gauge';

/**
 * What `parts: 'groups'` splits of the samples taken in a group: the metrics
 * the HTML report's groups table shows (report/groups-table.ts; checks come
 * from the check series). Every metric of every group doubled the deltas of
 * a script with groups, and the coordinator's CPU with them (BENCHMARKS.md 5).
 */
export const GROUP_TABLE = new Set([
  'group_duration',
  'http_reqs',
  'http_req_duration',
  'http_req_failed',
]);

/**
 * The agent's side of design.md §5: pre-aggregates k6's samples (one by one
 * from its JSON output, k6/json-output.ts) or k6's own aggregated values (its
 * cloud output) into mergeable sinks, per series, until the next
 * `takeDelta()`. Memory is bounded by the number of series, never by the
 * number of samples: parts and checks beyond METRIC_LIMITS are counted in the
 * totals but not split out, with one warning.
 */
export class MetricAggregator {
  readonly #plan: MetricsPlan;
  readonly #warn: (message: string) => void;
  readonly #defs = new Map<string, MetricInfo>();
  readonly #subsByMetric = new Map<string, SubmetricSpec[]>();
  /** Definitions not yet sent. */
  #newDefs: MetricInfo[] = [];
  #totals = new Map<string, AgentSink>();
  #subs = new Map<string, AgentSink>();
  #parts = new Map<string, Part<AgentSink>>();
  #checks = new Map<string, CheckCount>();
  readonly #seenParts = new Set<string>();
  readonly #seenChecks = new Set<string>();
  readonly #seenGroups = new Set<string>();
  #newGroups: string[] = [];
  #warned = new Set<string>();
  #ticks = new Map<string, TickPoint[]>();
  #samples = 0;
  /** The charted metrics by the time k6 gives their samples (issue 18). */
  readonly #intervals = new IntervalRecorder();
  readonly #order: SightingOrder;
  /** While a cloud push is read: the bucket each group, check and part was first seen in. */
  #sightings: Sightings | undefined;
  #bucketMs = 0;

  constructor(plan: MetricsPlan, warn: (message: string) => void) {
    this.#plan = plan;
    this.#warn = warn;
    this.#order = new SightingOrder(plan.order);
    for (const sub of plan.submetrics) {
      const list = this.#subsByMetric.get(sub.metric) ?? [];
      list.push(sub);
      this.#subsByMetric.set(sub.metric, list);
    }
  }

  /** Samples ingested so far. */
  get samples(): number {
    return this.#samples;
  }

  /**
   * The agent's own sample of its k6's vus/vus_max (`ticks`), `ms` after the
   * start instant: it samples k6 at the ticks of one k6 of the whole run, so
   * the coordinator adds the agents' values of the same instant, as one k6
   * reports them. k6's own samples fall at a phase of its own (its ticker
   * starts at its init, long before the start instant), so they are not used.
   */
  addTick(metric: string, ms: number, value: number, over = false): void {
    // The sample may come before k6's stream defines the metric: define it as k6 does.
    this.define({ name: metric, type: 'gauge', contains: 'default' });
    this.#tick(metric, over ? [ms, value, 0] : [ms, value]);
  }

  /** A metric's definition, as its output format gives it; the first one of a name holds. */
  define(data: { name: string; type: MetricType; contains: ValueType }): void {
    if (this.#defs.has(data.name)) return;
    const info: MetricInfo = { name: data.name, type: data.type, contains: data.contains };
    this.#defs.set(info.name, info);
    this.#newDefs.push(info);
  }

  /** Whether `metric` has a definition (a sample of it can be added). */
  knows(metric: string): boolean {
    return this.#defs.has(metric);
  }

  /** Adds one sample of a metric that has a definition (see `knows`). */
  addSample(metric: string, value: number, tags: Record<string, string>, time: SampleTime): void {
    const info = this.#defs.get(metric);
    if (!info) return;
    if (!isPlausibleSample(value)) {
      this.#warnOnce(
        'implausible',
        `${metric} got the value ${String(value)}: samples beyond ±${String(SAMPLE_LIMIT)} ` +
          'are left out of every metric (the coordinator would refuse them)',
      );
      return;
    }
    this.#samples++;
    const timeMs = info.type === GAUGES_NEED_TIME ? time.epochMs() : 0;
    const passed = value !== 0 ? 1 : 0;
    this.#series(info, tags, (sink) => sink.add(value, timeMs), [passed, 1 - passed]);
    if (IntervalRecorder.charts(metric)) this.#intervals.sample(metric, time.preciseMs(), value);
  }

  /** The start instant on this machine's clock: the time series counts from it. */
  setStart(startLocalMs: number): void {
    this.#intervals.setStart(startLocalMs);
  }

  #chartCloud(s: CloudSeries): void {
    if (!IntervalRecorder.charts(s.metric)) return;
    for (const v of s.values) this.#intervals.cloud(s.metric, v);
  }

  /**
   * Ingests the series of one push of k6's cloud output (issue 18): values
   * k6 already aggregated per series and aggregation bucket, added into the
   * same series kinds as the JSON stream's samples. A bucket pushed again
   * later (late samples) adds to what came before, as counts must.
   */
  ingestCloud(pushed: readonly CloudSeries[]): void {
    const before = { groups: this.#newGroups.length, checks: this.#checks.size };
    const parts = this.#parts.size;
    this.#sightings = noSightings();
    for (const s of pushed) {
      const info = this.#defineCloud(s.metric, s.type);
      for (const v of s.values) {
        const checks: [number, number] | undefined =
          v.type === 'rate' ? [v.nonzero, v.total - v.nonzero] : undefined;
        this.#samples += v.type === 'counter' ? 1 : v.type === 'rate' ? v.total : v.count;
        this.#bucketMs = v.timeMs;
        this.#series(info, s.tags, cloudApply(v), checks);
      }
      this.#chartCloud(s);
    }
    this.#orderSightings(before.groups, before.checks, parts, this.#sightings);
    this.#sightings = undefined;
  }

  /**
   * The groups, checks and parts this push added, in k6's order (issue
   * 18.2): the push lists its series in random order. Only this agent's new
   * names of this delta move, among themselves.
   */
  #orderSightings(groups: number, checks: number, parts: number, seen: Sightings): void {
    const added = this.#newGroups.splice(groups);
    const at = (group: string) => seen.groups.get(group) ?? 0;
    added.sort((a, b) => at(a) - at(b) || this.#order.compareGroups(a, b));
    this.#newGroups.push(...added);
    this.#checks = sortAddedEntries(this.#checks, checks, seen.checks, (a, b) =>
      this.#order.compareChecks(a, b),
    );
    this.#parts = sortAddedEntries(this.#parts, parts, seen.parts, (a, b) =>
      this.#order.compareParts(a, b),
    );
  }

  /**
   * k6's cloud output names a metric's type but not what its values are
   * (time, data): built-in metrics and those the coordinator learnt from k6
   * know it; any other custom metric counts as plain numbers.
   */
  #defineCloud(name: string, type: MetricType): MetricInfo {
    const known = this.#defs.get(name);
    if (known) return known;
    const info = builtinMetric(name) ??
      this.#plan.metrics?.find((m) => m.name === name) ?? { name, type, contains: 'default' };
    this.define({ name, type, contains: info.contains });
    return this.#defs.get(name) ?? info;
  }

  /**
   * One sample or aggregated value of a series with these tags, into the
   * run's total, the submetrics it belongs to, its scenario/group part and,
   * for `checks`, its check (`checks`: passes and fails it holds).
   */
  #series(
    info: MetricInfo,
    tags: Record<string, string>,
    apply: Apply,
    checks: [number, number] | undefined,
  ): void {
    const metric = info.name;
    apply(sinkIn(this.#totals, metric, info.type));
    const subs = this.#subsByMetric.get(metric);
    if (subs) {
      for (const sub of subs) {
        if (contains(tags, sub.tags)) apply(sinkIn(this.#subs, sub.key, info.type));
      }
    }
    const group = tags.group ?? '';
    const scenario = tags.scenario ?? '';
    // k6 builds root_group from these two metrics only (lib.GroupSummary):
    // setup()'s data_sent, tagged `::setup`, makes no group.
    if (group !== '' && (metric === 'checks' || metric === 'group_duration')) {
      if (!this.#seenGroups.has(group)) this.#noteGroup(group);
      if (this.#sightings) sighted(this.#sightings.groups, group, this.#bucketMs);
    }
    if (metric === 'checks' && tags.check !== undefined && checks) {
      this.#check(tags.check, group, scenario, checks[0], checks[1]);
    }
    const { parts } = this.#plan;
    if (parts === true || (parts === 'groups' && group !== '' && GROUP_TABLE.has(metric))) {
      this.#part(scenario, group, metric, info.type, apply);
    }
  }

  #tick(metric: string, point: TickPoint): void {
    let points = this.#ticks.get(metric);
    if (!points) {
      points = [];
      this.#ticks.set(metric, points);
    }
    // Only while the coordinator is out of reach for an hour: the newest count.
    if (points.length >= METRIC_LIMITS.maxTicksPerDelta) points.shift();
    points.push(point);
  }

  #noteGroup(group: string): void {
    if (this.#seenGroups.size >= METRIC_LIMITS.maxParts) {
      this.#warnOnce('groups', `more than ${String(METRIC_LIMITS.maxParts)} distinct groups`);
      return;
    }
    this.#seenGroups.add(group);
    this.#newGroups.push(group);
  }

  #check(name: string, group: string, scenario: string, passes: number, fails: number): void {
    const key = checkKey({ name, group, scenario });
    if (this.#sightings) sighted(this.#sightings.checks, key, this.#bucketMs);
    let count = this.#checks.get(key);
    if (!count) {
      if (!this.#admit(this.#seenChecks, key, METRIC_LIMITS.maxChecks, 'checks')) return;
      count = { name, group, scenario, passes: 0, fails: 0 };
      this.#checks.set(key, count);
    }
    count.passes += passes;
    count.fails += fails;
  }

  #part(scenario: string, group: string, metric: string, type: MetricType, apply: Apply): void {
    const key = partKey({ scenario, group });
    if (this.#sightings) sighted(this.#sightings.parts, key, this.#bucketMs);
    let part = this.#parts.get(key);
    if (!part) {
      if (!this.#admit(this.#seenParts, key, METRIC_LIMITS.maxParts, 'scenario/group parts')) {
        return;
      }
      part = { scenario, group, sinks: new Map() };
      this.#parts.set(key, part);
    }
    apply(sinkIn(part.sinks, metric, type));
  }

  /** A new series is admitted while under its bound; past it, warn once and drop the split. */
  #admit(seen: Set<string>, key: string, limit: number, what: string): boolean {
    if (seen.has(key)) return true;
    if (seen.size >= limit) {
      this.#warnOnce(
        what,
        `more than ${String(limit)} distinct ${what}; the totals stay exact but further ` +
          `${what} are not reported separately. A tag with unbounded values (an ID in a ` +
          'group or check name) causes this: keep such values out of names.',
      );
      return false;
    }
    seen.add(key);
    return true;
  }

  #warnOnce(what: string, message: string): void {
    if (this.#warned.has(what)) return;
    this.#warned.add(what);
    this.#warn(message);
  }

  /** Everything aggregated since the last call; the aggregator starts afresh. */
  takeDelta(): MetricDelta {
    const series: SeriesDelta[] = [];
    for (const [metric, sink] of this.#totals) {
      series.push({ kind: 'total', metric, sink: sink.toWire() });
    }
    for (const [key, sink] of this.#subs) series.push({ kind: 'sub', key, sink: sink.toWire() });
    for (const part of this.#parts.values()) {
      for (const [metric, sink] of part.sinks) {
        series.push({
          kind: 'part',
          metric,
          scenario: part.scenario,
          group: part.group,
          sink: sink.toWire(),
        });
      }
    }
    for (const c of this.#checks.values()) series.push({ kind: 'check', ...c });
    for (const [metric, points] of this.#ticks) series.push({ kind: 'ticks', metric, points });
    const used = new Set<string>();
    for (const s of series) {
      if (s.kind === 'total' || s.kind === 'part' || s.kind === 'ticks') used.add(s.metric);
    }
    const delta: MetricDelta = {
      metrics: [...this.#defs.values()].filter((d) => used.has(d.name)),
      groups: this.#newGroups,
      series,
    };
    if (!this.#intervals.idle) {
      delta.timeline = this.#intervals.take(
        totalTrend(series, 'http_req_duration')?.count ?? 0,
        totalTrend(series, 'iteration_duration')?.count ?? 0,
      );
    }
    this.#newDefs = [];
    this.#newGroups = [];
    this.#totals = new Map();
    this.#subs = new Map();
    this.#parts = new Map();
    this.#checks = new Map();
    this.#ticks = new Map();
    return delta;
  }

  /** True when nothing was aggregated since the last delta. */
  get idle(): boolean {
    return (
      this.#totals.size === 0 &&
      this.#checks.size === 0 &&
      this.#ticks.size === 0 &&
      this.#intervals.idle &&
      this.#newGroups.length === 0 &&
      this.#newDefs.length === 0
    );
  }
}

/** k6's submetric rule: a sample belongs when its tags contain every listed tag. */
function contains(tags: Record<string, string>, wanted: Record<string, string>): boolean {
  // Own properties only: a tag named `constructor` is not Object.prototype's (issue 17.11).
  for (const [key, value] of Object.entries(wanted)) {
    if (!Object.hasOwn(tags, key) || tags[key] !== value) return false;
  }
  return true;
}

/**
 * How one of k6's aggregated values goes into a sink. A gauge's bucket gives
 * its last value at the bucket's time. k6 starts a bucket's max at 0, so a
 * gauge of only negative values reads max 0 there; with one sample, last is
 * the max.
 */
function cloudApply(v: CloudValue): Apply {
  switch (v.type) {
    case 'counter':
      return (sink) => sink.mergeWire({ t: 'counter', sum: v.value });
    case 'gauge': {
      const max = v.count === 1 ? v.last : v.max;
      return (sink) =>
        sink.mergeWire({ t: 'gauge', value: v.last, time: v.timeMs, min: v.min, max });
    }
    case 'rate':
      return (sink) => sink.mergeWire({ t: 'rate', trues: v.nonzero, total: v.total });
    case 'trend':
      return (sink) => sink.mergeK6?.(v);
  }
}
