import { open, rm, type FileHandle } from 'node:fs/promises';

/**
 * An output file opened before the load and written after it (issue 17.7):
 * its descriptor is taken while there are plenty, so running out of them
 * during the run (EMFILE) cannot lose the result. Opened without truncating,
 * so a run that writes nothing leaves an earlier file as it was, and removes
 * the file it created.
 */
export class ReservedFile {
  #written = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly created: boolean,
  ) {}

  /** Opens `path` for writing (creating it if missing). */
  static async open(path: string): Promise<ReservedFile> {
    try {
      return new ReservedFile(path, await open(path, 'wx'), true);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
      return new ReservedFile(path, await open(path, 'r+'), false);
    }
  }

  /** Replaces the file's content and closes it. */
  async write(content: string | Buffer): Promise<void> {
    this.#written = true;
    try {
      await this.handle.truncate(0);
      // From the start: the handle was never read or written before.
      await this.handle.writeFile(content);
    } finally {
      await this.handle.close();
    }
  }

  /** Closes a file never written; removes it if this run created it. */
  async release(): Promise<void> {
    if (this.#written) return;
    this.#written = true;
    await this.handle.close();
    if (this.created) await rm(this.path, { force: true });
  }
}

/**
 * Opens each given path. One that cannot be opened now is left out: writing
 * it by path at the end reports the problem where k6 reports its own.
 */
export async function reserveFiles<K extends string>(
  paths: Partial<Record<K, string | undefined>>,
): Promise<Partial<Record<K, ReservedFile>>> {
  const files: Partial<Record<K, ReservedFile>> = {};
  for (const [key, path] of Object.entries(paths) as [K, string | undefined][]) {
    if (path === undefined) continue;
    try {
      files[key] = await ReservedFile.open(path);
    } catch {
      // Written (and its error logged) by path later.
    }
  }
  return files;
}

/** Releases every file not written. */
export async function releaseFiles(files: Partial<Record<string, ReservedFile>>): Promise<void> {
  const open = Object.values(files).filter((f): f is ReservedFile => f !== undefined);
  await Promise.all(open.map((file) => file.release()));
}
