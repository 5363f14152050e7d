import { describe, expect, it } from '@jest/globals';

import { hasErrorCode } from '../../src/errors.js';
import {
  assertSupportedVersion,
  k6GoModule,
  normalizeVersion,
  parseK6Version,
} from '../../src/k6/version.js';

describe('parseK6Version', () => {
  it.each([
    ['k6 v2.2.0 (commit/devel, go1.26.8, linux/amd64)', '2.2.0'],
    ['k6 v1.0.0 (go1.24.1, linux/amd64)\n  Extensions:\n', '1.0.0'],
    ['k6 v0.49.0 (2024-01-29T09:46:13+0000/v0.49.0-0-g5d3c5a1, go1.21.6, linux/amd64)', '0.49.0'],
    ['k6 v2.3.0-rc.1 (commit/abc)', '2.3.0-rc.1'],
  ])('reads %j', (output, version) => {
    expect(parseK6Version(output)).toBe(version);
  });

  it('finds nothing in output that is not k6', () => {
    expect(parseK6Version('Python 3.11.7')).toBeUndefined();
  });
});

describe('version rules', () => {
  it('refuses k6 older than 1.0.0 with a message naming the fix', () => {
    let caught: unknown;
    try {
      assertSupportedVersion('0.57.0', '/usr/bin/k6');
    } catch (error) {
      caught = error;
    }
    expect(hasErrorCode(caught, 'K6_VERSION_UNSUPPORTED')).toBe(true);
    expect((caught as Error).message).toMatch(
      /v0\.57\.0 at \/usr\/bin\/k6 is too old.*v1\.0\.0.*K6_PATH/s,
    );
    expect(() => assertSupportedVersion('1.0.0', 'k6')).not.toThrow();
  });

  it('normalizes versions and rejects non-versions', () => {
    expect(normalizeVersion('v2.2.0')).toBe('2.2.0');
    expect(() => normalizeVersion('latest')).toThrow(/"latest" is not a k6 version/);
  });

  it('names the Go module of each major', () => {
    expect(k6GoModule('2.2.0')).toBe('go.k6.io/k6/v2');
    expect(k6GoModule('1.8.1')).toBe('go.k6.io/k6');
  });
});
