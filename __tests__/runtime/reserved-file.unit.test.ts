/**
 * Output files opened before the load (issue 17.7): written whole at the end,
 * and a run that writes nothing leaves the directory as it found it.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { ReservedFile, releaseFiles, reserveFiles } from '../../src/runtime/reserved-file.js';
import { tempDir } from '../helpers/fs.js';

describe('issue 17.7: ReservedFile', () => {
  it('replaces an earlier, longer file with exactly the new content', async () => {
    const path = join(await tempDir(), 'summary.json');
    await writeFile(path, 'an earlier, much longer result file');
    const file = await ReservedFile.open(path);
    await file.write('{"ok":1}');
    await file.release();
    expect(await readFile(path, 'utf8')).toBe('{"ok":1}');
  });

  it('removes a file it created but never wrote, and keeps an earlier one untouched', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'old.json'), 'kept');
    const files = await reserveFiles({ a: join(dir, 'new.json'), b: join(dir, 'old.json') });
    expect(await readdir(dir)).toEqual(['new.json', 'old.json']);
    await releaseFiles(files);
    expect(await readdir(dir)).toEqual(['old.json']);
    expect(await readFile(join(dir, 'old.json'), 'utf8')).toBe('kept');
  });

  it('leaves out a path it cannot open now (its write reports the error later)', async () => {
    const dir = await tempDir();
    const files = await reserveFiles({ a: join(dir, 'missing-dir', 'x.json'), b: undefined });
    expect(files).toEqual({});
  });
});
