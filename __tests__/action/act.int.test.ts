/**
 * The bundled action's real workflow under nektos/act in host mode: one
 * coordinator job and a matrix of 3 agent jobs, act's artifact server for the
 * rendezvous, `auth: secret`, `tunnel: none`, real k6 against a loopback
 * target. Asserts what a user sees: the coordinator's outputs and job summary,
 * and what the target counted.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from '@jest/globals';
import { unzipSync } from 'fflate';

import { ActArtifactShim } from '../helpers/act-artifact-shim.js';
import { freePort } from '../helpers/free-port.js';
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

function actPath(): string {
  const path = process.env.ACT_PATH;
  if (!path) throw new Error('ACT_PATH is not set: run the suite with `bash scripts/test.sh`');
  return path;
}

/** `act push` on the repo; resolves with its exit code and its JSON log lines. */
async function act(
  repo: string,
  scratch: string,
  options: { workflow?: string; jobs?: number; secrets?: Record<string, string> } = {},
) {
  const artifactPort = await freePort();
  const shim = await ActArtifactShim.start(artifactPort);
  const args = [
    'push',
    '--json',
    '-W',
    options.workflow ?? '.github/workflows/distributed.yml',
    '-P',
    'ubuntu-latest=-self-hosted',
    '--pull=false',
    '--action-offline-mode',
    '--no-cache-server',
    '--concurrent-jobs',
    String(options.jobs ?? 4),
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
    ...Object.entries(options.secrets ?? {}).flatMap(([k, v]) => ['-s', `${k}=${v}`]),
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

/** A script of its own per test: its setup, iterations and teardown on paths of its own. */
const reusableScript = (name: string) => `import http from 'k6/http';
export const options = { vus: 3, iterations: Number(__ENV.ITERATIONS) };
export function setup() { http.get(\`\${__ENV.TARGET}/${name}/setup\`); }
export default function () {
  http.get(\`\${__ENV.TARGET}/${name}/iteration?token=\${__ENV.API_TOKEN}\`);
}
export function teardown() { http.get(\`\${__ENV.TARGET}/${name}/teardown\`); }
`;

/**
 * The repository's reusable workflow, called as a user calls it. Offline, act
 * cannot fetch the released action, so it runs this checkout's (`./`), and
 * act runs local actions only from a checkout: the agents check out first.
 */
async function reusableRepo(target: string, out: string, verifyOnly = false): Promise<string> {
  const repo = await tempDir('k6d-act-reusable-');
  await cp(join(REPO, 'action.yml'), join(repo, 'action.yml'));
  await cp(join(REPO, 'dist'), join(repo, 'dist'), { recursive: true });
  await mkdir(join(repo, 'tests'), { recursive: true });
  for (const name of ['browse', 'login']) {
    await writeFile(join(repo, 'tests', `${name}.js`), reusableScript(name));
  }
  const reusable = (await readFile(join(REPO, '.github/workflows/k6-distributed.yml'), 'utf8'))
    .replace(
      '      # No checkout: the coordinator ships the test to its agents.\n',
      '      - uses: actions/checkout@v4\n',
    )
    .replaceAll('k6-distributed/k6-distributed@v1', './');
  const caller = (await readFile(join(REPO, '__tests__/fixtures/act/caller.yml'), 'utf8'))
    .replaceAll('@TARGET@', target)
    .replaceAll('@OUT@', out)
    .replaceAll('@VERIFY_ONLY@', String(verifyOnly));
  await mkdir(join(repo, '.github/workflows'), { recursive: true });
  await writeFile(join(repo, '.github/workflows/k6-distributed.yml'), reusable);
  await writeFile(join(repo, '.github/workflows/caller.yml'), caller);
  await git(repo, 'init', '-q');
  await git(repo, 'add', '-A');
  await git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'test');
  return repo;
}

/** act's whole log, for the reader of a failed CI run. */
async function keepLog(name: string, raw: string): Promise<void> {
  await mkdir(join(REPO, '.test-results'), { recursive: true });
  await writeFile(join(REPO, '.test-results', name), raw);
}

/** What the caller's last job saw of the reusable workflow's outputs. */
async function callerOutputs(scratch: string): Promise<Record<string, string>> {
  return JSON.parse(await readFile(join(scratch, 'outputs.json'), 'utf8')) as Record<
    string,
    string
  >;
}

describe('the reusable workflow under nektos/act (issue 20.4, real k6)', () => {
  it('issue 20.4: a glob of two scripts, an agents matrix with weights and tags, a K6_ENV secret: each test as one k6 run makes it, the token masked', async () => {
    const token = 'tok-91c4e7-do-not-print';
    const target = await TargetServer.start();
    const scratch = await tempDir('k6d-act-');
    const repo = await reusableRepo(target.url, scratch);

    // 2 coordinators and 4 agents at once: every job of a test must run together.
    const run = await act(repo, scratch, {
      workflow: '.github/workflows/caller.yml',
      jobs: 8,
      secrets: { LOAD_ENV: `API_TOKEN=${token}\nUNUSED=1` },
    });
    await keepLog('act-reusable.log', run.raw);

    const outputs = await callerOutputs(scratch);
    expect(outputs).toMatchObject({ result: 'passed', 'exit-code': '0' });
    // Each test: setup() once, its iterations, teardown() once, as `k6 run` of its script.
    for (const name of ['browse', 'login']) {
      expect(target.count(`/${name}/setup`)).toBe(1);
      expect(target.count(`/${name}/iteration`)).toBe(12);
      expect(target.count(`/${name}/teardown`)).toBe(1);
      // The secret reached every VU on every agent, through the coordinator's archive.
      const tokens = new Set(
        target.requests(`/${name}/iteration`).map((r) => r.query.get('token')),
      );
      expect([...tokens]).toEqual([token]);
    }
    // Only the command that masks it names it (GitHub shows `***` for that line too).
    const leaks = run.raw
      .split('\n')
      .filter((l) => l.includes(token) && !l.includes('"command":"add-mask"'));
    expect(leaks).toEqual([]);
    expect(run.raw).toContain('::add-mask::');

    // One job summary per test, with the matrix's agents, their tags and shares.
    const summaries = run.lines.filter((l) => l.command === 'summary').map((l) => l.content ?? '');
    for (const name of ['browse', 'login']) {
      const summary = summaries.find((s) => s.includes(`tests/${name}.js`)) ?? '';
      expect(summary).toContain('exit code 0');
      expect(summary).toMatch(/`eu`.*33\.3%.*region=eu/);
      expect(summary).toMatch(/`us`.*66\.7%.*region=us/);
    }
    const jobResults = run.lines.flatMap((l) => (l.jobResult ? [[l.jobID, l.jobResult]] : []));
    expect(jobResults.filter(([, result]) => result !== 'success')).toEqual([]);
    expect(run.code).toBe(0);
  }, 300_000);

  it('issue 20.4: verify-only checks every script with k6 and runs no agent and no load', async () => {
    const target = await TargetServer.start();
    const scratch = await tempDir('k6d-act-');
    const repo = await reusableRepo(target.url, scratch, true);

    const run = await act(repo, scratch, { workflow: '.github/workflows/caller.yml', jobs: 8 });
    await keepLog('act-reusable-verify.log', run.raw);

    const outputs = await callerOutputs(scratch);
    expect(outputs).toMatchObject({ result: 'verified', 'exit-code': '0' });
    expect(target.requests()).toEqual([]);
    const summaries = run.lines.filter((l) => l.command === 'summary').map((l) => l.content ?? '');
    for (const name of ['browse', 'login']) {
      const summary = summaries.find((s) => s.includes(`tests/${name}.js`)) ?? '';
      expect(summary).toContain('verified, no load made');
      expect(summary).toMatch(/scenarios: \(100\.00%\) 1 scenario, 3 max VUs/);
    }
    const ran = new Set(run.lines.flatMap((l) => (l.jobResult ? [l.jobID] : [])));
    expect(ran.has('coordinator')).toBe(true);
    expect(ran.has('agents')).toBe(false);
    expect(run.code).toBe(0);
  }, 300_000);
});
