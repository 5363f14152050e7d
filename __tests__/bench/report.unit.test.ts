import { describe, expect, it } from '@jest/globals';

import { BLOCK_END, BLOCK_START, replaceBlock } from '../../bench/report.js';

describe('replaceBlock', () => {
  it('replaces only the generated block, keeping the prose around it', () => {
    const doc = `# Benchmarks\n\nprose before\n\n${BLOCK_START}\nold numbers\n${BLOCK_END}\n\nprose after\n`;
    const block = `${BLOCK_START}\n\nnew numbers\n\n${BLOCK_END}\n`;

    const out = replaceBlock(doc, block);

    expect(out).toBe(
      `# Benchmarks\n\nprose before\n\n${BLOCK_START}\n\nnew numbers\n\n${BLOCK_END}\n\nprose after\n`,
    );
    expect(replaceBlock(out, block)).toBe(out);
  });

  it('refuses a document whose markers are missing, naming the fix', () => {
    expect(() => replaceBlock('# Benchmarks\n', `${BLOCK_START}\n${BLOCK_END}`)).toThrow(
      /has no <!-- distributed:start --> … <!-- distributed:end --> block: restore the markers/,
    );
  });
});
