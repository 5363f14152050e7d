import semver from 'semver';

import { K6DistributedError } from '../errors.js';

/** The k6 release we test against and install by default. */
export const K6_PINNED_VERSION = '2.2.0';

/**
 * The oldest k6 we accept: 1.0 is the first release with `--summary-mode` and
 * the execution-segment and REST API behaviour the engine relies on.
 */
export const K6_MIN_VERSION = '1.0.0';

/** Reads the version out of `k6 version`, e.g. "k6 v2.2.0 (commit/devel, go1.26.8, linux/amd64)". */
export function parseK6Version(output: string): string | undefined {
  const match = /\bk6 v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)/.exec(output);
  return match?.[1];
}

/** Accepts "2.2.0" or "v2.2.0"; refuses anything that is not an exact version. */
export function normalizeVersion(input: string): string {
  const version = semver.valid(semver.clean(input));
  if (version === null) {
    throw new K6DistributedError(
      'K6_VERSION_UNSUPPORTED',
      `"${input}" is not a k6 version: give an exact release such as ${K6_PINNED_VERSION}.`,
    );
  }
  return version;
}

export function assertSupportedVersion(version: string, path: string): void {
  if (semver.lt(version, K6_MIN_VERSION)) {
    throw new K6DistributedError(
      'K6_VERSION_UNSUPPORTED',
      `k6 v${version} at ${path} is too old: k6-distributed needs k6 v${K6_MIN_VERSION} or newer ` +
        `(tested with v${K6_PINNED_VERSION}). Upgrade it, or point K6_PATH at a newer k6.`,
      { data: { version, path } },
    );
  }
}

/** The Go module that builds the `k6` command of a given major version. */
export function k6GoModule(version: string): string {
  const major = semver.major(version);
  return major >= 2 ? `go.k6.io/k6/v${major}` : 'go.k6.io/k6';
}
