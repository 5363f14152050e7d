import type { MetricTransport } from './protocol/messages.js';

/**
 * Defaults that more than one module needs, written once: the coordinator's
 * own, the CLI's help text and the agent's fallback all read them here.
 */

/**
 * How long the coordinator holds a long-poll open when nothing changes: keeps
 * under Cloudflare's 100 s limit on a proxied request with margin.
 */
export const POLL_HOLD_MS = 25_000;

/** How long the coordinator waits for every agent to register (the CLI's and the core's). */
export const JOIN_TIMEOUT_MS = 300_000;

/**
 * The action's join-timeout, as action.yml declares it: longer than the CLI's,
 * as matrix jobs queue for runners, and agents wait as long for the coordinator.
 */
export const ACTION_JOIN_TIMEOUT = '10m';

/** A duration in milliseconds as the CLI's help shows a default (`25s`, `5m`). */
export function defaultLabel(ms: number): string {
  return ms % 60_000 === 0 ? `${String(ms / 60_000)}m` : `${String(ms / 1000)}s`;
}

/**
 * How agents get their k6's samples: k6's own cloud output into a loopback
 * ingest (issue 18; ~0.95× plain k6), `json` the fallback. The CLI's, the
 * action's (action.yml says the same) and the coordinator's.
 */
export const METRIC_TRANSPORT = 'cloud' satisfies MetricTransport;

/**
 * Beyond this many agents, logs and the text report summarise them (the
 * slowest, the ones worth a look) instead of a line each (issue 20.6).
 */
export const MAX_LISTED_AGENTS = 20;
/** How many agents a warning names before it counts the rest (idle, saturated). */
export const MAX_NAMED_AGENTS = 5;
