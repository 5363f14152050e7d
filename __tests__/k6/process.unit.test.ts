/**
 * The process wrapper's own mechanics. These use small shell stand-ins where
 * k6 cannot show the behaviour (k6 always honours SIGINT and starts no
 * children); k6 itself is exercised in the *.int.test.ts files.
 */
import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';

import { hasErrorCode } from '../../src/errors.js';
import { K6Process, killAllK6Processes } from '../../src/k6/process.js';
import { onCleanup } from '../helpers/cleanup.js';
import { tempDir, writeExecutable } from '../helpers/fs.js';

async function standIn(body: string): Promise<string> {
  return writeExecutable(join(await tempDir(), 'stand-in'), body);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startWatched(path: string, lines: string[] = []) {
  const proc = await K6Process.start(path, {
    args: [],
    env: process.env,
    onStdoutLine: (l) => lines.push(`out:${l}`),
    onStderrLine: (l) => lines.push(`err:${l}`),
  });
  onCleanup(async () => {
    await proc.stop({ signal: 'SIGKILL', graceMs: 0 });
  });
  return proc;
}

describe('K6Process (shell stand-ins)', () => {
  it('streams stdout and stderr by line, including a last line without newline', async () => {
    const lines: string[] = [];
    const proc = await startWatched(
      await standIn(`printf 'a\\nb\\n'; printf 'e1\\n' >&2; printf 'tail'; exit 107`),
      lines,
    );
    const exit = await proc.done;
    expect(lines.filter((l) => l.startsWith('out:'))).toEqual(['out:a', 'out:b', 'out:tail']);
    expect(lines).toContain('err:e1');
    expect(exit.outcome).toMatchObject({ reason: 'script-exception', exitCode: 107 });
    expect(proc.exitSignal.aborted).toBe(true);
    expect(hasErrorCode(proc.exitSignal.reason, 'K6_PROCESS_EXITED')).toBe(true);
  });

  it('settles only once stdio closes, not when the process exits', async () => {
    // The shell exits at once; a grandchild keeps stdout open for a moment
    // and writes a last line, which must not be lost.
    const lines: string[] = [];
    const proc = await startWatched(await standIn(`(sleep 0.3; echo late) & exit 0`), lines);
    await proc.done;
    expect(lines).toEqual(['out:late']);
  });

  it('escalates to SIGKILL when the process ignores the polite signal', async () => {
    const lines: string[] = [];
    const proc = await startWatched(
      await standIn(`trap '' INT; echo ready; while :; do sleep 1; done`),
      lines,
    );
    await waitFor(() => lines.includes('out:ready'));
    const exit = await proc.stop({ signal: 'SIGINT', graceMs: 200 });
    expect(exit.outcome).toMatchObject({ kind: 'signaled', signal: 'SIGKILL' });
  });

  it('signals the whole process group, so no grandchild is orphaned', async () => {
    const lines: string[] = [];
    const proc = await startWatched(await standIn(`sleep 300 & echo "child $!"; wait`), lines);
    await waitFor(() => lines.some((l) => l.startsWith('out:child ')));
    const grandchild = Number(lines.find((l) => l.startsWith('out:child '))?.split(' ')[1]);
    expect(isAlive(grandchild)).toBe(true);

    await proc.stop({ signal: 'SIGTERM' });

    await waitFor(() => !isAlive(grandchild));
  });

  it('killAllK6Processes kills every live child (the exit hook)', async () => {
    const a = await startWatched(await standIn('sleep 300'));
    const b = await startWatched(await standIn('sleep 300'));
    killAllK6Processes();
    const exits = await Promise.all([a.done, b.done]);
    expect(exits.map((e) => e.signal)).toEqual(['SIGKILL', 'SIGKILL']);
  });

  it('rejects with K6_NOT_FOUND and the fix when the executable is missing', async () => {
    const missing = join(await tempDir(), 'no-such-k6');
    const failure: unknown = await K6Process.start(missing, { args: [], env: process.env }).catch(
      (e: unknown) => e,
    );
    expect(hasErrorCode(failure, 'K6_NOT_FOUND')).toBe(true);
    expect((failure as Error).message).toMatch(/could not start k6 at .*no-such-k6.*executable k6/);
  });

  it('run() collects the lines of a short command and kills it past its timeout', async () => {
    const quick = await K6Process.run(await standIn(`echo one; echo two >&2`), {
      args: [],
      env: process.env,
    });
    expect(quick).toMatchObject({ code: 0, stdout: ['one'], stderr: ['two'] });

    const hung = await K6Process.run(await standIn(`echo started; sleep 300`), {
      args: [],
      env: process.env,
      timeoutMs: 200,
    });
    expect(hung).toMatchObject({ signal: 'SIGKILL', stdout: ['started'] });
    expect(hung.outcome.kind).toBe('signaled');
  });

  it('does not signal a process that has already ended', async () => {
    const proc = await startWatched(await standIn('exit 0'));
    await proc.done;
    expect(proc.signal('SIGINT')).toBe(false);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
