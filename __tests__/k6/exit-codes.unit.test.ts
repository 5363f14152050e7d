import { describe, expect, it } from '@jest/globals';

import { K6_EXIT_CODES, k6Outcome } from '../../src/k6/exit-codes.js';

describe('k6Outcome', () => {
  it.each([
    [0, 'success'],
    [97, 'cloud-test-run-failed'],
    [98, 'cloud-failed-to-get-progress'],
    [99, 'thresholds-failed'],
    [100, 'setup-timeout'],
    [101, 'teardown-timeout'],
    [102, 'generic-timeout'],
    [103, 'stopped-via-rest-api'],
    [104, 'invalid-config'],
    [105, 'external-abort'],
    [106, 'cannot-start-rest-api'],
    [107, 'script-exception'],
    [108, 'script-aborted'],
    [109, 'go-panic'],
    [110, 'marked-as-failed'],
    [255, 'generic-error'],
  ])('maps exit code %i to %s and keeps the code', (code, reason) => {
    const outcome = k6Outcome(code, null);
    expect(outcome).toMatchObject({ kind: 'exited', reason, exitCode: code });
    expect(outcome.description).not.toBe('');
  });

  it('covers every named code exactly once', () => {
    const codes = Object.values(K6_EXIT_CODES);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('reports an unlisted code as unknown, keeping it', () => {
    expect(k6Outcome(3, null)).toMatchObject({ reason: 'unknown', exitCode: 3 });
  });

  it('reports death by signal with the shell convention 128 + signal number', () => {
    expect(k6Outcome(null, 'SIGKILL')).toMatchObject({ kind: 'signaled', exitCode: 137 });
    expect(k6Outcome(null, 'SIGTERM')).toMatchObject({ kind: 'signaled', exitCode: 143 });
  });
});
