import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import {
  findCoordinatorUrl,
  publishCoordinatorUrl,
  readCoordinatorFailure,
  RendezvousCard,
  rendezvousName,
  type ArtifactStore,
} from '../../src/github/rendezvous.js';
import { Backoff } from '../../src/runtime/backoff.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { tempDir } from '../helpers/fs.js';
import { MemoryStore } from '../helpers/memory-artifacts.js';

const fast = () => new Backoff({ baseMs: 1, maxMs: 2 });

/** Looks for `name` with a fast backoff and a generous deadline. */
function find(store: ArtifactStore, name: string): Promise<string> {
  return findCoordinatorUrl({ name, timeoutMs: 10_000, store, log: silentLogger, backoff: fast() });
}

describe('rendezvous through a run artifact', () => {
  it('names the artifact per test and run attempt', () => {
    expect(rendezvousName('k6', '2')).toBe('k6-distributed-k6-attempt-2');
  });

  it('finds the published URL after listing lag', async () => {
    const store = new MemoryStore(await tempDir());
    store.lag = 3;
    const name = rendezvousName('k6', '1');
    await publishCoordinatorUrl({ url: 'https://a-b-c.trycloudflare.com', name, store });
    const url = await find(store, name);
    expect(url).toBe('https://a-b-c.trycloudflare.com');
    expect(store.lookups).toBe(4);
  });

  it('gives up at the deadline telling the user about coordinator-url', async () => {
    const store = new MemoryStore(await tempDir());
    await expect(
      findCoordinatorUrl({
        name: 'nope',
        timeoutMs: 50,
        store,
        log: silentLogger,
        backoff: fast(),
      }),
    ).rejects.toMatchObject({
      code: 'RENDEZVOUS_FAILED',
      message: expect.stringMatching(/no coordinator published artifact "nope".*coordinator-url/s),
    });
    expect(store.lookups).toBeGreaterThan(1);
  });

  it('retries an artifact listed before its upload is finalized (act lists those)', async () => {
    const store = new MemoryStore(await tempDir());
    const name = rendezvousName('k6', '1');
    await publishCoordinatorUrl({ url: 'http://127.0.0.1:8080', name, store });
    let downloads = 0;
    const download = store.downloadArtifact.bind(store);
    store.downloadArtifact = async (id, options) => {
      // Empty twice, then a failed transfer, then the real file.
      if (++downloads <= 2) return {};
      if (downloads === 3) throw new Error('Unexpected HTTP response from blob storage: 401');
      return download(id, options);
    };
    const url = await find(store, name);
    expect(url).toBe('http://127.0.0.1:8080');
    expect(downloads).toBe(4);
  });

  it('names a foreign artifact of the same name when it gives up', async () => {
    const dir = await tempDir();
    const store = new MemoryStore(dir);
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ url: 'not a url', protocol: 1 }));
    await store.uploadArtifact('taken', [file]);
    await expect(
      findCoordinatorUrl({
        name: 'taken',
        timeoutMs: 50,
        store,
        log: silentLogger,
        backoff: fast(),
      }),
    ).rejects.toThrow(/within 0 s \(last seen: artifact "taken" does not hold a coordinator URL/);
  });

  it('explains GHES, where artifacts v4 do not exist', async () => {
    const store = new MemoryStore(await tempDir());
    store.getArtifact = () => {
      const error = new Error('@actions/artifact v2.0.0+ is not currently supported on GHES.');
      error.name = 'GHESNotSupportedError';
      return Promise.reject(error);
    };
    await expect(
      findCoordinatorUrl({ name: 'x', timeoutMs: 1_000, store, log: silentLogger }),
    ).rejects.toThrow(/not available on GitHub Enterprise Server; set the "coordinator-url" input/);
  });

  it('issue 20.2: a failure replaces the URL card; a waiting agent stops at once with it', async () => {
    const store = new MemoryStore(await tempDir());
    const card = new RendezvousCard({ name: rendezvousName('k6', '1'), store });
    await card.publishUrl('http://127.0.0.1:8080');
    expect(await readCoordinatorFailure({ name: card.name, store })).toBeUndefined();

    await card.publishFailure({ message: 'only 1 of 3 agents joined', exitCode: 97 }, silentLogger);

    const failure = { message: 'only 1 of 3 agents joined', exitCode: 97 };
    expect(await readCoordinatorFailure({ name: card.name, store })).toEqual(failure);
    const lookups = store.lookups;
    // A deadline of an hour: only the card can end this wait.
    await expect(
      findCoordinatorUrl({
        name: card.name,
        timeoutMs: 3_600_000,
        store,
        log: silentLogger,
        backoff: fast(),
      }),
    ).rejects.toMatchObject({
      code: 'COORDINATOR_FAILED',
      message: 'the coordinator failed (exit code 97): only 1 of 3 agents joined',
      data: { exitCode: 97 },
    });
    expect(store.lookups).toBe(lookups + 1);
  });

  it('issue 20.2: a coordinator that fails before publishing its URL publishes its failure', async () => {
    const store = new MemoryStore(await tempDir());
    const card = new RendezvousCard({ name: 'k6-distributed-k6-attempt-1', store });
    await card.publishFailure({ message: 'k6 archive rejected x.js', exitCode: 107 }, silentLogger);
    // Once: a second failure (the step's catch after the role's) changes nothing.
    await card.publishFailure({ message: 'later', exitCode: 97 }, silentLogger);
    expect(await readCoordinatorFailure({ name: card.name, store })).toEqual({
      message: 'k6 archive rejected x.js',
      exitCode: 107,
    });
  });
});
