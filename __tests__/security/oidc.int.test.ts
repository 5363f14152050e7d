/**
 * Issue 17.12 over HTTP: a real Coordinator behind its real server, agents
 * registering with GitHub OIDC tokens verified by jose against a local JWKS
 * (as GitHub publishes its keys). A token registers one agent: replayed with
 * another key it is refused, while the agent's own retry gets the same
 * answer; a token without `exp` is refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { request } from 'undici';

import { Coordinator } from '../../src/coordinator/coordinator.js';
import { CoordinatorServer } from '../../src/coordinator/server.js';
import { oidcRegistrationAuth } from '../../src/github/oidc.js';
import {
  ErrorBody,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  RegisterResponse,
  ROUTES,
} from '../../src/protocol/messages.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { PACKAGE_VERSION } from '../../src/version.js';
import { onCleanup } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/fs.js';
import { issuer, token } from '../helpers/oidc-issuer.js';

async function start() {
  const { verifier, privateKey } = await issuer();
  const archivePath = join(await tempDir(), 'archive.tar');
  const archive = randomBytes(1_000);
  await writeFile(archivePath, archive);
  const coordinator = new Coordinator({
    expectedAgents: 2,
    archive: { sha256: createHash('sha256').update(archive).digest('hex'), bytes: archive.length },
    log: silentLogger,
  });
  onCleanup(() => coordinator.close());
  const server = await CoordinatorServer.listen({
    coordinator,
    archivePath,
    auth: oidcRegistrationAuth(verifier),
    listen: '127.0.0.1:0',
    log: silentLogger,
  });
  onCleanup(() => server.close());
  return { server, privateKey };
}

async function register(url: string, credential: string, key: string) {
  const answer = await request(`${url}${ROUTES.register}`, {
    method: 'POST',
    headers: {
      [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
      authorization: `Bearer ${credential}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      protocol: PROTOCOL_VERSION,
      version: PACKAGE_VERSION,
      key,
      weight: '1',
      tags: {},
      k6Version: '2.2.0',
    }),
  });
  const json: unknown = await answer.body.json();
  return { status: answer.statusCode, json };
}

describe('issue 17.12: OIDC registration over HTTP (local JWKS)', () => {
  it('one token registers one agent; its own retry gets the same answer', async () => {
    const { server, privateKey } = await start();
    const tokenA = await token(privateKey, { claims: { jti: 'job-a' } });

    const first = await register(server.url, tokenA, 'agent-a-key-000001');
    expect(first.status).toBe(200);
    const replayed = await register(server.url, tokenA, 'attacker-key-00001');
    expect(replayed.status).toBe(401);
    expect(ErrorBody.parse(replayed.json).error).toEqual({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(/this OIDC token has registered another agent already/),
    });
    const retried = await register(server.url, tokenA, 'agent-a-key-000001');
    expect(retried.status).toBe(200);
    expect(RegisterResponse.parse(retried.json)).toEqual(RegisterResponse.parse(first.json));

    const noExpiry = await token(privateKey, { claims: { jti: 'job-x' }, expiresAt: null });
    const refused = await register(server.url, noExpiry, 'agent-x-key-000001');
    expect(refused.status).toBe(401);
    expect(JSON.stringify(refused.json)).toMatch(/has no \\"exp\\" claim/);

    // The second real agent, with its own token, still gets the second place.
    const tokenB = await token(privateKey, { claims: { jti: 'job-b' } });
    const second = await register(server.url, tokenB, 'agent-b-key-000001');
    expect(second.status).toBe(200);
    expect(RegisterResponse.parse(second.json).index).toBe(1);
  });
});
