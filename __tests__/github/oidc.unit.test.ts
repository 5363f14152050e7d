import { describe, expect, it } from '@jest/globals';
import { generateKeyPair, type CryptoKey } from 'jose';

import { mintIdToken, oidcRegistrationAuth } from '../../src/github/oidc.js';
import { issuer, RUN, token, type TokenOptions, WORKFLOW_REF } from '../helpers/oidc-issuer.js';

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
      tokenId: expect.stringMatching(/^[\w-]{43}$/),
      expiresAt: expect.any(Number),
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

describe('issue 17.12: OIDC token age, run identity and single use', () => {
  const now = () => Math.floor(Date.now() / 1000);

  it.each<[string, TokenOptions, RegExp]>([
    ['without exp', { expiresAt: null }, /has no "exp" claim/],
    ['without iat', { issuedAt: null }, /has no "iat" claim/],
    [
      'issued longer ago than the maximum age',
      { issuedAt: now() - 11 * 60, expiresAt: now() + 3_600 },
      /issued too long ago: agents mint a fresh one/,
    ],
    ['issued in the future', { issuedAt: now() + 120 }, /"iat" claim is invalid/],
  ])('refuses a token %s', async (_, options, message) => {
    const { verifier, privateKey } = await issuer();
    await expect(verifier.verify(await token(privateKey, options))).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(message),
    });
  });

  it('refuses a token of another repository or workflow when the coordinator knows its own', async () => {
    const ours = { ...RUN, repository: 'acme/shop', workflowRef: WORKFLOW_REF };
    const { verifier, privateKey } = await issuer(ours);
    await expect(verifier.verify(await token(privateKey))).resolves.toMatchObject({
      repository: 'acme/shop',
    });
    const otherWorkflow = await token(privateKey, {
      claims: { workflow_ref: 'acme/shop/.github/workflows/evil.yml@refs/heads/x' },
    });
    await expect(verifier.verify(otherWorkflow)).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(/"workflow_ref" is ".*evil\.yml.*", not this run's/),
    });
    const noRepository = await token(privateKey, { claims: { repository: undefined } });
    await expect(verifier.verify(noRepository)).rejects.toMatchObject({
      message: expect.stringMatching(/"repository" is missing, not this run's "acme\/shop"/),
    });
  });

  it('lets one token register one agent; that agent may retry with it', async () => {
    const { verifier, privateKey } = await issuer();
    const auth = oidcRegistrationAuth(verifier);
    const first = await token(privateKey, { claims: { jti: 'token-1' } });
    (await auth.verify(first))?.bind('agent-a-key');
    // The same agent's retried registration (same key) is still accepted.
    await expect(auth.verify(first).then((c) => c?.bind('agent-a-key'))).resolves.toBeUndefined();
    await expect(auth.verify(first).then((c) => c?.bind('agent-b-key'))).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(/has registered another agent already/),
    });
    const second = await token(privateKey, { claims: { jti: 'token-2' } });
    await expect(auth.verify(second).then((c) => c?.bind('agent-b-key'))).resolves.toBeUndefined();
  });

  it('names a token without jti by its hash', async () => {
    const { verifier, privateKey } = await issuer();
    const auth = oidcRegistrationAuth(verifier);
    const first = await token(privateKey);
    const second = await token(privateKey, { claims: { run_attempt: RUN.runAttempt, n: 2 } });
    await expect(auth.verify(first).then((c) => c?.bind('a'))).resolves.toBeUndefined();
    await expect(auth.verify(second).then((c) => c?.bind('b'))).resolves.toBeUndefined();
    await expect(auth.verify(first).then((c) => c?.bind('b'))).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('forgets a token once it has expired', async () => {
    const { verifier, privateKey } = await issuer();
    let clock = Date.now();
    const auth = oidcRegistrationAuth(verifier, () => clock);
    const used = await token(privateKey, { claims: { jti: 'short-lived' } });
    (await auth.verify(used))?.bind('a');
    clock += 10 * 60 * 1000;
    const other = await token(privateKey, { claims: { jti: 'another' } });
    (await auth.verify(other))?.bind('b');
    clock = Date.now();
    // Forgotten: the expired token's entry was pruned (jose refuses the token itself).
    await expect(auth.verify(used).then((c) => c?.bind('c'))).resolves.toBeUndefined();
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
