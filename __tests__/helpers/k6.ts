import { fileURLToPath } from 'node:url';

import { expect } from '@jest/globals';

import { freeLoopbackAddress } from '../../src/k6/address.js';
import { K6Process, type K6ProcessOptions } from '../../src/k6/process.js';
import { K6RestClient } from '../../src/k6/rest-client.js';
import { onCleanup } from './cleanup.js';
import { TargetServer, type RecordedRequest } from './target-server.js';

/** The setup file puts the provisioned k6's path here (see setup/after-env.ts). */
export const TEST_K6_ENV = 'K6_DISTRIBUTED_TEST_K6';

export function testK6Path(): string {
  const path = process.env[TEST_K6_ENV];
  if (!path)
    throw new Error(`${TEST_K6_ENV} is not set: run tests through jest with setup/after-env.ts`);
  return path;
}

export function fixtureScript(name: string): string {
  return fileURLToPath(new URL(`../fixtures/scripts/${name}`, import.meta.url));
}

export interface StartedK6 {
  proc: K6Process;
  stdout: string[];
  stderr: string[];
}

/** Starts the real k6 with output captured; it is killed after the test if still running. */
export async function startK6(
  args: readonly string[],
  options: Partial<Omit<K6ProcessOptions, 'args'>> = {},
): Promise<StartedK6> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const proc = await K6Process.start(testK6Path(), {
    ...options,
    args,
    // k6 prints its banner and progress to stdout unless told otherwise.
    env: { ...process.env, K6_NO_COLOR: 'true', ...options.env },
    onStdoutLine: (line) => stdout.push(line),
    onStderrLine: (line) => stderr.push(line),
  });
  onCleanup(async () => {
    await proc.stop({ signal: 'SIGKILL', graceMs: 0 });
  });
  return { proc, stdout, stderr };
}

/** Standalone `k6 run` of `script` with its full text summary (no color), expected to exit 0. */
export async function k6FullSummary(script: string, target: string): Promise<string> {
  const k6 = await startK6([
    'run',
    '--quiet',
    '--no-color',
    '--summary-mode=full',
    '-e',
    `TARGET=${target}`,
    script,
  ]);
  const exit = await k6.proc.done;
  if (exit.outcome.exitCode !== 0) {
    throw new Error(`k6 exited ${String(exit.outcome.exitCode)}:\n${k6.stderr.join('\n')}`);
  }
  return k6.stdout.join('\n');
}

/**
 * Starts k6 the way an agent runs it (design.md §3): paused, driven only
 * through its REST API on loopback, setup and teardown left to the caller,
 * lingering after the run until signalled.
 */
export async function startAgentModeK6(
  script: string,
  vars: Record<string, string>,
  address?: string,
): Promise<StartedK6 & { client: K6RestClient; address: string }> {
  const api = address ?? (await freeLoopbackAddress());
  const k6 = await startK6([
    'run',
    '--paused',
    '--address',
    api,
    '--no-setup',
    '--no-teardown',
    '--linger',
    '--quiet',
    ...Object.entries(vars).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    fixtureScript(script),
  ]);
  const client = new K6RestClient(api);
  onCleanup(() => client.close());
  return { ...k6, client, address: api };
}

/**
 * Runs fixtures/scripts/executors.js (one scenario) as one k6 process per
 * entry of `perProcessArgs` (e.g. execution-segment flags; `[[]]` is one
 * standalone k6), each expected to exit 0; returns the iterations the
 * target received.
 */
export async function runExecutors(
  scenario: string,
  perProcessArgs: readonly (readonly string[])[],
): Promise<RecordedRequest[]> {
  const target = await TargetServer.start();
  const runs = await Promise.all(
    perProcessArgs.map((extra) =>
      startK6([
        'run',
        '--quiet',
        '--summary-mode=disabled',
        '-e',
        `TARGET=${target.url}`,
        '-e',
        `SCENARIO=${scenario}`,
        ...extra,
        fixtureScript('executors.js'),
      ]),
    ),
  );
  const exits = await Promise.all(runs.map((r) => r.proc.done));
  expect(exits.map((e) => e.outcome.exitCode)).toEqual(perProcessArgs.map(() => 0));
  return target.requests('/iteration');
}
