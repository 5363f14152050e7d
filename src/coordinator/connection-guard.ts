import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

import type { Logger } from '../runtime/logger.js';

/** How many connections the server holds at once, and how long a silent one may stay. */
export interface ConnectionLimits {
  /** Connections at once; more are closed as they arrive. */
  total: number;
  /** Connections at once from one remote address (not applied behind cloudflared). */
  perAddress: number;
  /** A connection that has not sent a request's headers in this long is closed. */
  firstByteMs: number;
}

/** File descriptors kept free of connections: k6 for handleSummary(), output files, logs. */
const FD_RESERVE = 128;
/** An honest agent holds at most 3 connections (its undici pool); a few more for retries. */
const PER_AGENT = 4;

/**
 * Limits for a run of `agents`: every agent may sit behind one address (a
 * NAT, or all of them on loopback), yet one address cannot take all the
 * connections; all of them stay below the process's open-file limit, so
 * sockets can never take the descriptors the output files need (issue 17.7).
 */
export function connectionLimitsFor(
  agents: number,
  fdLimit: number | undefined = openFileLimit(),
): ConnectionLimits {
  const perAddress = PER_AGENT * agents + 16;
  const budget =
    fdLimit === undefined ? Infinity : Math.max(16, fdLimit - Math.min(FD_RESERVE, fdLimit / 2));
  return { total: Math.floor(Math.min(2 * perAddress, budget)), perAddress, firstByteMs: 10_000 };
}

/**
 * A warning when the open-file limit leaves fewer connections than `agents`
 * need: Node cannot raise it (no setrlimit), the shell that starts it can.
 */
export function openFileWarning(
  agents: number,
  limits: ConnectionLimits,
  fdLimit: number | undefined = openFileLimit(),
): string | undefined {
  if (fdLimit === undefined || limits.total >= PER_AGENT * agents + 16) return undefined;
  return (
    `the open-file limit (ulimit -n) is ${String(fdLimit)}: room for ${String(limits.total)} ` +
    `connections, fewer than ${String(agents)} agents may need. Raise it before starting the ` +
    'coordinator, e.g. `ulimit -n 65536`.'
  );
}

/**
 * The soft limit on open files (`ulimit -n`), read from /proc on Linux.
 * Node cannot raise it itself (no setrlimit); undefined where unknown.
 */
export function openFileLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(
      readFileSync('/proc/self/limits', 'utf8'),
    );
    if (!line?.[1] || line[1] === 'unlimited') return undefined;
    return Number(line[1]);
  } catch {
    return undefined;
  }
}

/**
 * Caps the server's connections overall and per remote address, and closes
 * connections that stay silent: without a credential, slow or idle sockets
 * must not lock agents out or exhaust file descriptors (issue 17.7).
 */
export class ConnectionGuard {
  readonly #perAddress = new Map<string, number>();
  readonly #o: { limits: ConnectionLimits; byAddress: boolean; log: Logger };
  #refused = 0;

  constructor(
    server: Server,
    options: { limits: ConnectionLimits; byAddress: boolean; log: Logger },
  ) {
    this.#o = options;
    server.maxConnections = options.limits.total;
    server.on('drop', () => this.#refuse(`more than ${String(options.limits.total)} connections`));
    server.on('connection', (socket: Socket) => this.#admit(socket));
  }

  /** Connections refused so far (over a limit). */
  get refused(): number {
    return this.#refused;
  }

  /** A request arrived on `socket`: it is no longer silent (a held poll may idle for long). */
  requestStarted(socket: Socket): void {
    socket.setTimeout(0);
  }

  #admit(socket: Socket): void {
    // Closed by the HTTP server's own timeout handler (it destroys a timed-out socket).
    socket.setTimeout(this.#o.limits.firstByteMs);
    if (!this.#o.byAddress) return;
    const address = socket.remoteAddress ?? '';
    const open = this.#perAddress.get(address) ?? 0;
    if (open >= this.#o.limits.perAddress) {
      socket.destroy();
      this.#refuse(`more than ${String(this.#o.limits.perAddress)} connections from ${address}`);
      return;
    }
    this.#perAddress.set(address, open + 1);
    socket.once('close', () => {
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(address, left);
      else this.#perAddress.delete(address);
    });
  }

  /** Said once at warning level (then at debug): a flood must not flood the log. */
  #refuse(why: string): void {
    this.#refused++;
    const message = `refused a connection: ${why}; an agent retries until one is free`;
    if (this.#refused === 1) this.#o.log.warning(message);
    else this.#o.log.debug(message);
  }
}
