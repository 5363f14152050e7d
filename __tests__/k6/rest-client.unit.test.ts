import { describe, expect, it } from '@jest/globals';

import { hasErrorCode } from '../../src/errors.js';
import {
  K6RestClient,
  isReadyToStart,
  isRunOver,
  type K6Status,
} from '../../src/k6/rest-client.js';
import { TargetServer } from '../helpers/target-server.js';
import { onCleanup } from '../helpers/cleanup.js';

const status = (over: Partial<K6Status>): K6Status => ({
  status: 0,
  paused: false,
  running: false,
  stopped: false,
  tainted: false,
  vus: 0,
  vusMax: 0,
  ...over,
});

describe('K6RestClient', () => {
  it('refuses a non-loopback address: the k6 API has no authentication', () => {
    let caught: unknown;
    try {
      new K6RestClient('10.0.0.5:6565');
    } catch (error) {
      caught = error;
    }
    expect(hasErrorCode(caught, 'K6_API_UNREACHABLE')).toBe(true);
    expect((caught as Error).message).toMatch(/must listen on loopback.*127\.0\.0\.1/);
  });

  it('times out waiting with the last status it saw', async () => {
    const fake = await TargetServer.start({
      body: JSON.stringify({ data: { attributes: { status: 1, paused: true } } }),
    });
    const client = new K6RestClient(fake.url.replace('http://', ''));
    onCleanup(() => client.close());
    const failure: unknown = await client
      .waitForStatus(isReadyToStart, { timeoutMs: 100, intervalMs: 10 })
      .catch((e: unknown) => e);
    expect(hasErrorCode(failure, 'K6_API_TIMEOUT')).toBe(true);
    expect((failure as Error).message).toMatch(/"status":1/);
  });

  it('reports a peer that is not k6 (a body that is not JSON) with a coded error', async () => {
    const notK6 = await TargetServer.start({ body: '<html>hello</html>' });
    const client = new K6RestClient(notK6.url.replace('http://', ''));
    onCleanup(() => client.close());
    const failure: unknown = await client.status().catch((e: unknown) => e);
    expect(hasErrorCode(failure, 'K6_API_ERROR')).toBe(true);
    expect((failure as Error).message).toMatch(/not JSON: "<html>hello<\/html>".*really k6\?/);
  });

  it('treats stopped or a terminal status as over, whatever `running` says (k6#6073)', () => {
    expect(isRunOver(status({ status: 7, running: true, stopped: true }))).toBe(true);
    expect(isRunOver(status({ status: 9 }))).toBe(true);
    expect(isRunOver(status({ status: 10, running: true }))).toBe(true);
    expect(isRunOver(status({ status: 7, running: true }))).toBe(false);
    expect(isReadyToStart(status({ status: 4, paused: true }))).toBe(true);
    expect(isReadyToStart(status({ status: 3, paused: true }))).toBe(false);
  });
});
