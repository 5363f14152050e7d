import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { freeLoopbackAddress } from '../../src/k6/address.js';
import { k6GoModule, K6_PINNED_VERSION } from '../../src/k6/version.js';
import { onCleanup } from '../helpers/cleanup.js';
import { CLI } from '../helpers/cli-process.js';
import { testK6Path } from '../helpers/k6.js';
import type { ConformanceCase } from './cases.js';

/** Set by scripts/test.sh (scripts/install-httpbin.sh builds it once per machine). */
export const HTTPBIN_ENV = 'HTTPBIN_PATH';
export const AGENTS = 3;
const OWN_FIXTURES = fileURLToPath(new URL('../fixtures/conformance', import.meta.url));
/** Files a case's handleSummary() and --summary-export write, relative to the run's folder. */
const HANDLE_SUMMARY_FILE = 'handle-summary.json';
const EXPORT_FILE = 'summary-export.json';

/** Where the scripts were copied, their hosts pointed at the running go-httpbin. */
export interface Corpus {
  dir: string;
  httpbinUrl: string;
  close(): Promise<void>;
}

/** What one side (standalone k6, or the CLI with agents) showed of a case. */
export interface Observation {
  exitCode: number;
  stdout: string;
  stderr: string;
  summaryExport: unknown;
  handleSummary: unknown;
}

export type Side = 'k6' | 'agents';

/**
 * Starts go-httpbin on loopback and copies k6's examples (from the Go module
 * source, never from this repository: k6 is AGPL) and our own scripts into a
 * temp folder, every script's hosts rewritten to that go-httpbin.
 */
export async function prepareCorpus(): Promise<Corpus> {
  const dir = await mkdtemp(join(tmpdir(), 'k6d-conformance-'));
  const httpbin = await startHttpbin();
  const rewrite = hostRewriter(httpbin.url);
  await copyRewritten(await k6ExamplesDir(), join(dir, 'examples'), rewrite);
  await copyRewritten(OWN_FIXTURES, join(dir, 'own'), rewrite);
  return {
    dir,
    httpbinUrl: httpbin.url,
    close: async () => {
      httpbin.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs a case on one side in its own empty folder, as a user would type it. */
export async function observe(
  side: Side,
  c: ConformanceCase,
  corpus: Corpus,
): Promise<Observation> {
  const cwd = await mkdtemp(join(corpus.dir, `run-${side}-`));
  const fill = (s: string) =>
    s.replaceAll('{{CORPUS}}', corpus.dir).replaceAll('{{HTTPBIN}}', corpus.httpbinUrl);
  const script = join(corpus.dir, c.script);
  const flags = [...(c.args ?? []).map(fill), '--summary-export', EXPORT_FILE];
  const k6Args = c.scriptFirst ? [script, ...flags] : [...flags, script];
  const [command, args] =
    side === 'k6'
      ? [testK6Path(), ['run', ...k6Args]]
      : [process.execPath, [CLI, 'run', '--agents', String(AGENTS), ...k6Args]];
  const env = Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, fill(v)]));
  const run = await runProcess(command, args, {
    cwd,
    env: { ...process.env, K6_PATH: testK6Path(), K6_NO_COLOR: 'true', ...env },
  });
  return {
    ...run,
    summaryExport: await readJson(join(cwd, EXPORT_FILE)),
    handleSummary: await readJson(join(cwd, HANDLE_SUMMARY_FILE)),
  };
}

function runProcess(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ exitCode: code ?? (signal ? -1 : 0), ...out }));
  });
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The hosts k6's examples call (httpbin.org, its QuickPizza demo, a local
 * :8080 server) and our fixtures' placeholder, all pointed at go-httpbin.
 * Credentials in URLs stay; https becomes http (go-httpbin serves plain HTTP);
 * a bare "httpbin.org" (a cookie domain) becomes 127.0.0.1.
 */
function hostRewriter(httpbinUrl: string): (source: string) => string {
  const host = new URL(httpbinUrl).host;
  const hostname = new URL(httpbinUrl).hostname;
  return (source) =>
    source
      .replace(
        /https?:\/\/([\w.-]+(?::[\w.-]+)?@)?(httpbin\.org|quickpizza\.grafana\.com|localhost:8080|httpbin\.test)/g,
        (_m, credentials: string | undefined) => `http://${credentials ?? ''}${host}`,
      )
      .replace(/(["'])httpbin\.org\1/g, `$1${hostname}$1`);
}

async function copyRewritten(
  from: string,
  to: string,
  rewrite: (source: string) => string,
): Promise<void> {
  await cp(from, to, { recursive: true });
  const entries = await readdir(to, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile() || !/\.(js|ts)$/.test(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    await writeFile(path, rewrite(await readFile(path, 'utf8')));
  }
}

/** k6's examples/ in the exact module source of the k6 we test with (Go's module cache). */
export async function k6ExamplesDir(): Promise<string> {
  const module = `${k6GoModule(K6_PINNED_VERSION)}@v${K6_PINNED_VERSION}`;
  const env = { ...process.env, GOFLAGS: '-mod=readonly', GOWORK: 'off' };
  try {
    const { stdout } = await promisify(execFile)('go', ['mod', 'download', '-json', module], {
      env,
      cwd: tmpdir(),
    });
    const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
    if (dir) return join(dir, 'examples');
  } catch (error) {
    throw new Error(
      `the conformance suite reads k6's example scripts from the Go module ${module}, ` +
        `and \`go mod download ${module}\` failed: install Go >= 1.25 (${String(error)})`,
      { cause: error },
    );
  }
  throw new Error(`go mod download did not report a directory for ${module}`);
}

interface RunningHttpbin {
  url: string;
  stop(): void;
}

async function startHttpbin(): Promise<RunningHttpbin> {
  const path = process.env[HTTPBIN_ENV];
  if (!path) {
    throw new Error(
      `${HTTPBIN_ENV} is not set: the conformance suite needs go-httpbin as its target. ` +
        `Run \`export ${HTTPBIN_ENV}="$(bash scripts/install-httpbin.sh)"\` (builds it with Go ` +
        'once per machine), or run the whole suite with `bash scripts/test.sh`',
    );
  }
  // A port that was free a moment ago; if another process takes it first,
  // go-httpbin exits and we pick again.
  for (let attempt = 0; attempt < 5; attempt++) {
    const address = await freeLoopbackAddress();
    const port = address.split(':')[1] ?? '';
    const child = spawn(path, ['-host', '127.0.0.1', '-port', port, '-log-level', 'OFF'], {
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = `http://${address}`;
    if (await answers(url, exited)) return { url, stop: () => child.kill('SIGKILL') };
  }
  throw new Error(`go-httpbin at ${path} did not start on loopback (5 attempts)`);
}

/** Polls until go-httpbin answers, or false once it has exited (its port was taken). */
async function answers(url: string, exited: Promise<void>): Promise<boolean> {
  const state = { exited: false };
  void exited.then(() => (state.exited = true));
  const deadline = Date.now() + 10_000;
  while (!state.exited && Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/status/200`);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
