/**
 * CI must fail when the committed dist/ is not what the sources build: a
 * GitHub Action runs from dist/, so a stale bundle would ship old code.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { cp, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { tempDir } from '../helpers/fs.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

describe('scripts/check-dist.sh', () => {
  it('fails, naming the stale files and the fix, when a source changed without a rebuild', async () => {
    const copy = await tempDir();
    for (const entry of ['package.json', 'tsconfig.json', 'src', 'dist', 'scripts']) {
      await cp(join(repo, entry), join(copy, entry), { recursive: true });
    }
    await symlink(join(repo, 'node_modules'), join(copy, 'node_modules'));
    const source = join(copy, 'src', 'k6', 'version.ts');
    await writeFile(source, (await readFile(source, 'utf8')).replace('too old', 'too aged'));

    const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile('bash', [join(copy, 'scripts', 'check-dist.sh')], (error, _stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, stderr });
      });
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/dist\/index\.js differ/);
    expect(result.stderr).toMatch(/dist\/ is stale.*\n.*run 'npm run build' and commit dist\//);
    // Two ncc builds of three bundles: minutes on a loaded 2-core machine.
  }, 360_000);
});
