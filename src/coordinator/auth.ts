import { createHash, timingSafeEqual } from 'node:crypto';

import { K6DistributedError } from '../errors.js';

/**
 * How the coordinator decides who may register as an agent. The credential
 * is the register request's bearer token: the shared secret, or a GitHub
 * OIDC token minted by the agent's job. Everything after registration uses
 * the random per-agent token the coordinator hands out.
 */
export interface RegistrationAuth {
  /**
   * Resolves when `credential` may register; throws UNAUTHORIZED otherwise.
   * A credential good for one agent only (an OIDC token) resolves with its
   * binding, which the server applies to the request's key.
   */
  verify(credential: string | undefined): Promise<SingleAgentCredential | undefined>;
}

/** A credential that may register one agent: the first key it came with. */
export interface SingleAgentCredential {
  /** Throws UNAUTHORIZED when the credential registered an agent with another key. */
  bind(key: string): void;
}

/** A shared secret, compared in constant time (of its hash, so lengths do not leak). */
export function secretAuth(secret: string): RegistrationAuth {
  const expected = sha256(secret);
  return {
    verify(credential) {
      if (credential === undefined || !timingSafeEqual(sha256(credential), expected)) {
        return Promise.reject(
          new K6DistributedError(
            'UNAUTHORIZED',
            'missing or wrong secret: give the agent the same secret (--secret, ' +
              'K6_DISTRIBUTED_SECRET or the action\'s "secret" input) as the coordinator',
          ),
        );
      }
      return Promise.resolve(undefined);
    },
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
