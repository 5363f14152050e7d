import { parseGoDuration, type K6Options } from '../k6/archive.js';

type Scenarios = NonNullable<K6Options['scenarios']>;
type Scenario = Scenarios[string];

/**
 * How far each scenario is, as k6's progress bars say it (issue 20.5): the
 * time run of a duration-based executor, the iterations done of an
 * iteration-based one, from the merged run's counts.
 */
export interface ScenarioProgress {
  name: string;
  /** 0–100. */
  percent: number;
  /**
   * As k6 words it: "10 VUs  1.0s/3s", "2 VUs  24/60 shared iters",
   * "2 VUs  8/20 iters, 10 per VU", "05/10 VUs  1.0s/3s", "waiting 5s".
   */
  detail: string;
}

/** k6's executors whose VUs change during the run: it shows "current/max VUs". */
const VARYING = new Set(['ramping-vus', 'constant-arrival-rate', 'ramping-arrival-rate']);

const TIMED = new Set([
  'constant-vus',
  'constant-arrival-rate',
  'externally-controlled',
  'ramping-vus',
  'ramping-arrival-rate',
]);

/**
 * Each scenario's progress `elapsedMs` into the run, with `iterations` the
 * merged count of each scenario's completed iterations (undefined: not
 * known) and `vus` the run's active VUs now. A scenario whose options or
 * count this cannot read is left out rather than shown wrong; the VUs of a
 * scenario whose count varies are shown only when it is the test's one
 * scenario (the run's VUs are then its own).
 */
export function scenarioProgress(
  scenarios: Scenarios,
  elapsedMs: number,
  iterations: ReadonlyMap<string, number> | undefined,
  vus?: number,
): ScenarioProgress[] {
  const only = Object.keys(scenarios).length === 1;
  return Object.entries(scenarios).flatMap(([name, scenario]) => {
    try {
      const counted = iterations && (iterations.get(name) ?? 0);
      const progress = oneScenario(scenario, elapsedMs, counted);
      if (!progress) return [];
      const count = vusText(scenario, only ? vus : undefined);
      const waiting = progress.detail.startsWith('waiting');
      const detail = count && !waiting ? `${count}  ${progress.detail}` : progress.detail;
      return [{ name, percent: progress.percent, detail }];
    } catch {
      return [];
    }
  });
}

/** "10 VUs" for a fixed count, "05/10 VUs" for a varying one (when known), as k6 pads it. */
function vusText(scenario: Scenario, current: number | undefined): string | undefined {
  if (VARYING.has(scenario.executor)) {
    const max = maxVUs(scenario);
    if (current === undefined || max === undefined) return undefined;
    const width = String(max).length;
    return `${String(Math.min(current, max)).padStart(width, '0')}/${String(max)} VUs`;
  }
  if (!['constant-vus', 'shared-iterations', 'per-vu-iterations'].includes(scenario.executor)) {
    return undefined;
  }
  const count = Number(scenario.vus ?? 1);
  return Number.isInteger(count) && count > 0 ? `${String(count)} VUs` : undefined;
}

/** The most VUs a varying scenario may have: maxVUs, or its start and stage targets. */
function maxVUs(scenario: Scenario): number | undefined {
  if (scenario.executor !== 'ramping-vus') {
    const max = Number(scenario.maxVUs ?? scenario.preAllocatedVUs);
    return Number.isInteger(max) && max > 0 ? max : undefined;
  }
  const targets = Array.isArray(scenario.stages)
    ? scenario.stages.map((stage: unknown) => Number((stage as { target?: unknown }).target ?? 0))
    : [];
  const max = Math.max(Number(scenario.startVUs ?? 1), ...targets);
  return Number.isInteger(max) && max > 0 ? max : undefined;
}

function oneScenario(
  scenario: Scenario,
  elapsedMs: number,
  counted: number | undefined,
): Omit<ScenarioProgress, 'name'> | undefined {
  const startMs = parseGoDuration(text(scenario.startTime) ?? '0s');
  const sinceStart = elapsedMs - startMs;
  if (sinceStart < 0) {
    return { percent: 0, detail: `waiting ${seconds(-sinceStart)}` };
  }
  if (TIMED.has(scenario.executor)) {
    const total = timedTotal(scenario);
    if (total === undefined) return undefined;
    const totalMs = parseGoDuration(total);
    const ran = Math.min(sinceStart, totalMs);
    return { percent: percentOf(ran, totalMs), detail: `${seconds(ran)}/${total}` };
  }
  const iterations = Number(scenario.iterations);
  if (!Number.isFinite(iterations) || iterations <= 0) return undefined;
  // Iterations of this scenario the merged run cannot tell apart (a compact summary).
  if (counted === undefined) return undefined;
  const done = counted;
  if (scenario.executor === 'shared-iterations') {
    return {
      percent: percentOf(done, iterations),
      detail: `${String(Math.min(done, iterations))}/${String(iterations)} shared iters`,
    };
  }
  if (scenario.executor === 'per-vu-iterations') {
    const total = iterations * Number(scenario.vus ?? 1);
    return {
      percent: percentOf(done, total),
      detail: `${String(Math.min(done, total))}/${String(total)} iters, ${String(iterations)} per VU`,
    };
  }
  return undefined;
}

/** A duration-based scenario's own length: `duration`, or its stages added up. */
function timedTotal(scenario: Scenario): string | undefined {
  const duration = text(scenario.duration);
  if (duration !== undefined) return duration;
  const stages = scenario.stages;
  if (!Array.isArray(stages)) return undefined;
  const ms = stages.reduce<number>(
    (sum, stage: unknown) =>
      sum + parseGoDuration(text((stage as { duration?: unknown }).duration) ?? '0s'),
    0,
  );
  return seconds(ms);
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

const percentOf = (part: number, whole: number) =>
  whole <= 0 ? 100 : Math.max(0, Math.min(100, (part / whole) * 100));

/** "1.0s", "1m05.0s": as k6's progress bars count time. */
/** k6's running line clock: `0m05.0s`. */
export function runningClock(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  const minutes = Math.floor(s / 60);
  return `${String(minutes)}m${(s - minutes * 60).toFixed(1).padStart(4, '0')}s`;
}

/** k6's scenario clock: `5.0s`, from a minute on as the running line's. */
function seconds(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return s < 60 ? `${s.toFixed(1)}s` : runningClock(ms);
}

/**
 * The lines, as k6 prints them under its running line:
 * `default   [  33% ] 1.0s/3s`.
 */
export function scenarioProgressLines(progress: readonly ScenarioProgress[]): string[] {
  const width = Math.max(0, ...progress.map((p) => p.name.length));
  return progress.map(
    (p) =>
      `${p.name.padEnd(width)}   [ ${String(Math.round(p.percent)).padStart(3)}% ] ${p.detail}`,
  );
}
