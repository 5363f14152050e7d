import { createHash } from 'node:crypto';

import * as core from '@actions/core';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

import type { RegistrationAuth } from '../coordinator/auth.js';
import { K6DistributedError } from '../errors.js';

/** GitHub Actions' OIDC issuer (docs: "About security hardening with OpenID Connect"). */
export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

/** The audience agents request and the coordinator requires. */
export const OIDC_AUDIENCE = 'k6-distributed';

/** The run a coordinator serves: only agents of this run and attempt may join. */
export interface RunIdentity {
  repositoryId: string;
  runId: string;
  runAttempt: string;
  /** `owner/name`; checked against the token's `repository` when known. */
  repository?: string;
  /**
   * The workflow file and ref of this run (GITHUB_WORKFLOW_REF), checked
   * against the token's `workflow_ref`: every job of one run shares it.
   */
  workflowRef?: string;
}

export function runIdentityFromEnv(env: NodeJS.ProcessEnv): RunIdentity {
  const read = (name: string): string => {
    const value = env[name];
    if (!value) {
      throw new K6DistributedError(
        'INVALID_OPTION',
        `${name} is not set: auth: oidc works inside GitHub Actions only; elsewhere use ` +
          'auth: secret',
      );
    }
    return value;
  };
  return {
    repositoryId: read('GITHUB_REPOSITORY_ID'),
    runId: read('GITHUB_RUN_ID'),
    runAttempt: read('GITHUB_RUN_ATTEMPT'),
    repository: env.GITHUB_REPOSITORY || undefined,
    workflowRef: env.GITHUB_WORKFLOW_REF || undefined,
  };
}

export interface OidcClaims {
  repository?: string;
  repositoryId: string;
  runId: string;
  runAttempt: string;
  sub?: string;
  jobWorkflowRef?: string;
  /** Names this one token: its `jti`, else its SHA-256 (one registration per token). */
  tokenId: string;
  /** Its `exp`, epoch seconds. */
  expiresAt: number;
}

export interface OidcVerifierOptions {
  expected: RunIdentity;
  audience?: string;
  issuer?: string;
  /** Defaults to the issuer's `/.well-known/jwks`. */
  jwksUrl?: string;
  clockToleranceSec?: number;
  /**
   * Oldest token accepted, by its `iat`: GitHub's live about five minutes
   * and agents mint one per registration attempt (default 10 minutes).
   */
  maxTokenAgeSec?: number;
}

/**
 * The coordinator's check of an agent's GitHub OIDC token: signature by the
 * issuer's published keys (RS256), issuer, audience, `exp` and `iat` present
 * and the token young enough (issue 17.12), and the run it was minted in
 * (repository_id, run_id, run_attempt, and repository and workflow_ref where
 * the coordinator knows its own). `sub` and `job_workflow_ref` are not
 * compared: they differ between jobs of one run (a job's environment, a
 * reusable workflow). Messages never contain the token.
 */
export class OidcVerifier {
  readonly #o: Required<Omit<OidcVerifierOptions, 'jwksUrl'>>;
  readonly #keys: ReturnType<typeof createRemoteJWKSet>;

  constructor(options: OidcVerifierOptions) {
    this.#o = {
      audience: OIDC_AUDIENCE,
      issuer: GITHUB_OIDC_ISSUER,
      clockToleranceSec: 30,
      maxTokenAgeSec: 600,
      ...options,
    };
    this.#keys = createRemoteJWKSet(
      new URL(options.jwksUrl ?? `${this.#o.issuer}/.well-known/jwks`),
    );
  }

  async verify(token: string | undefined): Promise<OidcClaims> {
    if (token === undefined || token === '') {
      throw unauthorized(
        'no OIDC token: agents with auth: oidc send one; give the agent job ' +
          '`permissions: id-token: write`, or use auth: secret on every job',
      );
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        issuer: this.#o.issuer,
        audience: this.#o.audience,
        algorithms: ['RS256'],
        clockTolerance: this.#o.clockToleranceSec,
        requiredClaims: ['exp', 'iat'],
        maxTokenAge: this.#o.maxTokenAgeSec,
      }));
    } catch (error) {
      throw unauthorized(rejection(error, this.#o));
    }
    const claims = {
      repositoryId: claimText(payload.repository_id),
      runId: claimText(payload.run_id),
      runAttempt: claimText(payload.run_attempt),
    };
    const expected = this.#o.expected;
    if (
      claims.repositoryId !== expected.repositoryId ||
      claims.runId !== expected.runId ||
      claims.runAttempt !== expected.runAttempt
    ) {
      throw unauthorized(
        `the OIDC token belongs to run ${claims.runId} attempt ${claims.runAttempt} of ` +
          `repository ${claims.repositoryId}; this coordinator serves run ${expected.runId} ` +
          `attempt ${expected.runAttempt} of repository ${expected.repositoryId}: only agent ` +
          'jobs of the same workflow run attempt can join',
      );
    }
    const repository = optionalString(payload.repository);
    sameAsOurs('repository', repository, expected.repository);
    sameAsOurs('workflow_ref', optionalString(payload.workflow_ref), expected.workflowRef);
    return {
      ...claims,
      repository,
      sub: payload.sub,
      jobWorkflowRef: optionalString(payload.job_workflow_ref),
      tokenId:
        typeof payload.jti === 'string' && payload.jti !== ''
          ? payload.jti
          : createHash('sha256').update(token).digest('base64url'),
      expiresAt: payload.exp ?? 0,
    };
  }
}

/** A claim the coordinator knows its own value of must have that value. */
function sameAsOurs(claim: string, theirs: string | undefined, ours: string | undefined): void {
  if (ours === undefined || theirs === ours) return;
  throw unauthorized(
    `the OIDC token's "${claim}" is ${theirs === undefined ? 'missing' : `"${theirs}"`}, ` +
      `not this run's "${ours}": only agent jobs of the same workflow run can join`,
  );
}

/**
 * Registration with GitHub OIDC tokens, each good for one agent (issue 17.12):
 * a token seen once (its `jti`, else its hash) registers only the agent whose
 * key it first came with, so a copied or replayed token cannot add or replace
 * an agent, while that agent's retried registration (same key) still gets the
 * same answer. Remembered until the token expires.
 */
export function oidcRegistrationAuth(
  verifier: Pick<OidcVerifier, 'verify'>,
  now: () => number = Date.now,
): RegistrationAuth {
  const used = new Map<string, { key: string; expiresAtMs: number }>();
  return {
    async verify(credential) {
      const claims = await verifier.verify(credential);
      for (const [id, use] of used) if (use.expiresAtMs < now()) used.delete(id);
      return {
        bind(key) {
          const first = used.get(claims.tokenId);
          if (first !== undefined && first.key !== key) {
            throw unauthorized(
              'this OIDC token has registered another agent already: every agent job ' +
                'mints its own token for its registration; a copied or replayed token is refused',
            );
          }
          // Kept past `exp` by the clock tolerance jose allows on it.
          used.set(claims.tokenId, { key, expiresAtMs: (claims.expiresAt + 60) * 1000 });
        },
      };
    },
  };
}

function rejection(error: unknown, o: { issuer: string; audience: string }): string {
  if (error instanceof errors.JWTExpired && error.claim === 'iat') {
    return 'the OIDC token was issued too long ago: agents mint a fresh one for every registration; check the agent clock';
  }
  if (error instanceof errors.JWTExpired) {
    return 'the OIDC token has expired: agents mint a fresh one for every registration; check the agent clock';
  }
  if (error instanceof errors.JWTClaimValidationFailed && error.reason === 'missing') {
    return `the OIDC token has no "${error.claim}" claim: only GitHub's OIDC tokens are accepted`;
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return `the OIDC token was not issued by ${o.issuer}`;
    if (error.claim === 'aud') {
      return `the OIDC token is not for audience "${o.audience}": agents must request that audience`;
    }
    return `the OIDC token's "${error.claim}" claim is invalid (${error.reason})`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return `the OIDC token's signature does not verify with ${o.issuer}'s keys`;
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return `the OIDC token is signed by a key ${o.issuer} does not publish`;
  }
  if (error instanceof errors.JOSEError) return `invalid OIDC token (${error.code})`;
  return `the OIDC token could not be verified (${error instanceof Error ? error.message : String(error)})`;
}

function unauthorized(message: string): K6DistributedError {
  return new K6DistributedError('UNAUTHORIZED', message);
}

/** GitHub sends these ids as strings; a number is accepted, anything else reads as none. */
function claimText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '(none)';
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The permissions block a job needs for OIDC, shown when it is missing. */
export const OIDC_PERMISSIONS = 'permissions:\n  contents: read\n  id-token: write';

/**
 * An agent's OIDC token for registration. Tokens live about five minutes, so
 * the agent mints one per registration attempt. Masked in the log.
 */
export async function mintIdToken(
  audience = OIDC_AUDIENCE,
  getIDToken: (audience: string) => Promise<string> = (a) => core.getIDToken(a),
): Promise<string> {
  let token: string;
  try {
    token = await getIDToken(audience);
  } catch (error) {
    throw new K6DistributedError(
      'UNAUTHORIZED',
      `could not get a GitHub OIDC token (${error instanceof Error ? error.message : String(error)}). ` +
        `Give the agent job this permission:\n\n${OIDC_PERMISSIONS}\n\n` +
        'or use auth: secret with a secret input on every job (act, GHES, fork pull requests).',
    );
  }
  core.setSecret(token);
  return token;
}
