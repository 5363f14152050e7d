import { cp } from 'node:fs/promises';
import { join } from 'node:path';

import type { ArtifactStore } from '../../src/github/rendezvous.js';

/** An in-memory artifact store that behaves like @actions/artifact's client. */
export class MemoryStore implements ArtifactStore {
  readonly files = new Map<string, { id: number; dir: string }>();
  lookups = 0;
  /** Lookups that answer "not found" before the artifact shows up (listing lag). */
  lag = 0;
  #nextId = 1;
  constructor(private readonly dir: string) {}

  async uploadArtifact(name: string, files: string[]): Promise<unknown> {
    // As on GitHub: a name is unique among a run's artifacts.
    if (this.files.has(name)) throw new Error(`an artifact named ${name} already exists`);
    const id = this.#nextId++;
    const dir = join(this.dir, String(id));
    for (const file of files) await cp(file, join(dir, 'coordinator.json'));
    this.files.set(name, { id, dir });
    return {};
  }

  getArtifact(name: string): Promise<{ artifact: { id: number } }> {
    this.lookups++;
    const found = this.files.get(name);
    if (!found || this.lookups <= this.lag) return Promise.reject(notFound(name));
    return Promise.resolve({ artifact: { id: found.id } });
  }

  async downloadArtifact(id: number, options: { path: string }): Promise<unknown> {
    const found = [...this.files.values()].find((f) => f.id === id);
    if (found) await cp(found.dir, options.path, { recursive: true });
    return {};
  }

  deleteArtifact(name: string): Promise<unknown> {
    if (!this.files.delete(name)) return Promise.reject(notFound(name));
    return Promise.resolve({});
  }
}

function notFound(name: string): Error {
  const error = new Error(`Artifact not found for name: ${name}`);
  error.name = 'ArtifactNotFoundError';
  return error;
}
