/**
 * True for a loopback host: 127.0.0.0/8, localhost or ::1 (bracketed or not).
 * One definition for "only this machine can reach it": k6's REST API must be
 * bound there, and a coordinator listening there may go without a secret.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return /^(127(?:\.\d{1,3}){3}|localhost|::1)$/.test(bare);
}

/** The parsed JSON text: null for an empty text, undefined if it is not JSON. */
export function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
