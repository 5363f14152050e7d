/**
 * The bundled action's real workflow under nektos/act in host mode: one
 * coordinator job and a matrix of 3 agent jobs, act's artifact server for the
 * rendezvous, `auth: secret`, `tunnel: none`, real k6 against a loopback
 * target. Asserts what a user sees: the coordinator's outputs and job summary,
 * and what the target counted.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from '@jest/globals';
import { unzipSync } from 'fflate';

import { ActArtifactShim } from '../helpers/act-artifact-shim.js';
import { tempDir } from '../helpers/fs.js';
import { fixtureScript, testK6Path } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'act-test-secret-0123456789';

interface ActLine {
  msg?: string;
  jobID?: string;
  command?: string;
  content?: string;
  jobResult?: string;
}

/** A throwaway repository holding the action (action.yml + dist/), the script and the workflow. */
async function actRepo(target: string, out: string, scriptFlags: string): Promise<string> {
  const repo = await tempDir('k6d-act-repo-');
  await cp(join(REPO, 'action.yml'), join(repo, 'action.yml'));
  await cp(join(REPO, 'dist'), join(repo, 'dist'), { recursive: true });
  await cp(fixtureScript('metrics.js'), join(repo, 'script.js'));
  const workflow = (await readFile(join(REPO, '__tests__/fixtures/act/distributed.yml'), 'utf8'))
    .replaceAll('@TARGET@', target)
    .replaceAll('@OUT@', out)
    .replaceAll('@SCRIPT_FLAGS@', scriptFlags);
  await mkdir(join(repo, '.github/workflows'), { recursive: true });
  await writeFile(join(repo, '.github/workflows/distributed.yml'), workflow);
  await git(repo, 'init', '-q');
  await git(repo, 'add', '-A');
  await git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'test');
  return repo;
}

function git(cwd: string, ...args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('git', args, { cwd }, (error) =>
      error ? reject(new Error(error.message)) : resolve(),
    ),
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function actPath(): string {
  const path = process.env.ACT_PATH;
  if (!path) throw new Error('ACT_PATH is not set: run the suite with `bash scripts/test.sh`');
  return path;
}

/** `act push` on the repo; resolves with its exit code and its JSON log lines. */
async function act(repo: string, scratch: string) {
  const artifactPort = await freePort();
  const shim = await ActArtifactShim.start(artifactPort);
  const args = [
    'push',
    '--json',
    '-W',
    '.github/workflows/distributed.yml',
    '-P',
    'ubuntu-latest=-self-hosted',
    '--pull=false',
    '--action-offline-mode',
    '--no-cache-server',
    '--concurrent-jobs',
    '4',
    '--action-cache-path',
    join(scratch, 'act-cache'),
    '--artifact-server-path',
    join(scratch, 'artifacts'),
    '--artifact-server-addr',
    '127.0.0.1',
    '--artifact-server-port',
    String(artifactPort),
    '--env',
    `K6_PATH=${testK6Path()}`,
    '--env',
    'K6_NO_COLOR=true',
    '-s',
    `K6_DISTRIBUTED_SECRET=${SECRET}`,
  ];
  return new Promise<{ code: number; lines: ActLine[]; raw: string }>((resolve) => {
    execFile(
      actPath(),
      args,
      {
        cwd: repo,
        env: { ...process.env, ACTIONS_RUNTIME_URL: shim.url },
        maxBuffer: 64 * 1024 * 1024,
        timeout: 180_000,
      },
      (error, stdout, stderr) => {
        const raw = `${stdout}\n${stderr}`;
        const lines = raw.split('\n').flatMap((line) => {
          try {
            return [JSON.parse(line) as ActLine];
          } catch {
            return [];
          }
        });
        resolve({ code: error ? Number(error.code ?? 1) : 0, lines, raw });
      },
    );
  });
}

/** The files of the artifact `name` under act's artifact directory, unzipped. */
async function artifactFiles(root: string, name: string): Promise<Record<string, string>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile() && join(e.parentPath, e.name).includes(name));
  const out: Record<string, string> = {};
  for (const file of files) {
    const bytes = await readFile(join(file.parentPath, file.name));
    const zipped = bytes.subarray(0, 2).toString('latin1') === 'PK';
    const contents = zipped ? unzipSync(bytes) : { [file.name]: bytes };
    for (const [path, data] of Object.entries(contents))
      out[path] = Buffer.from(data).toString('utf8');
  }
  return out;
}

describe('the action under nektos/act (coordinator job + 3 agent jobs, real k6)', () => {
  it.each([
    ['passes', '{}', 'passed', 0],
    ['fails a threshold on merged data', '{"iterations":["count<25"]}', 'failed', 99],
  ])(
    '%s: outputs, job summary and target counts match one k6 run',
    async (_, thresholds, result, exitCode) => {
      const target = await TargetServer.start();
      const scratch = await tempDir('k6d-act-');
      const repo = await actRepo(
        target.url,
        scratch,
        `-e ITERATIONS=30 -e 'THRESHOLDS=${thresholds}'`,
      );

      const run = await act(repo, scratch);
      // act's whole log, for the reader of a failed CI run.
      await mkdir(join(REPO, '.test-results'), { recursive: true });
      await writeFile(join(REPO, `.test-results/act-${result}.log`), run.raw);

      const outputs = JSON.parse(await readFile(join(scratch, 'outputs.json'), 'utf8')) as Record<
        string,
        string
      >;
      expect(outputs).toMatchObject({ result, 'exit-code': String(exitCode) });
      expect(outputs['summary-json']).toMatch(/k6-distributed-k6\.json$/);
      expect(outputs['report-html']).toMatch(/k6-distributed-k6\.html$/);
      // The report artifact, as act's artifact server stored it: the result JSON and the HTML.
      const stored = await artifactFiles(join(scratch, 'artifacts'), 'k6-report-k6-attempt-1');
      expect(Object.keys(stored).sort()).toEqual(['report.html', 'result.json']);
      expect(JSON.parse(stored['result.json'] ?? '')).toMatchObject({ exitCode, figures: {} });
      expect(stored['report.html']).toMatch(/^<!doctype html>/);
      // Exactly what one k6 run of the script does to the target.
      expect(target.count('/setup')).toBe(1);
      expect(target.count('/iteration')).toBe(30);
      expect(target.count('/teardown')).toBe(1);

      const summary = run.lines
        .filter((l) => l.command === 'summary')
        .map((l) => l.content ?? '')
        .join('\n');
      expect(summary).toContain(`exit code ${String(exitCode)}`);
      for (const n of [1, 2, 3]) expect(summary).toContain(`agent-${String(n)}`);
      expect(summary).toContain('region=act-');
      expect(summary).toMatch(/📊 \[HTML report and result JSON\]\(\S+\) \(artifact\)/);

      const jobResults = run.lines.flatMap((l) => (l.jobResult ? [[l.jobID, l.jobResult]] : []));
      expect(jobResults.filter(([job]) => job === 'agents')).toEqual(
        Array.from({ length: 3 }, () => ['agents', 'success']),
      );
      expect(jobResults.filter(([job]) => job === 'coordinator')).toEqual([
        ['coordinator', exitCode === 0 ? 'success' : 'failure'],
      ]);
      expect(run.code).toBe(exitCode === 0 ? 0 : 1);
    },
    240_000,
  );
});
