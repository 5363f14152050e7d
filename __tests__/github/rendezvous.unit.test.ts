import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import {
  findCoordinatorUrl,
  publishCoordinatorUrl,
  rendezvousName,
  type ArtifactStore,
} from '../../src/github/rendezvous.js';
import { Backoff } from '../../src/runtime/backoff.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { tempDir } from '../helpers/fs.js';

/** An in-memory artifact store that behaves like @actions/artifact's client. */
class MemoryStore implements ArtifactStore {
  readonly files = new Map<string, { id: number; dir: string }>();
  lookups = 0;
  /** Lookups that answer "not found" before the artifact shows up (listing lag). */
  lag = 0;
  constructor(private readonly dir: string) {}

  async uploadArtifact(name: string, files: string[]): Promise<unknown> {
    const dir = join(this.dir, String(this.files.size));
    for (const file of files) await cp(file, join(dir, 'coordinator.json'));
    this.files.set(name, { id: this.files.size + 1, dir });
    return {};
  }

  getArtifact(name: string): Promise<{ artifact: { id: number } }> {
    this.lookups++;
    const found = this.files.get(name);
    if (!found || this.lookups <= this.lag) {
      const error = new Error(`Artifact not found for name: ${name}`);
      error.name = 'ArtifactNotFoundError';
      return Promise.reject(error);
    }
    return Promise.resolve({ artifact: { id: found.id } });
  }

  async downloadArtifact(id: number, options: { path: string }): Promise<unknown> {
    const found = [...this.files.values()].find((f) => f.id === id);
    if (found) await cp(found.dir, options.path, { recursive: true });
    return {};
  }
}

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
});
