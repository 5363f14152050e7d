import { K6DistributedError } from '../errors.js';
import { K6Process } from './process.js';
import { assertSupportedVersion, parseK6Version } from './version.js';

/** A k6 executable whose version we have read and accepted. */
export interface K6Binary {
  path: string;
  version: string;
}

/** Runs `k6 version` and refuses a k6 older than the supported minimum. */
export async function probeK6(
  path: string,
  options: { env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<K6Binary> {
  const result = await K6Process.run(path, {
    args: ['version'],
    env: options.env,
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  const output = [...result.stdout, ...result.stderr];
  const version = parseK6Version(output.join('\n'));
  if (result.code !== 0 || version === undefined) {
    throw new K6DistributedError(
      'K6_VERSION_UNREADABLE',
      `\`${path} version\` did not print a k6 version (${result.outcome.description}; ` +
        `output: ${JSON.stringify(output.join('\n').slice(0, 300))}). ` +
        'Check that this is a k6 executable, or unset K6_PATH to let k6-distributed install k6.',
      { data: { path } },
    );
  }
  assertSupportedVersion(version, path);
  return { path, version };
}
