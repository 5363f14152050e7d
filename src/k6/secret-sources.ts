import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { errorMessage, K6DistributedError } from '../errors.js';
import type { SecretSourceSpec } from '../protocol/messages.js';

/** Largest file shipped to agents for a secret source (k6 reads it whole). */
export const MAX_SECRETS_FILE_BYTES = 1024 * 1024;

/** The variables k6's `url` source reads its settings from (internal/secretsource/url). */
const URL_SOURCE_ENV = /^K6_SECRET_SOURCE_URL_/;

/**
 * What each agent needs to see the secrets `k6 run --secret-source ...` on
 * the coordinator would see. Files named by a source (a `file` source's
 * secrets, a `url` source's `config=`) exist on the coordinator only: their
 * content travels with the assignment (only to authenticated agents of this
 * run, never in the archive or a log) and the agent writes it to a private
 * file of its own. A `url` source also takes the coordinator's
 * K6_SECRET_SOURCE_URL_* settings (e.g. its Authorization header). Other
 * sources (`mock`, extensions) are passed on as given.
 */
export async function secretSourcesForAgents(
  values: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<SecretSourceSpec[]> {
  const cwd = options.cwd ?? process.cwd();
  return Promise.all(values.map((value) => specFor(value, cwd, options.env ?? {})));
}

async function specFor(
  value: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<SecretSourceSpec> {
  const eq = value.indexOf('=');
  const type = eq < 0 ? value : value.slice(0, eq);
  const items = eq < 0 ? [] : value.slice(eq + 1).split(',');
  if (type === 'file') return fileSpec(value, items, cwd);
  if (type === 'url') return urlSpec(items, cwd, env);
  return { kind: 'as-given', value };
}

/**
 * k6's file source: `name=` and `default` belong to k6, `filename=PATH` or a
 * bare PATH to the source; the last path wins.
 */
async function fileSpec(value: string, items: string[], cwd: string): Promise<SecretSourceSpec> {
  let filename: string | undefined;
  const options: string[] = [];
  for (const item of items) {
    if (item.startsWith('filename=')) filename = item.slice('filename='.length);
    else if (item === 'default' || item.includes('=')) options.push(item);
    else filename = item;
  }
  // Without a path k6 itself refuses the flag while archiving.
  if (!filename) return { kind: 'as-given', value };
  return { kind: 'file', options, content: await readSourceFile(resolve(cwd, filename)) };
}

async function urlSpec(
  items: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<SecretSourceSpec> {
  let config: string | undefined;
  const options: string[] = [];
  for (const item of items) {
    if (item.startsWith('config=')) {
      config = await readSourceFile(resolve(cwd, item.slice('config='.length)));
    } else options.push(item);
  }
  const settings = Object.entries(env).filter(
    (entry): entry is [string, string] => URL_SOURCE_ENV.test(entry[0]) && entry[1] !== undefined,
  );
  return { kind: 'url', options, config, env: Object.fromEntries(settings) };
}

async function readSourceFile(path: string): Promise<string> {
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

/** An agent's k6 flags and process variables for the run's secret sources. */
export interface AgentSecretSources {
  flags: string[];
  env: Record<string, string>;
}

/**
 * The agent's `--secret-source` flags: shipped files are written to `dir`
 * (the agent's private work folder, removed when the agent ends), readable
 * by this user only.
 */
export async function agentSecretSources(
  specs: readonly SecretSourceSpec[],
  dir: string,
): Promise<AgentSecretSources> {
  const result: AgentSecretSources = { flags: [], env: {} };
  const writePrivate = async (name: string, content: string) => {
    const path = join(dir, name);
    await writeFile(path, content, { mode: 0o600 });
    return path;
  };
  for (const [i, spec] of specs.entries()) {
    const n = String(i + 1);
    if (spec.kind === 'as-given') {
      result.flags.push(`--secret-source=${spec.value}`);
    } else if (spec.kind === 'file') {
      const path = await writePrivate(`secrets-${n}.txt`, spec.content);
      result.flags.push(`--secret-source=file=${[...spec.options, `filename=${path}`].join(',')}`);
    } else {
      const config =
        spec.config === undefined
          ? []
          : [`config=${await writePrivate(`secrets-${n}.json`, spec.config)}`];
      const items = [...spec.options, ...config];
      result.flags.push(`--secret-source=url${items.length > 0 ? `=${items.join(',')}` : ''}`);
      Object.assign(result.env, spec.env);
    }
  }
  return result;
}
