/**
 * Tests may only talk to this machine. Any TCP connection to a host outside
 * the loopback range fails at once, before a packet leaves: that catches a
 * test (or a library under test) reaching for the real GitHub or Cloudflare.
 * k6 child processes are kept to loopback by the scripts themselves.
 */
import net from 'node:net';

const LOOPBACK_HOST = /^(127(?:\.\d{1,3}){3}|localhost|::1|::ffff:127(?:\.\d{1,3}){3})$/;
const marker = Symbol.for('k6-distributed.loopback-only');

type Proto = typeof net.Socket.prototype & { [marker]?: true };
const proto = net.Socket.prototype as Proto;

export function hostOf(args: unknown[]): string | undefined {
  const first = args[0];
  if (Array.isArray(first)) return hostOf(first);
  if (typeof first === 'object' && first !== null) {
    const options = first as { host?: string; path?: string };
    if (options.path !== undefined) return undefined; // a Unix socket
    return options.host ?? 'localhost';
  }
  if (typeof first === 'string' && !/^\d+$/.test(first)) return undefined; // a Unix socket path
  return typeof args[1] === 'string' ? args[1] : 'localhost';
}

if (!proto[marker]) {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- re-applied below with the socket as `this`
  const connect = proto.connect;
  proto.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const host = hostOf(args);
    if (host !== undefined && !LOOPBACK_HOST.test(host.replace(/^\[|\]$/g, ''))) {
      const error = Object.assign(
        new Error(`tests may only connect to loopback; blocked a connection to ${host}`),
        { code: 'ELOOPBACKONLY' },
      );
      process.nextTick(() => this.destroy(error));
      return this;
    }
    return Reflect.apply(connect, this, args) as net.Socket;
  };
  proto[marker] = true;
}
