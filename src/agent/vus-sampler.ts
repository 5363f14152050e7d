import { setTimeout as sleep } from 'node:timers/promises';

import { isRunOver, type K6Status } from '../k6/rest-client.js';

export interface VusSamplerOptions {
  /** k6's GET /v1/status: its vus and vus-max right now. */
  status: (signal: AbortSignal) => Promise<Pick<K6Status, 'vus' | 'vusMax' | 'status' | 'stopped'>>;
  /**
   * Takes one sample, `ms` after the start instant. `over`: k6's run had ended
   * by then; its value stands for this agent, but one k6 of the whole run has
   * a tick there only if another agent's k6 still ran.
   */
  record: (metric: 'vus' | 'vus_max', ms: number, value: number, over: boolean) => void;
  /** The start instant on this machine's clock (Date.now() terms). */
  startLocalMs: number;
  /** The first sample is this many ms after the start instant, then one every second. */
  phaseMs: number;
  now?: () => number;
}

const TICK_MS = 1_000;
/**
 * The request leaves this early: a timer fires a few ms late and the loopback
 * request takes a few more (1–10 ms measured on a loaded 2-core machine), so
 * k6 reads its count around the nominal instant, not after a second's
 * arrival-rate iteration or ramp step it falls just before.
 */
const AHEAD_MS = 5;

/**
 * Samples this agent's k6 vus/vus_max at the ticks of one k6 of the whole run
 * (issue 16.11), so the coordinator sums every agent's count at the same
 * instant. k6's own once-a-second samples cannot serve: their ticker starts
 * when k6 initializes, long before the start instant, so each agent's fall at
 * a phase of their own, up to a second apart, and a sum of them mixes
 * seconds (a ramp-down counted twice, an arrival-rate iteration caught busy).
 * Each sample is reported at its nominal instant, which the coordinator's
 * ticks use too; the request takes a millisecond on loopback.
 */
export class VusSampler {
  readonly #o: VusSamplerOptions;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: VusSamplerOptions) {
    this.#o = options;
  }

  start(): void {
    this.#loop ??= this.#run().catch(() => {
      // k6 went away (it exited or was stopped): the samples so far stand.
    });
  }

  /** Resolves when sampling ends: stopped, or after the first sample that found the run over. */
  get finished(): Promise<void> {
    return this.#loop ?? Promise.resolve();
  }

  /** Stops sampling; resolves once no sample is in flight. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const now = this.#o.now ?? Date.now;
    const signal = this.#stop.signal;
    for (let ms = this.#o.phaseMs; !signal.aborted; ms += TICK_MS) {
      const waitMs = this.#o.startLocalMs + ms - AHEAD_MS - now();
      // A tick long past (a late start, a stalled request) is skipped, as k6's ticker drops one.
      if (waitMs < -TICK_MS / 2) continue;
      await sleep(Math.max(0, waitMs), undefined, { signal });
      const status = await this.#o.status(signal);
      const over = isRunOver(status);
      this.#o.record('vus', ms, status.vus, over);
      this.#o.record('vus_max', ms, status.vusMax, over);
      // Later samples would say the same: the run is over.
      if (over) return;
    }
  }
}
