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
  deleteArtifact(name: string): Promise<unknown>;
}

/** Why the coordinator ended before or without the agents, and the exit code it ended with. */
export interface CoordinatorFailure {
  message: string;
  exitCode: number;
}

const FILE = 'coordinator.json';
/** The longest failure message a card carries (it ends up in logs and job summaries). */
const MAX_MESSAGE = 8192;
const UrlCard = z.object({ url: z.url(), protocol: z.number().int() });
const FailedCard = z.object({
  protocol: z.number().int(),
  failed: z.object({ message: z.string().max(MAX_MESSAGE), exitCode: z.number().int() }),
});
const Card = z.union([UrlCard, FailedCard]);
type Card = z.infer<typeof Card>;

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
  const card: Card = { url: options.url, protocol: PROTOCOL_VERSION };
  await uploadCard(options.name, card, options.store ?? new DefaultArtifactClient());
}

/**
 * The coordinator's card over its life: first its URL, then, when it fails
 * before or during the run, why (issue 20.2), so an agent still looking for
 * it stops at once instead of waiting out its join-timeout. A failure
 * replaces the URL card: artifact names are unique in a run, so the old one
 * is deleted first.
 */
export class RendezvousCard {
  readonly name: string;
  readonly #store: () => ArtifactStore;
  #urlTried = false;
  #failed = false;

  constructor(options: { name: string; store?: ArtifactStore }) {
    this.name = options.name;
    let store = options.store;
    this.#store = () => (store ??= new DefaultArtifactClient());
  }

  async publishUrl(url: string): Promise<void> {
    this.#urlTried = true;
    await publishCoordinatorUrl({ url, name: this.name, store: this.#store() });
  }

  /** Publishes the failure once; a problem doing so is logged, never thrown (the failure stands). */
  async publishFailure(failure: CoordinatorFailure, log: Logger): Promise<void> {
    if (this.#failed) return;
    this.#failed = true;
    const card: Card = {
      protocol: PROTOCOL_VERSION,
      failed: { message: failure.message.slice(0, MAX_MESSAGE), exitCode: failure.exitCode },
    };
    try {
      if (this.#urlTried) await this.#store().deleteArtifact(this.name).catch(ignoreNotFound);
      await uploadCard(this.name, card, this.#store());
      log.info(`told waiting agents that the coordinator failed (artifact "${this.name}")`);
    } catch (error) {
      log.warning(
        `could not tell waiting agents that the coordinator failed (${(error as Error).message}); ` +
          'they stop at their join-timeout',
      );
    }
  }
}

function ignoreNotFound(error: unknown): void {
  if (!isNotFound(error)) throw error;
}

async function uploadCard(name: string, card: Card, store: ArtifactStore): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'k6-distributed-rendezvous-'));
  try {
    await writeFile(join(dir, FILE), JSON.stringify(card));
    await store.uploadArtifact(name, [join(dir, FILE)], dir, { retentionDays: 1 });
  } catch (error) {
    const what = 'url' in card ? 'URL' : 'failure';
    throw rendezvousError(
      error,
      `could not publish the coordinator's ${what} as artifact "${name}"`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Polls for the coordinator's artifact with jittered backoff (listing can lag
 * behind the upload) until `timeoutMs`, then fails with what to do. A card
 * saying the coordinator failed ends the wait at once with COORDINATOR_FAILED,
 * carrying the coordinator's reason and exit code.
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
      return urlOf(await readCard(store, id, options.name));
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

/**
 * One look at the card, for an agent that already registered and lost the
 * coordinator: the coordinator's failure when its card says so, else
 * undefined (no card, an unreadable one, or a URL).
 */
export async function readCoordinatorFailure(options: {
  name: string;
  store?: ArtifactStore;
}): Promise<CoordinatorFailure | undefined> {
  const store = options.store ?? new DefaultArtifactClient();
  try {
    const { id } = (await store.getArtifact(options.name)).artifact;
    const card = await readCard(store, id, options.name);
    return 'failed' in card ? card.failed : undefined;
  } catch {
    return undefined;
  }
}

/** The URL on a card, or the coordinator's failure as COORDINATOR_FAILED. */
function urlOf(card: Card): string {
  if ('url' in card) return card.url;
  throw coordinatorFailed(card.failed);
}

/** An agent's error for the coordinator's failure; `data.exitCode` is the coordinator's. */
export function coordinatorFailed(failure: CoordinatorFailure): K6DistributedError {
  return new K6DistributedError(
    'COORDINATOR_FAILED',
    `the coordinator failed (exit code ${String(failure.exitCode)}): ${failure.message}`,
    { data: { exitCode: failure.exitCode } },
  );
}

/** The card in a downloaded artifact; a RENDEZVOUS_UNREADABLE error when it is not (yet) there. */
async function readCard(store: ArtifactStore, id: number, name: string): Promise<Card> {
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
    return card.data;
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
