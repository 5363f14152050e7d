import { setTimeout as sleep } from 'node:timers/promises';

import { isRunOver, type K6RestClient, type K6Status } from '../k6/rest-client.js';

/** This machine's clock (epoch ms) with sub-millisecond resolution. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

export interface RunEnd {
  status: K6Status;
  /** When k6's run ended (this machine's clock, epoch ms): the middle of the last poll gap. */
  atMs: number;
}

/**
 * Waits for k6's run to end and tells when it ended. k6's REST API has no end
 * time, so the end lies between the last poll that saw the run going and the
 * first that saw it over. Polls come closer together the shorter the run so
 * far (1/50 of it, 2 ms to `maxIntervalMs`): the run duration, and every rate
 * divided by it, stays within 1 % even for a run of milliseconds, while a
 * long run is polled as rarely as before.
 */
export async function waitForRunEnd(
  api: K6RestClient,
  options: {
    /** When the unpause was sent: the run cannot have ended before. */
    unpausedMs: number;
    maxIntervalMs: number;
    signal: AbortSignal;
  },
): Promise<RunEnd> {
  let goingAt = options.unpausedMs;
  for (;;) {
    options.signal.throwIfAborted();
    const sentAt = preciseNow();
    const status = await statusOrUndefined(api, options.signal);
    const receivedAt = preciseNow();
    if (status && isRunOver(status)) return { status, atMs: (goingAt + receivedAt) / 2 };
    if (status) goingAt = sentAt;
    const intervalMs = Math.min(
      options.maxIntervalMs,
      Math.max(2, (receivedAt - options.unpausedMs) / 50),
    );
    await sleep(intervalMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

/** A refused connection while k6 is busy is retried on the next poll. */
async function statusOrUndefined(
  api: K6RestClient,
  signal: AbortSignal,
): Promise<K6Status | undefined> {
  try {
    return await api.status({ signal });
  } catch (error) {
    signal.throwIfAborted();
    if ((error as { code?: unknown }).code !== 'K6_API_UNREACHABLE') throw error;
    return undefined;
  }
}
