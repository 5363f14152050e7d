import { describe, expect, it } from '@jest/globals';
import net from 'node:net';

import { request } from 'undici';

import { TargetServer } from '../helpers/target-server.js';

describe('the loopback-only guard (setup/loopback-only.ts)', () => {
  it('fails a connection to a non-loopback address before it is made', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never routed, and blocked here anyway.
    const socket = net.connect(80, '192.0.2.1');
    const error = await new Promise<NodeJS.ErrnoException>((resolve) =>
      socket.once('error', resolve),
    );
    expect(error.code).toBe('ELOOPBACKONLY');
  });

  it('blocks undici too, by host name', async () => {
    await expect(request('http://example.com/')).rejects.toThrow(/only connect to loopback/);
  });

  it('lets loopback through', async () => {
    const target = await TargetServer.start({ body: 'hello' });
    const response = await request(`${target.url}/x`);
    expect(await response.body.text()).toBe('hello');
    expect(target.count('/x')).toBe(1);
  });
});
