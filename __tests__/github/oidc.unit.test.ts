import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

import { mintIdToken, OidcVerifier, type RunIdentity } from '../../src/github/oidc.js';
import { onCleanup } from '../helpers/cleanup.js';

const ISSUER = 'https://token.actions.githubusercontent.com';
const RUN: RunIdentity = { repositoryId: '123456', runId: '987', runAttempt: '2' };

/** A JWKS endpoint on loopback serving one locally generated RS256 key, as GitHub's does. */
async function issuer() {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const jwksUrl = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/jwks`;
  const verifier = new OidcVerifier({ expected: RUN, jwksUrl, clockToleranceSec: 0 });
  return { verifier, privateKey };
}

interface TokenOptions {
  claims?: Record<string, unknown>;
  issuer?: string;
  audience?: string;
  expiresAt?: number;
  key?: CryptoKey;
}

async function token(key: CryptoKey, o: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    repository: 'acme/shop',
    repository_id: RUN.repositoryId,
    run_id: RUN.runId,
    run_attempt: RUN.runAttempt,
    job_workflow_ref: 'acme/shop/.github/workflows/load.yml@refs/heads/main',
    ...o.claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
    .setIssuer(o.issuer ?? ISSUER)
    .setAudience(o.audience ?? 'k6-distributed')
    .setSubject('repo:acme/shop:ref:refs/heads/main')
    .setIssuedAt(now - 60)
    .setExpirationTime(o.expiresAt ?? now + 300)
    .sign(o.key ?? key);
}

describe('OIDC verification of agents (local keys served as JWKS)', () => {
  it('accepts a valid token of this run and returns its claims', async () => {
    const { verifier, privateKey } = await issuer();
    await expect(verifier.verify(await token(privateKey))).resolves.toEqual({
      repository: 'acme/shop',
      repositoryId: '123456',
      runId: '987',
      runAttempt: '2',
      sub: 'repo:acme/shop:ref:refs/heads/main',
      jobWorkflowRef: 'acme/shop/.github/workflows/load.yml@refs/heads/main',
    });
  });

  it.each<[string, (key: CryptoKey) => Promise<TokenOptions>, RegExp]>([
    [
      'expired',
      () => Promise.resolve({ expiresAt: Math.floor(Date.now() / 1000) - 10 }),
      /has expired: agents mint a fresh one/,
    ],
    [
      'of another run',
      () => Promise.resolve({ claims: { run_id: '988' } }),
      /belongs to run 988 attempt 2 of repository 123456; this coordinator serves run 987/,
    ],
    [
      'of another repository',
      () => Promise.resolve({ claims: { repository_id: '654321' } }),
      /of repository 654321; this coordinator serves .* of repository 123456/,
    ],
    [
      'of another run attempt',
      () => Promise.resolve({ claims: { run_attempt: '1' } }),
      /belongs to run 987 attempt 1/,
    ],
    [
      'for another audience',
      () => Promise.resolve({ audience: 'sts.amazonaws.com' }),
      /not for audience "k6-distributed"/,
    ],
    [
      'from another issuer',
      () => Promise.resolve({ issuer: 'https://evil.example.com' }),
      /not issued by https:\/\/token\.actions\.githubusercontent\.com/,
    ],
    [
      'signed by another key with the same kid',
      async () => ({ key: (await generateKeyPair('RS256')).privateKey }),
      /signature does not verify/,
    ],
  ])('rejects a token %s, without echoing it', async (_, options, message) => {
    const { verifier, privateKey } = await issuer();
    const bad = await token(privateKey, await options(privateKey));
    const error = await verifier.verify(bad).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringMatching(message) });
    expect((error as Error).message).not.toContain(bad.split('.')[2]);
  });

  it('rejects a missing or malformed token', async () => {
    const { verifier } = await issuer();
    await expect(verifier.verify(undefined)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(/no OIDC token.*id-token: write/),
    });
    await expect(verifier.verify('not.a.jwt')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });
});

describe('minting an agent token', () => {
  it('shows the permissions block to add when the job cannot mint one', async () => {
    const withoutPermission = () =>
      Promise.reject(new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable'));
    await expect(mintIdToken('k6-distributed', withoutPermission)).rejects.toThrow(
      /permissions:\n {2}contents: read\n {2}id-token: write[\s\S]*auth: secret/,
    );
  });

  it('returns the minted token for the requested audience, masked in the log', async () => {
    const asked: string[] = [];
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk: string | Uint8Array) => written.push(String(chunk)) > 0;
    let minted: string;
    try {
      minted = await mintIdToken('k6-distributed', (audience) => {
        asked.push(audience);
        return Promise.resolve('header.payload.signature');
      });
    } finally {
      process.stdout.write = write;
    }
    expect(minted).toBe('header.payload.signature');
    expect(asked).toEqual(['k6-distributed']);
    expect(written.join('')).toContain('::add-mask::header.payload.signature');
  });
});
