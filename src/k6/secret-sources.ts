import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { errorMessage, K6DistributedError } from '../errors.js';
import type { SecretSourceSpec } from '../protocol/messages.js';

/** Largest secrets file shipped to agents (k6 reads it whole, line by line). */
export const MAX_SECRETS_FILE_BYTES = 1024 * 1024;

/**
 * What each agent needs to see the secrets `k6 run --secret-source ...` on
 * the coordinator would see. A `file` source names a file on the coordinator
 * that agents do not have: its content travels with the assignment (only to
 * authenticated agents of this run, never in the archive or a log) and the
 * agent writes it to a private file of its own. Other sources (`url`,
 * `mock`, extensions) carry their whole configuration in the flag and are
 * passed on as given; each agent then reads them itself.
 */
export async function secretSourcesForAgents(
  values: readonly string[],
  cwd: string = process.cwd(),
): Promise<SecretSourceSpec[]> {
  return Promise.all(values.map((value) => specFor(value, cwd)));
}

async function specFor(value: string, cwd: string): Promise<SecretSourceSpec> {
  const eq = value.indexOf('=');
  if (eq < 0 || value.slice(0, eq) !== 'file') return { kind: 'as-given', value };
  // k6's file source (internal/secretsource/file): `name=` and `default` belong to
  // k6, `filename=PATH` or a bare PATH to the source; the last path wins.
  let filename: string | undefined;
  const options: string[] = [];
  for (const item of value.slice(eq + 1).split(',')) {
    if (item.startsWith('filename=')) filename = item.slice('filename='.length);
    else if (item === 'default' || item.includes('=')) options.push(item);
    else filename = item;
  }
  if (!filename) return { kind: 'as-given', value };
  return { kind: 'file', options, content: await readSecretsFile(resolve(cwd, filename)) };
}

async function readSecretsFile(path: string): Promise<string> {
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch (error) {
    throw new K6DistributedError(
      'INVALID_OPTION',
      `--secret-source: cannot read the secrets file ${path} (${errorMessage(error)}); ` +
        'give a file the coordinator can read',
    );
  }
  if (content.length > MAX_SECRETS_FILE_BYTES) {
    throw new K6DistributedError(
      'INVALID_OPTION',
      `--secret-source: the secrets file ${path} is larger than 1 MiB; keep only the secrets ` +
        'the test uses in it',
    );
  }
  return content.toString('utf8');
}

/**
 * The agent's `--secret-source` flags: a `file` source points at a copy in
 * `dir` (the agent's private work folder, removed when the agent ends),
 * readable by this user only.
 */
export async function agentSecretSourceFlags(
  specs: readonly SecretSourceSpec[],
  dir: string,
): Promise<string[]> {
  const flags: string[] = [];
  for (const [i, spec] of specs.entries()) {
    if (spec.kind === 'as-given') {
      flags.push(`--secret-source=${spec.value}`);
      continue;
    }
    const path = join(dir, `secrets-${String(i + 1)}.txt`);
    await writeFile(path, spec.content, { mode: 0o600 });
    flags.push(`--secret-source=file=${[...spec.options, `filename=${path}`].join(',')}`);
  }
  return flags;
}
