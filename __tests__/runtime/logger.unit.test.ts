import { describe, expect, it } from '@jest/globals';

import { logProgress, quietLogger, streamLogger } from '../../src/runtime/logger.js';
import { CapturingLogger } from '../helpers/distributed.js';

function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, isTTY, write: (chunk: string) => chunks.push(chunk) };
}

describe('progress lines (issue 20.5)', () => {
  it('on a terminal: redrawn in place, and erased before any other line', () => {
    const out = stream(true);
    const log = streamLogger(out);
    log.progress?.(['running (0m01.0s)', 'default   [  33% ] 1.0s/3s']);
    log.progress?.(['running (0m02.0s)', 'default   [  67% ] 2.0s/3s']);
    log.warning('careful');
    log.progress?.(['running (0m03.0s)']);
    expect(out.chunks).toEqual([
      'running (0m01.0s)\n',
      'default   [  33% ] 1.0s/3s\n',
      '\u001b[2A\r\u001b[J',
      'running (0m02.0s)\n',
      'default   [  67% ] 2.0s/3s\n',
      '\u001b[2A\r\u001b[J',
      'warning: careful\n',
      'running (0m03.0s)\n',
    ]);
  });

  it('off a terminal: printed one after another, as k6 prints them to a pipe', () => {
    const out = stream(false);
    const log = streamLogger(out);
    log.progress?.(['running (0m01.0s)']);
    log.info('said');
    log.progress?.(['running (0m02.0s)']);
    expect(out.chunks.join('')).toBe('running (0m01.0s)\nsaid\nrunning (0m02.0s)\n');
  });

  it('-q drops them; a logger without progress() prints them at info', () => {
    const captured = new CapturingLogger();
    logProgress(quietLogger(captured), ['running (0m01.0s)']);
    expect(captured.lines).toEqual([]);
    logProgress(captured, ['running (0m01.0s)', 'default [ 33% ]']);
    expect(captured.lines).toEqual(['running (0m01.0s)', 'default [ 33% ]']);
  });
});
