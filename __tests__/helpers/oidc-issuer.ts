import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

import { OidcVerifier, type RunIdentity } from '../../src/github/oidc.js';
import { onCleanup } from './cleanup.js';

export const ISSUER = 'https://token.actions.githubusercontent.com';
export const RUN: RunIdentity = { repositoryId: '123456', runId: '987', runAttempt: '2' };

/** A JWKS endpoint on loopback serving one locally generated RS256 key, as GitHub's does. */
export async function issuer(expected: RunIdentity = RUN) {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const jwksUrl = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/jwks`;
  const verifier = new OidcVerifier({ expected, jwksUrl, clockToleranceSec: 0 });
  return { verifier, privateKey, jwksUrl };
}

export interface TokenOptions {
  claims?: Record<string, unknown>;
  issuer?: string;
  audience?: string;
  /** Epoch seconds; null leaves the claim out. */
  expiresAt?: number | null;
  issuedAt?: number | null;
  key?: CryptoKey;
}

export const WORKFLOW_REF = 'acme/shop/.github/workflows/load.yml@refs/heads/main';

export async function token(key: CryptoKey, o: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({
    repository: 'acme/shop',
    repository_id: RUN.repositoryId,
    run_id: RUN.runId,
    run_attempt: RUN.runAttempt,
    job_workflow_ref: WORKFLOW_REF,
    workflow_ref: WORKFLOW_REF,
    ...o.claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
    .setIssuer(o.issuer ?? ISSUER)
    .setAudience(o.audience ?? 'k6-distributed')
    .setSubject('repo:acme/shop:ref:refs/heads/main');
  if (o.issuedAt !== null) jwt.setIssuedAt(o.issuedAt ?? now - 60);
  if (o.expiresAt !== null) jwt.setExpirationTime(o.expiresAt ?? now + 300);
  return jwt.sign(o.key ?? key);
}
