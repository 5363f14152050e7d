import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DefaultArtifactClient } from '@actions/artifact';
import { z } from 'zod';

import { hasErrorCode, K6DistributedError } from '../errors.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { Backoff } from '../runtime/backoff.js';
import type { Logger } from '../runtime/logger.js';
import { parseJson } from '../runtime/net.js';
import { isGhesUnsupported } from './actions-run.js';

/** The few artifact calls the rendezvous makes (@actions/artifact's client has them all). */
export interface ArtifactStore {
  uploadArtifact(
    name: string,
    files: string[],
    rootDirectory: string,
    options?: { retentionDays?: number },
  ): Promise<unknown>;
  getArtifact(name: string): Promise<{ artifact: { id: number } }>;
  downloadArtifact(id: number, options: { path: string }): Promise<unknown>;
}

const FILE = 'coordinator.json';
const Card = z.object({ url: z.url(), protocol: z.number().int() });

const HINT =
  'set the "coordinator-url" input on the coordinator and every agent ' +
  '(with "tunnel: none") to a URL the agents can reach';

/**
 * Where agents find the coordinator: a tiny artifact named per test and run
 * attempt. Artifacts v4 are visible to the run's other jobs right after upload
 * and need no permission (design.md §4); job outputs are not, until the job ends.
 */
export function rendezvousName(testName: string, runAttempt: string): string {
  return `k6-distributed-${testName}-attempt-${runAttempt}`;
}

export async function publishCoordinatorUrl(options: {
  url: string;
  name: string;
  store?: ArtifactStore;
}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'k6-distributed-rendezvous-'));
  try {
    const card: z.infer<typeof Card> = { url: options.url, protocol: PROTOCOL_VERSION };
    await writeFile(join(dir, FILE), JSON.stringify(card));
    await (options.store ?? new DefaultArtifactClient()).uploadArtifact(
      options.name,
      [join(dir, FILE)],
      dir,
      { retentionDays: 1 },
    );
  } catch (error) {
    throw rendezvousError(
      error,
      `could not publish the coordinator's URL as artifact "${options.name}"`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Polls for the coordinator's artifact with jittered backoff (listing can lag
 * behind the upload) until `timeoutMs`, then fails with what to do.
 */
export async function findCoordinatorUrl(options: {
  name: string;
  timeoutMs: number;
  store?: ArtifactStore;
  log: Logger;
  signal?: AbortSignal;
  backoff?: Backoff;
}): Promise<string> {
  const store = options.store ?? new DefaultArtifactClient();
  const backoff = options.backoff ?? new Backoff({ baseMs: 1_000, maxMs: 10_000 });
  const deadline = Date.now() + options.timeoutMs;
  options.log.info(`waiting for the coordinator's URL (artifact "${options.name}")`);
  let problem: string;
  for (;;) {
    try {
      const { id } = (await store.getArtifact(options.name)).artifact;
      // An artifact can be listed before its upload is finalized (act does
      // so): an unreadable one is retried like a missing one.
      return await readCard(store, id, options.name);
    } catch (error) {
      if (!isNotFound(error) && !isUnreadable(error)) {
        throw rendezvousError(error, `could not look up artifact "${options.name}"`);
      }
      problem = isUnreadable(error) ? ` (last seen: ${(error as Error).message})` : '';
    }
    if (Date.now() + backoff.nextDelayMs() > deadline) {
      throw new K6DistributedError(
        'RENDEZVOUS_FAILED',
        `no coordinator published artifact "${options.name}" within ` +
          `${String(Math.round(options.timeoutMs / 1000))} s${problem}: check that the ` +
          'coordinator job of this run started and uses the same "test-name", or raise ' +
          `"join-timeout", or ${HINT}`,
      );
    }
    await backoff.wait(options.signal);
  }
}

/** The card in a downloaded artifact; a RENDEZVOUS_UNREADABLE error when it is not (yet) there. */
async function readCard(store: ArtifactStore, id: number, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'k6-distributed-rendezvous-'));
  try {
    try {
      await store.downloadArtifact(id, { path: dir });
    } catch (error) {
      throw unreadable(`artifact "${name}" could not be downloaded (${(error as Error).message})`);
    }
    let text: string;
    try {
      text = await readFile(join(dir, FILE), 'utf8');
    } catch {
      throw unreadable(`artifact "${name}" has no ${FILE} yet`);
    }
    const card = Card.safeParse(parseJson(text));
    if (!card.success) {
      throw unreadable(
        `artifact "${name}" does not hold a coordinator URL: is another step uploading an ` +
          'artifact of that name?',
      );
    }
    return card.data.url;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function unreadable(message: string): K6DistributedError {
  return new K6DistributedError('RENDEZVOUS_UNREADABLE', message);
}

function isUnreadable(error: unknown): boolean {
  return hasErrorCode(error, 'RENDEZVOUS_UNREADABLE');
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'ArtifactNotFoundError';
}

function rendezvousError(error: unknown, what: string): K6DistributedError {
  if (error instanceof K6DistributedError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new K6DistributedError(
    'RENDEZVOUS_FAILED',
    isGhesUnsupported(error)
      ? `${what}: artifacts v4 are not available on GitHub Enterprise Server; ${HINT}`
      : `${what} (${reason}); ${HINT}`,
  );
}
