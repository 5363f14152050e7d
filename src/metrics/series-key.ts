/**
 * What names a part (the samples of one scenario and group) and a check, and
 * the one map key each is filed under, for the agent's aggregator and the
 * coordinator's store alike.
 */

export interface PartId {
  readonly scenario: string;
  readonly group: string;
}

export interface CheckId {
  readonly name: string;
  readonly group: string;
  readonly scenario: string;
}

/** A part's sinks, by metric name. */
export interface Part<S> extends PartId {
  readonly sinks: Map<string, S>;
}

/** A check's results so far. */
export interface CheckCount extends CheckId {
  passes: number;
  fails: number;
}

/** NUL joins the names: what no script puts in a scenario, group or check name. */
const JOIN = '\u0000';

export function partKey(part: PartId): string {
  return `${part.scenario}${JOIN}${part.group}`;
}

export function checkKey(check: CheckId): string {
  return `${check.group}${JOIN}${check.scenario}${JOIN}${check.name}`;
}
