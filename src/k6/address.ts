import { createServer } from 'node:net';

/**
 * A loopback host:port that was free a moment ago, for `k6 run --address`.
 * k6 cannot report the port it bound for `:0`, so we pick one; if another
 * process takes it first, k6 exits with 106 (cannot-start-rest-api) and the
 * caller picks again.
 */
export async function freeLoopbackAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('unreachable: a TCP server on 127.0.0.1 has a port');
  }
  return `127.0.0.1:${address.port}`;
}
