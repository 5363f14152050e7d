/**
 * Issue 20.8: `--out` on a distributed run works as k6-operator users expect:
 * each agent's k6 writes the user's outputs, every sample tagged with its
 * agent (instance_id) and the test's own tags kept as k6 keeps them; json and
 * csv get one file per agent. Side by side with standalone k6 on the same
 * script (the CLI, real k6, 3 agents). InfluxDB is a recording fake of its v1
 * HTTP API on loopback (no InfluxDB on this machine): it keeps what k6 writes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { secretAuth } from '../../src/coordinator/auth.js';
import { Coordinator } from '../../src/coordinator/coordinator.js';
import { CoordinatorServer } from '../../src/coordinator/server.js';
import type { AgentOutputs } from '../../src/k6/outputs.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { CLI, exec, type Ran } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/fs.js';
import { testK6Path } from '../helpers/k6.js';
import { TargetServer } from '../helpers/target-server.js';

const SCRIPT = `
import http from 'k6/http';
import { check } from 'k6';
export const options = { vus: 3, iterations: 12, tags: { team: 'qa' } };
export default function () {
  check(http.get(\`\${__ENV.TARGET}/iteration\`), { 'status is 200': (r) => r.status === 200 });
}
`;

interface InfluxWrite {
  db: string;
  authorization: string | undefined;
  lines: string[];
}

/** A fake InfluxDB v1 (CREATE DATABASE, /write) that records every write. */
async function fakeInfluxDb(): Promise<{ url: string; writes: InfluxWrite[] }> {
  const writes: InfluxWrite[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://influx');
      if (url.pathname === '/write') {
        writes.push({
          db: url.searchParams.get('db') ?? '',
          authorization: req.headers.authorization,
          lines: body.split('\n').filter((l) => l !== ''),
        });
        res.writeHead(204).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"results":[{"statement_id":0}]}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`, writes };
}

interface JsonPoint {
  type: string;
  metric: string;
  data: { tags: Record<string, string> };
}

async function jsonPoints(file: string): Promise<JsonPoint[]> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as JsonPoint)
    .filter((p) => p.type === 'Point');
}

/** InfluxDB line protocol: `measurement,tag=v,... fields ts` → measurement and tags. */
function influxPoint(line: string): { metric: string; tags: Record<string, string> } {
  const head = line.split(/(?<!\\) /)[0] ?? '';
  const [metric = '', ...pairs] = head.split(/(?<!\\),/);
  return {
    metric,
    tags: Object.fromEntries(pairs.map((p) => p.split(/(?<!\\)=/) as [string, string])),
  };
}

describe('issue 20.8: --out on every agent (CLI, real k6, 3 agents)', () => {
  it('writes json and csv per agent and InfluxDB for all, each sample tagged with its agent, as many as k6 writes', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'script.js'), SCRIPT);
    const target = await TargetServer.start();
    const influx = await fakeInfluxDb();
    // The output's settings come from where the run starts, as for `k6 run`.
    const env = { K6_INFLUXDB_USERNAME: 'loader', K6_INFLUXDB_PASSWORD: 'pa55-influx' };
    // --tag replaces options.tags in k6: the agents' samples must lose `team` too.
    const common = ['--tag', 'env=ci', '-e', `TARGET=${target.url}`];
    const k6 = await exec(
      testK6Path(),
      [
        'run',
        '-q',
        '--out',
        'json=k6.json',
        '--out',
        `influxdb=${influx.url}/standalone`,
        ...common,
        'script.js',
      ],
      dir,
      env,
    );
    const standaloneRequests = target.count('/iteration');
    const ours = await exec(
      process.execPath,
      [
        CLI,
        'run',
        '--agents',
        '3',
        '-o',
        'json=results.json',
        '--out',
        'csv=metrics.csv',
        '--out',
        `influxdb=${influx.url}/distributed`,
        ...common,
        'script.js',
      ],
      dir,
      env,
    );
    expect([ours.code, ours.stderr]).toEqual([k6.code, expect.any(String)]);
    expect(k6.code).toBe(0);
    expect(target.count('/iteration')).toBe(2 * standaloneRequests);
    expect(ours.stdout).toContain(
      `output: json (results.agent-<n>.json from agent <n>), csv (metrics.agent-<n>.csv from agent <n>), influxdb (${influx.url}/distributed); samples tagged instance_id=<n>`,
    );
    expect(`${ours.stdout}${ours.stderr}`).not.toContain('pa55-influx');

    const files = (await readdir(dir)).sort();
    expect(files).toEqual([
      'k6.json',
      'metrics.agent-1.csv',
      'metrics.agent-2.csv',
      'metrics.agent-3.csv',
      'results.agent-1.json',
      'results.agent-2.json',
      'results.agent-3.json',
      'script.js',
    ]);

    // json: each agent's own samples, tagged with it and with the test's tags as k6 has them.
    const standalone = await jsonPoints(join(dir, 'k6.json'));
    const count = (points: JsonPoint[], metric: string) =>
      points.filter((p) => p.metric === metric).length;
    let httpReqs = 0;
    let iterations = 0;
    for (const n of [1, 2, 3]) {
      const points = await jsonPoints(join(dir, `results.agent-${String(n)}.json`));
      expect(points.length).toBeGreaterThan(0);
      const tagsSeen = new Set(
        points.map(
          (p) => `${p.data.tags.instance_id}|${p.data.tags.env}|${String(p.data.tags.team)}`,
        ),
      );
      expect([n, [...tagsSeen]]).toEqual([n, [`${String(n)}|ci|undefined`]]);
      httpReqs += count(points, 'http_reqs');
      iterations += count(points, 'iterations');
    }
    expect(count(standalone, 'http_reqs')).toBe(standaloneRequests);
    expect([httpReqs, iterations]).toEqual([
      count(standalone, 'http_reqs'),
      count(standalone, 'iterations'),
    ]);
    expect(standalone.every((p) => p.data.tags.instance_id === undefined)).toBe(true);

    // csv: the same samples, the agent in k6's extra_tags column.
    let csvRequests = 0;
    for (const n of [1, 2, 3]) {
      const [header = '', ...rows] = (
        await readFile(join(dir, `metrics.agent-${String(n)}.csv`), 'utf8')
      )
        .split('\n')
        .filter((l) => l !== '');
      const extra = header.split(',').indexOf('extra_tags');
      const requests = rows.filter((r) => r.startsWith('http_reqs,'));
      expect(requests.every((r) => r.split(',')[extra]?.includes(`instance_id=${String(n)}`))).toBe(
        true,
      );
      csvRequests += requests.length;
    }
    expect(csvRequests).toBe(httpReqs);

    // InfluxDB: every agent wrote, with the coordinator's credentials, as many requests as k6.
    const points = (db: string) =>
      influx.writes.filter((w) => w.db === db).flatMap((w) => w.lines.map(influxPoint));
    const written = points('distributed').filter((p) => p.metric === 'http_reqs');
    expect(written.length).toBe(
      points('standalone').filter((p) => p.metric === 'http_reqs').length,
    );
    expect(new Set(written.map((p) => p.tags.instance_id))).toEqual(new Set(['1', '2', '3']));
    expect(written.every((p) => p.tags.env === 'ci' && p.tags.team === undefined)).toBe(true);
    const basic = `Basic ${Buffer.from('loader:pa55-influx').toString('base64')}`;
    expect(new Set(influx.writes.map((w) => w.authorization))).toEqual(new Set([basic]));
  }, 120_000);

  it("refuses what cannot work across agents before any load, with k6's exit codes", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'script.js'), 'export default function () {}\n');
    const run = (...out: string[]) =>
      exec(process.execPath, [CLI, 'run', '--agents', '2', ...out, 'script.js'], dir);
    // An unknown type: k6's own message and exit code, side by side.
    const [k6, ours] = await Promise.all([
      exec(testK6Path(), ['run', '-q', '--out', 'jsno=x.json', 'script.js'], dir),
      run('--out', 'jsno=x.json'),
    ]);
    expect(ours.code).toBe(k6.code);
    expect(k6.stderr).toContain("invalid output type 'jsno', available types are:");
    expect(ours.stderr).toContain("invalid output type 'jsno', available types are:");
    const cloud = await run('--out', 'cloud');
    expect([cloud.code, cloud.stderr]).toEqual([
      104,
      expect.stringMatching(/--out cloud is not possible on a distributed run: .*k6 cloud run/),
    ]);
    const stdout = await run('--out', 'json');
    expect([stdout.code, stdout.stderr]).toEqual([
      104,
      expect.stringMatching(/writes to k6's stdout.*give a file name/),
    ]);
    expect(await readdir(dir)).toEqual(['script.js']);
  }, 60_000);
});

describe('--console-output on a distributed run (CLI, real k6, 3 agents)', () => {
  it("writes every agent's console.log() lines to the one file, as standalone k6 does, and not to the log", async () => {
    const dir = await tempDir();
    await writeFile(
      join(dir, 'script.js'),
      `import exec from 'k6/execution';
export const options = { vus: 3, iterations: 9 };
export default function () {
  console.log(\`iteration \${exec.scenario.iterationInTest}\`);
  console.warn('careful');
}
`,
    );
    const run = (args: string[], env: Record<string, string> = {}) =>
      exec(process.execPath, [CLI, 'run', '--agents', '3', '-q', ...args, 'script.js'], dir, env);
    const k6 = await exec(testK6Path(), ['run', '-q', '--console-output=k6.log', 'script.js'], dir);
    const flag = await run(['--console-output', 'flag.log']);
    // K6_CONSOLE_OUTPUT as k6 reads it; a flag would win over it.
    const variable = await run([], { K6_CONSOLE_OUTPUT: 'variable.log' });

    expect(k6.code).toBe(0);
    const lines = async (file: string) =>
      (await readFile(join(dir, file), 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          // logfmt: msg is quoted only when it holds a space or a quote.
          const m = /level=(\w+) msg=(?:"([^"]*)"|(\S+))/.exec(l);
          return m ? `${m[1] ?? ''} ${m[2] ?? m[3] ?? ''}` : `unparsed: ${l}`;
        })
        .sort();
    const standalone = await lines('k6.log');
    expect(standalone).toHaveLength(18);
    for (const [ran, file] of [
      [flag, 'flag.log'],
      [variable, 'variable.log'],
    ] as const) {
      expect([ran.code, file, await lines(file)]).toEqual([k6.code, file, standalone]);
      // Nothing of it in the log, as k6 prints none of it.
      expect(ran.stderr).not.toMatch(/iteration \d|careful/);
    }
    expect(k6.stderr).not.toMatch(/iteration \d|careful/);
  }, 90_000);
});

/**
 * A real agent CLI against a coordinator that asks for `outputs` the real one
 * never sends (it refuses such paths and settings itself): the agent's exit
 * and what it printed.
 */
async function agentAskedFor(
  dir: string,
  ask: { outputs?: AgentOutputs; consoleOutput?: string },
): Promise<Ran> {
  const archivePath = join(dir, 'archive.tar');
  const archive = randomBytes(2_000);
  await writeFile(archivePath, archive);
  const coordinator = new Coordinator({
    expectedAgents: 1,
    archive: { sha256: createHash('sha256').update(archive).digest('hex'), bytes: archive.length },
    agentOutputs: () => ask.outputs,
    consoleOutput: ask.consoleOutput,
    log: silentLogger,
  });
  onCleanup(() => coordinator.close());
  const server = await CoordinatorServer.listen({
    coordinator,
    archivePath,
    auth: secretAuth('outputs-secret-0123456789'),
    listen: '127.0.0.1:0',
    log: silentLogger,
  });
  onCleanup(() => server.close());
  return exec(
    process.execPath,
    [CLI, 'agent', '--coordinator', server.url, '--give-up-after', '5s'],
    dir,
    { K6_DISTRIBUTED_SECRET: 'outputs-secret-0123456789' },
  );
}

describe('issue 20.8: an agent trusts a coordinator with outputs only inside its working directory', () => {
  it("refuses a file elsewhere on its machine, and any setting but its outputs', writes nothing, says why (real agent CLI)", async () => {
    const elsewhere = join(await tempDir(), 'bashrc');
    const tags = { instance_id: '1' };
    const cases: [Parameters<typeof agentAskedFor>[1], string][] = [
      [
        { outputs: { out: [`json=${elsewhere}`], tags, env: {} } },
        `--out json=${elsewhere}, which this agent refuses: json=${elsewhere} writes outside ` +
          "the agent's working directory",
      ],
      // k6 writes the last fileName=.
      [
        { outputs: { out: [`csv=fileName=ok.csv,fileName=${elsewhere}`], tags, env: {} } },
        `--out csv=fileName=ok.csv,fileName=${elsewhere}, which this agent refuses: ` +
          'csv=fileName=ok.csv,fileName=' +
          elsewhere +
          " writes outside the agent's working directory",
      ],
      // A bare csv output takes its file from K6_CSV_FILENAME.
      [
        { outputs: { out: ['csv'], tags, env: { K6_CSV_FILENAME: elsewhere } } },
        'K6_CSV_FILENAME in its k6 environment, which this agent refuses: it is no setting of ' +
          'the outputs it runs',
      ],
      // k6 appends console.log() lines to any file it is given.
      [
        { consoleOutput: elsewhere },
        `--console-output ${elsewhere}, which this agent refuses: it is outside the agent's ` +
          'working directory',
      ],
    ];
    for (const [ask, refusal] of cases) {
      const dir = await tempDir();
      const agent = await agentAskedFor(dir, ask);
      expect([agent.code === 0, agent.stderr]).toEqual([
        false,
        expect.stringContaining(`the coordinator asked for ${refusal}`),
      ]);
      await expect(readFile(elsewhere)).rejects.toMatchObject({ code: 'ENOENT' });
      expect((await readdir(dir)).filter((f) => f !== 'archive.tar')).toEqual([]);
    }
  }, 90_000);
});
