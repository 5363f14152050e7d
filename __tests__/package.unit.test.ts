import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';

import { PACKAGE_VERSION } from '../src/version.js';

describe('package metadata', () => {
  it('src/version.ts matches package.json', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(PACKAGE_VERSION).toBe(pkg.version);
  });
});
