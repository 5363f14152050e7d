import { K6DistributedError } from '../errors.js';
import { type MetricDelta, type SeriesDelta, type SubmetricSpec } from './delta.js';
import { AgentBudget, type LimitBreach } from './agent-budget.js';
import { builtinMetric, PER_INSTANCE_GAUGES } from './builtin.js';
import { InstanceGauges, type InstanceGaugeRun } from './instance-gauges.js';
import { type CheckCount, checkKey, type Part, partKey } from './series-key.js';
import { createSink, sinkIn } from './sinks.js';
import type { MetricInfo, MetricType, Sink } from './types.js';

type StoreSink = ReturnType<typeof createSink>;

/** The few per-agent numbers the run report shows. */
export interface AgentTotals {
  iterations: number;
  httpReqs: number;
  httpReqFailures: number;
}

/**
 * The coordinator's merged metrics (design.md §5): every agent's deltas added
 * into one sink per series, so thresholds and the summary read what one big
 * k6 would have measured. A delta is validated whole before any of it is
 * applied: a bad one changes nothing.
 */
export class MetricStore {
  readonly #defs = new Map<string, MetricInfo>();
  readonly #declared = new Map<string, MetricInfo>();
  readonly #subSpecs: ReadonlyMap<string, SubmetricSpec>;
  readonly #totals = new Map<string, StoreSink>();
  readonly #subs = new Map<string, StoreSink>();
  readonly #parts = new Map<string, Part<StoreSink>>();
  readonly #checks = new Map<string, CheckCount>();
  readonly #groups: string[] = [];
  readonly #groupSet = new Set<string>();
  /** PER_INSTANCE_GAUGES, summed over agents once a second of the run. */
  readonly #instanceGauges = new InstanceGauges();
  /** Their merged sinks as of the last `settle()`. */
  #instanceSinks = new Map<string, Sink>();
  readonly #agentTotals = new Map<string, Map<string, StoreSink>>();
  readonly #budgets = new Map<string, AgentBudget>();

  /**
   * @param options.metrics definitions the coordinator learnt from k6 itself
   *   (the thresholds' custom metrics): known before any sample, and an
   *   agent's definition must agree with them.
   * @param options.declared the script's own declarations (k6/script-scan.ts
   *   ScriptScan.metricTypes): an agent's definition must agree with them too, so
   *   the first agent to report a metric cannot decide its type for the
   *   others; unlike `metrics`, they do not make the metric appear.
   */
  constructor(options: {
    submetrics: readonly SubmetricSpec[];
    metrics?: readonly MetricInfo[];
    declared?: readonly MetricInfo[];
  }) {
    this.#subSpecs = new Map(options.submetrics.map((s) => [s.key, s]));
    for (const def of options.metrics ?? []) this.#defs.set(def.name, def);
    for (const def of options.declared ?? []) this.#declared.set(def.name, def);
  }

  /** The run started: the agents in it and the setup() time it counts before the start instant. */
  startRun(run: InstanceGaugeRun): void {
    this.#instanceGauges.start(run);
  }

  /**
   * Brings vus and vus_max up to the run's first `durationMs`, as one k6 would
   * have sampled them by then (`final`: the run is over).
   */
  settle(durationMs: number, final: boolean): void {
    const sinks = new Map<string, Sink>();
    for (const metric of this.#instanceGauges.metrics) {
      const sink = this.#instanceGauges.sink(metric, durationMs, final);
      if (sink) sinks.set(metric, sink);
    }
    this.#instanceSinks = sinks;
  }

  /**
   * Adds one agent's delta. Throws BAD_REQUEST, having changed nothing, if it
   * does not fit. What passes the agent's cumulative limits (AGENT_LIMITS) is
   * left out, the rest applied: returns the limits this delta passed first.
   */
  apply(agentId: string, delta: MetricDelta): LimitBreach[] {
    const incoming = this.#validate(delta);
    const budget = this.#budget(agentId);
    for (const def of incoming.values()) {
      if (budget.admitName('metrics', def.name) && !this.#defs.has(def.name)) {
        this.#defs.set(def.name, def);
      }
    }
    for (const group of delta.groups) {
      if (this.#groupSet.has(group) || !budget.admitName('groups', group)) continue;
      this.#groupSet.add(group);
      this.#groups.push(group);
    }
    for (const series of delta.series) this.#applySeries(agentId, budget, series);
    return budget.takeBreaches();
  }

  #budget(agentId: string): AgentBudget {
    let budget = this.#budgets.get(agentId);
    if (!budget) {
      budget = new AgentBudget();
      this.#budgets.set(agentId, budget);
    }
    return budget;
  }

  #validate(delta: MetricDelta): Map<string, MetricInfo> {
    const defs = new Map<string, MetricInfo>();
    for (const def of delta.metrics) {
      const known =
        this.#defs.get(def.name) ??
        defs.get(def.name) ??
        builtinMetric(def.name) ??
        this.#declared.get(def.name);
      if (known && (known.type !== def.type || known.contains !== def.contains)) {
        throw badDelta(`metric ${def.name} is a ${known.type}, not a ${def.type}`);
      }
      defs.set(def.name, def);
    }
    const typeOf = (metric: string): MetricType => {
      const info = defs.get(metric) ?? this.#defs.get(metric);
      if (!info) throw badDelta(`metric ${metric} has no definition`);
      return info.type;
    };
    for (const series of delta.series) {
      if (series.kind === 'check') continue;
      if (series.kind === 'ticks') {
        if (!PER_INSTANCE_GAUGES.has(series.metric) || typeOf(series.metric) !== 'gauge') {
          throw badDelta(`ticks are for k6's vus and vus_max only, not ${series.metric}`);
        }
        continue;
      }
      const metric = series.kind === 'sub' ? this.#subSpecs.get(series.key)?.metric : series.metric;
      if (metric === undefined) {
        throw badDelta(
          `unknown submetric ${series.kind === 'sub' ? JSON.stringify(series.key) : ''}`,
        );
      }
      const type = typeOf(metric);
      if (series.sink.t !== type) {
        throw badDelta(`metric ${metric} is a ${type} but its series holds a ${series.sink.t}`);
      }
    }
    return defs;
  }

  #applySeries(agentId: string, budget: AgentBudget, series: SeriesDelta): void {
    switch (series.kind) {
      case 'total':
        if (this.#usable(budget, series.metric)) {
          this.#applyTotal(agentId, budget, series.metric, series.sink);
        }
        return;
      case 'sub': {
        const spec = this.#subSpecs.get(series.key);
        if (!spec || !this.#usable(budget, spec.metric)) return;
        this.#series(budget, this.#subs, series.key, spec.metric)?.mergeWire(series.sink);
        return;
      }
      case 'part': {
        if (!this.#usable(budget, series.metric)) return;
        const part = this.#part(budget, series.scenario, series.group);
        if (part)
          this.#series(budget, part.sinks, series.metric, series.metric)?.mergeWire(series.sink);
        return;
      }
      case 'ticks':
        if (this.#usable(budget, series.metric)) {
          this.#instanceGauges.add(agentId, series.metric, series.points);
        }
        return;
      case 'check': {
        const check = this.#check(budget, series);
        if (!check) return;
        check.passes += series.passes;
        check.fails += series.fails;
        return;
      }
    }
  }

  /** A metric this agent defined (or k6 built in) within its limit of distinct metrics. */
  #usable(budget: AgentBudget, metric: string): boolean {
    return this.info(metric) !== undefined && budget.admitName('metrics', metric);
  }

  /** The merged sink `key` of `map`, if this agent may feed it (a new one counts against it). */
  #series(
    budget: AgentBudget,
    map: Map<string, StoreSink>,
    key: string,
    metric: string,
  ): StoreSink | undefined {
    const known = map.get(key);
    if (budget.has('series', known)) return known;
    if (!budget.room('series')) return undefined;
    const sink = known ?? sinkIn(map, key, this.#type(metric));
    budget.add('series', sink);
    return sink;
  }

  #part(budget: AgentBudget, scenario: string, group: string): Part<StoreSink> | undefined {
    const key = partKey({ scenario, group });
    const known = this.#parts.get(key);
    if (budget.has('parts', known)) return known;
    if (!budget.room('parts')) return undefined;
    const part = known ?? { scenario, group, sinks: new Map() };
    this.#parts.set(key, part);
    budget.add('parts', part);
    return part;
  }

  #check(
    budget: AgentBudget,
    series: Extract<SeriesDelta, { kind: 'check' }>,
  ): CheckCount | undefined {
    const key = checkKey(series);
    const known = this.#checks.get(key);
    if (budget.has('checks', known)) return known;
    if (!budget.room('checks')) return undefined;
    const check = known ?? {
      name: series.name,
      group: series.group,
      scenario: series.scenario,
      passes: 0,
      fails: 0,
    };
    this.#checks.set(key, check);
    budget.add('checks', check);
    return check;
  }

  #applyTotal(
    agentId: string,
    budget: AgentBudget,
    metric: string,
    wire: Parameters<StoreSink['mergeWire']>[0],
  ): void {
    const type = this.#type(metric);
    // Each k6's own vus/vus_max merge from their ticks instead.
    if (!PER_INSTANCE_GAUGES.has(metric)) {
      const sink = this.#series(budget, this.#totals, metric, metric);
      if (!sink) return;
      sink.mergeWire(wire);
    }
    if (type !== 'trend')
      sinkIn(agentMap(this.#agentTotals, agentId), metric, type).mergeWire(wire);
  }

  #type(metric: string): MetricType {
    const info = this.#defs.get(metric) ?? builtinMetric(metric);
    if (!info) throw new Error(`unreachable: metric ${metric} validated without a definition`);
    return info.type;
  }

  /** A metric's definition: seen in a delta, or one of k6's built-ins. */
  info(metric: string): MetricInfo | undefined {
    return this.#defs.get(metric) ?? builtinMetric(metric);
  }

  /** Every metric with samples, first-seen order; vus and vus_max as of the last `settle()`. */
  get metrics(): ReadonlyMap<string, Sink> {
    return new Map<string, Sink>([...this.#totals, ...this.#instanceSinks]);
  }

  /** The merged sink of a metric (`http_reqs`) or a threshold's submetric key. */
  sink(key: string): Sink | undefined {
    return this.#totals.get(key) ?? this.#instanceSinks.get(key) ?? this.#subs.get(key);
  }

  get submetrics(): ReadonlyMap<string, Sink> {
    return this.#subs;
  }

  get submetricSpecs(): ReadonlyMap<string, SubmetricSpec> {
    return this.#subSpecs;
  }

  get parts(): Iterable<Part<StoreSink>> {
    return this.#parts.values();
  }
  /**
   * Every sample of each named scenario whatever its group (the full
   * summary's SCENARIO blocks): the merge of that scenario's parts.
   */
  scenarioTotals(): Map<string, Map<string, StoreSink>> {
    const totals = new Map<string, Map<string, StoreSink>>();
    for (const part of this.#parts.values()) {
      if (part.scenario === '') continue;
      let sinks = totals.get(part.scenario);
      if (!sinks) {
        sinks = new Map();
        totals.set(part.scenario, sinks);
      }
      for (const [name, sink] of part.sinks) {
        sinkIn(sinks, name, sink.type).mergeWire(sink.toWire());
      }
    }
    return totals;
  }

  get checks(): Iterable<CheckCount> {
    return this.#checks.values();
  }

  /** Group paths (`::a::b`), first-seen order. */
  get groups(): readonly string[] {
    return this.#groups;
  }

  agentTotals(agentId: string): AgentTotals {
    const sinks = this.#agentTotals.get(agentId);
    const value = (metric: string, key: string) => sinks?.get(metric)?.values(0, [])[key] ?? 0;
    return {
      iterations: value('iterations', 'count'),
      httpReqs: value('http_reqs', 'count'),
      httpReqFailures: value('http_req_failed', 'passes'),
    };
  }
}

function agentMap<T>(map: Map<string, Map<string, T>>, key: string): Map<string, T> {
  let inner = map.get(key);
  if (!inner) {
    inner = new Map();
    map.set(key, inner);
  }
  return inner;
}

function badDelta(reason: string): K6DistributedError {
  return new K6DistributedError('BAD_REQUEST', `invalid metric delta: ${reason}`);
}
