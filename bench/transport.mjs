#!/usr/bin/env node
// Benchmark: how should an agent get k6's JSON metric stream (`--out json=...`)?
//
//   node bench/transport.mjs            # JSON result on stdout, progress + Markdown on stderr
//   node bench/transport.mjs --write    # also rewrites the generated block in BENCHMARKS.md
//
// Environment (all optional):
//   K6_PATH              k6 binary (default ~/.cache/k6-distributed/k6/v2.2.0/k6)
//   BENCH_DURATION       load phase per run in seconds (default 10)
//   BENCH_VUS            constant VUs (default 20)
//   BENCH_PACED_RATE     requests/s of the paced pass (constant-arrival-rate), 0 = skip (default 2000)
//   BENCH_ROUNDS         rounds over all variants, order rotated each round (default 3)
//   BENCH_VARIANTS       subset, e.g. "a,b,c" (default a,b,c,f,d,e,g)
//   BENCH_WARMUP         seconds of a discarded baseline run first (default 2, 0 = none)
//   BENCH_TAIL_POLL_MS   poll interval of the regular-file tailer (default 50)
//   BENCH_CHECKS         0 skips the stdout-purity and low-rate/--linger checks (default 1)
//
// Two passes per round, order rotated each round:
//   saturating  constant-vus, http.get in a tight loop: k6 and the reader fight for the CPUs
//   paced       constant-arrival-rate at BENCH_PACED_RATE: CPU cost and latency when nobody is saturated
//
// Variants (same k6 script, same reader code):
//   a  baseline: no --out at all
//   b  --out json=-          k6 stdout piped to this process
//   c  --out json=<fifo>     mkfifo, fs.createReadStream (libuv thread pool reads)
//   f  --out json=<fifo>     mkfifo, opened once then read as a net.Socket (epoll, no thread pool)
//   d  --out json=<file>     regular file, tailed WHILE k6 runs (poll + read at an offset)
//   e  --out json=<file>.gz  gzip file, read AFTER k6 exits with zlib.createGunzip()
//   g  --out json=<file>.gz  gzip file tailed while k6 runs into a streaming zlib.createGunzip()
//
// The HTTP target runs in a forked child process so it does not share the reader's
// event loop. Plain Node ESM, no dependencies, no build step.

import { execFileSync, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

/* global Buffer, performance, setTimeout, clearTimeout, setInterval, clearInterval */

const SELF = fileURLToPath(import.meta.url);

// ---------------------------------------------------------------------------
// The HTTP target (child process)
// ---------------------------------------------------------------------------

function runTarget() {
  let count = 0;
  let first = 0;
  let last = 0;
  const now = () => performance.timeOrigin + performance.now();
  const server = http.createServer((q, s) => {
    const t = now();
    if (count === 0) first = t;
    last = t;
    count++;
    s.end('ok');
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => {
    process.send({ type: 'listening', port: server.address().port });
  });
  process.on('message', (m) => {
    if (m.type === 'reset') {
      count = 0;
      first = 0;
      last = 0;
      process.send({ type: 'reset' });
    } else if (m.type === 'stats') {
      process.send({ type: 'stats', count, first, last, cpu: process.cpuUsage() });
    }
  });
  // Parent gone (normal end or crash): never outlive it.
  process.on('disconnect', () => process.exit(0));
  setTimeout(() => process.exit(3), 6 * 3600_000).unref();
}

// ---------------------------------------------------------------------------
// Child bookkeeping: every spawned process group is killed on exit
// ---------------------------------------------------------------------------

const liveGroups = new Set(); // pids of detached process-group leaders we spawned
let targetChild = null;
let tmpDir = null;

function killGroup(pid, signal = 'SIGKILL') {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

function cleanup() {
  for (const pid of liveGroups) killGroup(pid);
  liveGroups.clear();
  if (targetChild && targetChild.exitCode === null) {
    try {
      targetChild.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (tmpDir) {
    try {
      fs.rmSync(tmpDir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
    tmpDir = null;
  }
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (msg) => process.stderr.write(`${msg}\n`);
const median = (xs) => quantileOf(xs, 0.5);
function quantileOf(xs, q) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const pos = (v.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}
const mmm = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? { min: Math.min(...v), median: median(v), max: Math.max(...v) } : null;
};
const round = (x, d = 2) => (Number.isFinite(x) ? Number(x.toFixed(d)) : x);

function envNum(name, def) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(String(raw).replace(/s$/, ''));
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return n;
}

/** Request/response over the target's IPC channel, one at a time. */
function askTarget(msg) {
  return new Promise((resolve, reject) => {
    const onMsg = (m) => {
      if (m.type === msg.type) {
        targetChild.off('message', onMsg);
        resolve(m);
      }
    };
    targetChild.on('message', onMsg);
    targetChild.send(msg, (err) => err && reject(err));
  });
}

async function startTarget() {
  targetChild = fork(SELF, ['--target'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const m = await new Promise((resolve, reject) => {
    targetChild.once('message', resolve);
    targetChild.once('exit', (c) => reject(new Error(`target exited early (${c})`)));
  });
  return `http://127.0.0.1:${m.port}/`;
}

// ---------------------------------------------------------------------------
// The reader: line splitting + JSON.parse + a Map lookup and an add per sample
// ---------------------------------------------------------------------------

const HIST_MAX_MS = 600_000;

function makeParser() {
  const decoder = new StringDecoder('utf8');
  const agg = new Map(); // metric name -> { count, sum }
  const hist = new Uint32Array(HIST_MAX_MS + 1); // stream latency, 1 ms buckets
  let rest = '';
  let lines = 0;
  let points = 0;
  let metricLines = 0;
  let badLines = 0;
  const badExamples = [];
  let bytes = 0;
  let chunks = 0;
  let lastTimeStr = '';
  let lastTimeMs = 0;

  function handle(line, now) {
    lines++;
    let o;
    try {
      o = JSON.parse(line);
    } catch {
      badLines++;
      if (badExamples.length < 5) badExamples.push(line.slice(0, 160));
      return;
    }
    if (o.type === 'Point') {
      points++;
      let a = agg.get(o.metric);
      if (a === undefined) {
        a = { count: 0, sum: 0 };
        agg.set(o.metric, a);
      }
      a.count++;
      a.sum += o.data.value;
      // k6 stamps all samples of one request with the same time: cache the parse.
      const ts = o.data.time;
      if (ts !== lastTimeStr) {
        lastTimeStr = ts;
        lastTimeMs = Date.parse(ts);
      }
      let lat = Math.round(now - lastTimeMs);
      if (lat < 0) lat = 0;
      hist[lat > HIST_MAX_MS ? HIST_MAX_MS : lat]++;
    } else if (o.type === 'Metric') {
      metricLines++;
    } else {
      badLines++;
      if (badExamples.length < 5) badExamples.push(line.slice(0, 160));
    }
  }

  function feed(s) {
    // One clock read per chunk: all lines of a chunk arrived together.
    const now = Date.now();
    let start = 0;
    let i;
    while ((i = s.indexOf('\n', start)) !== -1) {
      if (i > start) handle(s.slice(start, i), now);
      start = i + 1;
    }
    rest = s.slice(start);
  }

  return {
    push(buf) {
      bytes += buf.length;
      chunks++;
      feed(rest + decoder.write(buf));
    },
    end() {
      const tail = rest + decoder.end();
      rest = '';
      if (tail.length) handle(tail, Date.now());
    },
    snapshot() {
      let total = 0;
      for (let i = 0; i < hist.length; i++) total += hist[i];
      const q = (p) => {
        if (total === 0) return null;
        const rank = Math.max(1, Math.ceil(p * total));
        let cum = 0;
        for (let i = 0; i < hist.length; i++) {
          cum += hist[i];
          if (cum >= rank) return i;
        }
        return HIST_MAX_MS;
      };
      let max = null;
      for (let i = hist.length - 1; i >= 0; i--) {
        if (hist[i]) {
          max = i;
          break;
        }
      }
      return {
        lines,
        points,
        metricLines,
        badLines,
        badExamples: [...badExamples],
        bytes,
        chunks,
        perMetric: Object.fromEntries([...agg].map(([k, a]) => [k, a.count])),
        bytesPerSample: points ? bytes / points : null,
        httpReqsInStream: agg.get('http_reqs')?.count ?? 0,
        iterationsInStream: agg.get('iterations')?.count ?? 0,
        latencyMs: { p50: q(0.5), p99: q(0.99), max },
      };
    },
  };
}

/** Tails a regular file while k6 writes it: read at an offset, sleep when at EOF. */
async function tailFile(file, onChunk, isWriterDone, pollMs) {
  const fh = await fsp.open(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let pos = 0;
  try {
    for (;;) {
      const done = isWriterDone(); // sampled before the read: a 0-byte read after exit = drained
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        onChunk(buf.subarray(0, bytesRead)); // must consume or copy: buf is reused
        continue;
      }
      if (done) break;
      await sleep(pollMs);
    }
  } finally {
    await fh.close();
  }
}

function tailInto(file, parser, isWriterDone, pollMs) {
  return tailFile(file, (b) => parser.push(b), isWriterDone, pollMs).then(() => parser.end());
}

/** Tails a growing .gz file through a streaming inflater (decodes whatever whole blocks exist). */
function tailGzInto(file, parser, isWriterDone, pollMs) {
  const gunzip = zlib.createGunzip();
  const parsed = streamInto(gunzip, parser);
  return tailFile(file, (b) => gunzip.write(Buffer.from(b)), isWriterDone, pollMs).then(() => {
    gunzip.end();
    return parsed;
  });
}

function streamInto(readable, parser) {
  return new Promise((resolve, reject) => {
    readable.on('data', (b) => parser.push(b));
    readable.on('end', () => {
      parser.end();
      resolve();
    });
    readable.on('error', reject);
  });
}

// ---------------------------------------------------------------------------
// Running k6
// ---------------------------------------------------------------------------

const K6_FLAGS = ['--quiet', '--no-thresholds', '--summary-mode=disabled', '--no-usage-report'];
const TIME_BIN = ['/usr/bin/time', '/bin/time'].find((p) => fs.existsSync(p)) ?? null;

function k6Env(extra = {}) {
  // A clean environment: no stray K6_* settings from the caller's shell.
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.tmpdir(),
    K6_NO_COLOR: 'true',
    ...extra,
  };
}

/** CPU seconds (utime+stime) of a live pid from /proc, or null. */
function procCpu(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = 100; // USER_HZ, 100 on every mainstream Linux
    return { user: Number(f[11]) / ticks, sys: Number(f[12]) / ticks };
  } catch {
    return null;
  }
}

/**
 * Spawns k6 in its own process group. With GNU time available, k6's CPU time is
 * the rusage of the reaped child as reported by `time -f` (exact, no sampling);
 * otherwise /proc/<pid>/stat is polled every 100 ms and the last sample kept.
 */
function spawnK6(k6, args, { stdout = 'ignore', env = k6Env() } = {}) {
  const timeFile = path.join(tmpDir, `time-${process.hrtime.bigint()}.txt`);
  const cmd = TIME_BIN ?? k6;
  const argv = TIME_BIN ? ['-f', '%e %U %S %M', '-o', timeFile, k6, ...args] : args;
  const child = spawn(cmd, argv, { stdio: ['ignore', stdout, 'pipe'], detached: true, env });
  liveGroups.add(child.pid);
  let stderrTail = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s) => {
    stderrTail = (stderrTail + s).slice(-16_384);
  });
  let lastProc = null;
  const poll = TIME_BIN
    ? null
    : setInterval(() => {
        lastProc = procCpu(child.pid) ?? lastProc;
      }, 100);
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      liveGroups.delete(child.pid);
      if (poll) clearInterval(poll);
      let k6Cpu = null;
      if (TIME_BIN) {
        try {
          const lines = fs.readFileSync(timeFile, 'utf8').trim().split('\n');
          const [wall, user, sys, rss] = lines[lines.length - 1].trim().split(/\s+/).map(Number);
          k6Cpu = {
            wallS: wall,
            userS: user,
            sysS: sys,
            maxRssKiB: rss,
            source: 'GNU time -f (rusage)',
          };
          fs.rmSync(timeFile, { force: true });
        } catch {
          /* time killed */
        }
      } else if (lastProc) {
        k6Cpu = {
          userS: lastProc.user,
          sysS: lastProc.sys,
          source: '/proc/<pid>/stat polled every 100 ms',
        };
      }
      resolve({ code, signal, k6Cpu, stderrTail, exitAt: Date.now() });
    });
  });
  return { child, exited, stdoutKind: safeReadlink(`/proc/${child.pid}/fd/1`) };
}

function safeReadlink(p) {
  try {
    return fs.readlinkSync(p).replace(/:\[\d+\]$/, '');
  } catch {
    return null;
  }
}

function withTimeout(promise, ms, onTimeout) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => {
        onTimeout?.();
        reject(new Error(`timed out after ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const VARIANTS = {
  a: { label: 'baseline (no output)', out: null },
  b: { label: 'json=- (stdout pipe)', out: 'stdout' },
  c: { label: 'json=<fifo>, fs.createReadStream', out: 'fifo' },
  d: { label: 'json=<file>, tailed live', out: 'file' },
  e: { label: 'json=<file>.gz, read at end', out: 'gz' },
  f: { label: 'json=<fifo>, net.Socket', out: 'fifo-socket' },
  g: { label: 'json=<file>.gz, tailed live + streaming gunzip', out: 'gz-tail' },
};

/** Opens a FIFO for reading (blocks in the thread pool until k6 opens it) and reads it via epoll. */
function fifoSocket(file, onOpen) {
  return new Promise((resolve, reject) => {
    fs.open(file, fs.constants.O_RDONLY, (err, fd) => {
      if (err) return reject(err);
      onOpen();
      resolve(new net.Socket({ fd, readable: true, writable: false }));
    });
  });
}

async function runVariant(ctx, key, { script, durationS, timeoutMs, tag, rate = 0 }) {
  const v = VARIANTS[key];
  await askTarget({ type: 'reset' });
  const base = path.join(tmpDir, `metrics-${tag}`);
  let outArg = null;
  let outPath = null;
  if (v.out === 'stdout') outArg = 'json=-';
  if (v.out === 'fifo' || v.out === 'fifo-socket') {
    outPath = `${base}.fifo`;
    execFileSync('mkfifo', [outPath]);
    outArg = `json=${outPath}`;
  }
  if (v.out === 'file') {
    outPath = `${base}.json`;
    fs.writeFileSync(outPath, ''); // exists before k6 starts so the tailer can open it
    outArg = `json=${outPath}`;
  }
  if (v.out === 'gz') {
    outPath = `${base}.json.gz`;
    outArg = `json=${outPath}`;
  }
  if (v.out === 'gz-tail') {
    outPath = `${base}.json.gz`;
    fs.writeFileSync(outPath, '');
    outArg = `json=${outPath}`;
  }
  const args = [
    'run',
    ...K6_FLAGS,
    ...(outArg ? ['--out', outArg] : []),
    '-e',
    `TARGET=${ctx.target}`,
  ];
  args.push('-e', `VUS=${ctx.vus}`, '-e', `DURATION=${durationS}s`, '-e', `RATE=${rate}`, script);

  const parser = makeParser();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  const { child, exited, stdoutKind } = spawnK6(ctx.k6, args, {
    stdout: v.out === 'stdout' ? 'pipe' : 'ignore',
  });
  let k6Done = false;
  let cpuAtExit = null;
  const exitedMarked = exited.then((r) => {
    k6Done = true;
    cpuAtExit = process.cpuUsage(cpu0);
    return r;
  });

  let reading = Promise.resolve();
  let fifoOpened = false;
  if (v.out === 'stdout') reading = streamInto(child.stdout, parser);
  if (v.out === 'fifo') {
    const rs = fs.createReadStream(outPath, { highWaterMark: 64 * 1024 });
    rs.on('open', () => {
      fifoOpened = true;
    });
    reading = streamInto(rs, parser);
  }
  if (v.out === 'fifo-socket') {
    reading = fifoSocket(outPath, () => {
      fifoOpened = true;
    }).then((sock) => streamInto(sock, parser));
  }
  if (v.out === 'file') reading = tailInto(outPath, parser, () => k6Done, ctx.tailPollMs);
  if (v.out === 'gz-tail') reading = tailGzInto(outPath, parser, () => k6Done, ctx.tailPollMs);

  const kill = () => killGroup(child.pid);
  const res = await withTimeout(exitedMarked, timeoutMs, kill);
  if ((v.out === 'fifo' || v.out === 'fifo-socket') && !fifoOpened) {
    // k6 died before opening the FIFO: unblock our pending open() with a writer.
    try {
      fs.closeSync(fs.openSync(outPath, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    } catch {
      /* nothing to unblock */
    }
  }
  let compressedBytes = v.out === 'gz-tail' ? fs.statSync(outPath).size : null;
  if (v.out === 'gz') {
    compressedBytes = fs.statSync(outPath).size;
    reading = streamInto(fs.createReadStream(outPath).pipe(zlib.createGunzip()), parser);
  }
  await withTimeout(reading, timeoutMs, kill);
  const readerDoneAt = Date.now();
  const readerCpu = process.cpuUsage(cpu0);
  const fileBytes = v.out === 'file' ? fs.statSync(outPath).size : null;
  if (outPath) fs.rmSync(outPath, { force: true });

  const t = await askTarget({ type: 'stats' });
  const loadS = (t.last - t.first) / 1000;
  const snap = parser.snapshot();
  const cpuS = (u) => (u.user + u.system) / 1e6;
  const k6CpuS = res.k6Cpu ? res.k6Cpu.userS + res.k6Cpu.sysS : null;
  if (res.code !== 0) log(`  ! k6 exited ${res.code ?? res.signal}: ${res.stderrTail.slice(-500)}`);
  return {
    variant: key,
    label: v.label,
    mode: rate > 0 ? 'paced' : 'saturating',
    k6Exit: res.code ?? res.signal,
    requests: t.count,
    loadS: round(loadS, 3),
    reqPerS: loadS > 0 ? round((t.count - 1) / loadS, 1) : null,
    k6: res.k6Cpu && {
      cpuS: round(k6CpuS, 2),
      userS: res.k6Cpu.userS,
      sysS: res.k6Cpu.sysS,
      wallS: res.k6Cpu.wallS ?? round((res.exitAt - t0) / 1000, 2),
      maxRssKiB: res.k6Cpu.maxRssKiB ?? null,
      cpuUsPerReq: t.count ? round((k6CpuS * 1e6) / t.count, 1) : null,
      cpuSource: res.k6Cpu.source,
    },
    reader: {
      cpuS: round(cpuS(readerCpu), 3),
      cpuDuringRunS: round(cpuS(cpuAtExit), 3),
      cpuAfterK6ExitS: round(cpuS(readerCpu) - cpuS(cpuAtExit), 3),
      drainAfterK6ExitS: round((readerDoneAt - res.exitAt) / 1000, 2),
      cpuUsPerLine: snap.lines ? round((cpuS(readerCpu) * 1e6) / snap.lines, 2) : null,
      cpuUsPerReq: t.count ? round((cpuS(readerCpu) * 1e6) / t.count, 1) : null,
      stdoutKind: v.out === 'stdout' ? stdoutKind : null,
    },
    stream: {
      lines: snap.lines,
      points: snap.points,
      metricLines: snap.metricLines,
      badLines: snap.badLines,
      bytes: snap.bytes,
      chunks: snap.chunks,
      bytesPerChunk: snap.chunks ? round(snap.bytes / snap.chunks, 0) : null,
      fileBytes,
      compressedBytes,
      bytesPerSample: snap.bytesPerSample && round(snap.bytesPerSample, 1),
      compressedBytesPerSample:
        compressedBytes && snap.points ? round(compressedBytes / snap.points, 1) : null,
      httpReqsInStream: snap.httpReqsInStream,
      complete: v.out ? snap.httpReqsInStream === t.count : null,
      latencyMs: v.out ? snap.latencyMs : null,
    },
    targetCpuS: null,
  };
}

// ---------------------------------------------------------------------------
// Correctness checks (run once)
// ---------------------------------------------------------------------------

const PURITY_SCRIPT = `import http from 'k6/http';
console.log('INIT console.log');
export const options = { scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: 3 } } };
export function setup() { console.log('SETUP console.log'); console.warn('SETUP console.warn'); }
export default function () {
  console.log('VU console.log'); console.info('VU console.info'); console.error('VU console.error');
  http.get(__ENV.TARGET);
}
export function teardown() { console.log('TEARDOWN console.log'); }
export function handleSummary() { return { stdout: 'HANDLE_SUMMARY_ON_STDOUT\\n' }; }
`;

const LOWRATE_ITERATIONS = 8;
const LOWRATE_SCRIPT = `import http from 'k6/http';
import { sleep } from 'k6';
export const options = { scenarios: { s: { executor: 'shared-iterations', vus: 1, iterations: ${LOWRATE_ITERATIONS}, maxDuration: '60s' } } };
export default function () { http.get(__ENV.TARGET); sleep(1); }
`;

/** Waits until the target has seen n requests (bounded). */
async function waitForRequests(n, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const s = await askTarget({ type: 'stats' });
    if (s.count >= n) return true;
    await sleep(100);
  }
  return false;
}

/** Runs a --linger k6 with json=-, interrupts it after the 3 requests, and classifies stdout. */
async function stdoutPurity(ctx, name, flags, env = {}) {
  await askTarget({ type: 'reset' });
  const script = path.join(tmpDir, 'purity.js');
  fs.writeFileSync(script, PURITY_SCRIPT);
  const args = [
    'run',
    ...flags,
    '--linger',
    '--out',
    'json=-',
    '-e',
    `TARGET=${ctx.target}`,
    script,
  ];
  const { child, exited } = spawnK6(ctx.k6, args, { stdout: 'pipe', env: k6Env(env) });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s) => {
    out += s;
  });
  const ok = await waitForRequests(3, 30_000);
  await sleep(1500);
  killGroup(child.pid, 'SIGINT');
  const res = await withTimeout(exited, 20_000, () => killGroup(child.pid));
  const lines = out.split('\n').filter((l) => l.length);
  let json = 0;
  const other = [];
  for (const l of lines) {
    try {
      const o = JSON.parse(l);
      if (o.type === 'Point' || o.type === 'Metric') {
        json++;
        continue;
      }
    } catch {
      /* not JSON */
    }
    other.push(l.slice(0, 120));
  }
  const consoleOnStderr = ['INIT', 'SETUP', 'VU', 'TEARDOWN'].every((w) =>
    res.stderrTail.includes(`${w} console`),
  );
  return {
    case: name,
    flags:
      [...flags, '--linger', '--out', 'json=-'].join(' ') +
      (Object.keys(env).length ? ` (env ${JSON.stringify(env)})` : ''),
    ranToEnd: ok,
    stdoutJsonLines: json,
    stdoutOtherLines: other.length,
    stdoutOtherExamples: [...new Set(other)].slice(-6),
    consoleLogOnStderr: consoleOnStderr,
  };
}

/**
 * Low request rate under --linger (how agents run k6): how late do samples arrive,
 * and does anything stay stuck inside k6 until it is interrupted?
 */
async function lowRateLinger(ctx, key) {
  const v = VARIANTS[key];
  await askTarget({ type: 'reset' });
  const script = path.join(tmpDir, 'lowrate.js');
  fs.writeFileSync(script, LOWRATE_SCRIPT);
  const base = path.join(tmpDir, `lowrate-${key}`);
  let outArg = 'json=-';
  let outPath = null;
  if (v.out === 'fifo' || v.out === 'fifo-socket') {
    outPath = `${base}.fifo`;
    execFileSync('mkfifo', [outPath]);
    outArg = `json=${outPath}`;
  } else if (v.out === 'file') {
    outPath = `${base}.json`;
    fs.writeFileSync(outPath, '');
    outArg = `json=${outPath}`;
  } else if (v.out === 'gz-tail') {
    outPath = `${base}.json.gz`;
    fs.writeFileSync(outPath, '');
    outArg = `json=${outPath}`;
  }
  const args = [
    'run',
    ...K6_FLAGS,
    '--linger',
    '--out',
    outArg,
    '-e',
    `TARGET=${ctx.target}`,
    script,
  ];
  const parser = makeParser();
  const { child, exited } = spawnK6(ctx.k6, args, {
    stdout: v.out === 'stdout' ? 'pipe' : 'ignore',
  });
  let k6Done = false;
  const exitedMarked = exited.then((r) => {
    k6Done = true;
    return r;
  });
  let reading;
  if (v.out === 'stdout') reading = streamInto(child.stdout, parser);
  else if (v.out === 'fifo') reading = streamInto(fs.createReadStream(outPath), parser);
  else if (v.out === 'fifo-socket')
    reading = fifoSocket(outPath, () => {}).then((s) => streamInto(s, parser));
  else if (v.out === 'gz-tail') reading = tailGzInto(outPath, parser, () => k6Done, ctx.tailPollMs);
  else reading = tailInto(outPath, parser, () => k6Done, ctx.tailPollMs);
  const ok = await waitForRequests(LOWRATE_ITERATIONS, 60_000);
  // The last iteration still sleeps 1 s after its request; then 2 s for flush + read.
  await sleep(3000);
  const before = parser.snapshot();
  killGroup(child.pid, 'SIGINT');
  await withTimeout(exitedMarked, 20_000, () => killGroup(child.pid));
  await withTimeout(reading, 20_000);
  const after = parser.snapshot();
  if (outPath) fs.rmSync(outPath, { force: true });
  return {
    variant: key,
    label: v.label,
    ranToEnd: ok,
    samplesBeforeInterrupt: before.points,
    samplesTotal: after.points,
    withheldUntilInterrupt: Object.fromEntries(
      Object.entries(after.perMetric)
        .map(([k, n]) => [k, n - (before.perMetric[k] ?? 0)])
        .filter(([, n]) => n > 0),
    ),
    httpReqsBeforeInterrupt: before.httpReqsInStream,
    iterationsBeforeInterrupt: before.iterationsInStream,
    expected: LOWRATE_ITERATIONS,
    latencyMsBeforeInterrupt: before.latencyMs,
  };
}

// ---------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------

function summarize(runs, variants) {
  const rounds = [...new Set(runs.map((r) => r.round))];
  const out = {};
  for (const key of variants) {
    const mine = runs.filter((r) => r.variant === key);
    const ratios = rounds
      .map((rd) => {
        const x = runs.find((r) => r.round === rd && r.variant === key);
        const b = runs.find((r) => r.round === rd && r.variant === 'a');
        return x && b && b.reqPerS ? x.reqPerS / b.reqPerS : null;
      })
      .filter((x) => x !== null);
    const k6Extra = rounds
      .map((rd) => {
        const x = runs.find((r) => r.round === rd && r.variant === key);
        const b = runs.find((r) => r.round === rd && r.variant === 'a');
        return x?.k6 && b?.k6 && x.requests ? ((x.k6.cpuS - b.k6.cpuS) * 1e6) / x.requests : null;
      })
      .filter((x) => x !== null);
    out[key] = {
      label: VARIANTS[key].label,
      reqPerS: mmm(mine.map((r) => r.reqPerS)),
      ratioToBaseline: mmm(ratios),
      k6CpuUsPerReq: mmm(mine.map((r) => r.k6?.cpuUsPerReq)),
      k6ExtraCpuUsPerReqVsBaseline: mmm(k6Extra),
      k6MaxRssMiB: mmm(mine.map((r) => (r.k6?.maxRssKiB ?? NaN) / 1024)),
      k6WallS: mmm(mine.map((r) => r.k6?.wallS)),
      readerCpuS: mmm(mine.map((r) => r.reader.cpuS)),
      readerCpuUsPerLine: mmm(mine.map((r) => r.reader.cpuUsPerLine ?? NaN)),
      readerCpuUsPerReq: mmm(mine.map((r) => r.reader.cpuUsPerReq ?? NaN)),
      readerDrainAfterK6ExitS: mmm(mine.map((r) => r.reader.drainAfterK6ExitS)),
      linesPerRun: mmm(mine.map((r) => r.stream.lines)),
      bytesPerChunk: mmm(mine.map((r) => r.stream.bytesPerChunk ?? NaN)),
      bytesPerSample: mmm(mine.map((r) => r.stream.bytesPerSample ?? NaN)),
      compressedBytesPerSample: mmm(mine.map((r) => r.stream.compressedBytesPerSample ?? NaN)),
      latencyP50Ms: mmm(mine.map((r) => r.stream.latencyMs?.p50 ?? NaN)),
      latencyP99Ms: mmm(mine.map((r) => r.stream.latencyMs?.p99 ?? NaN)),
      allComplete: VARIANTS[key].out ? mine.every((r) => r.stream.complete) : null,
    };
  }
  return out;
}

const f = (x, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
const fm = (m, d = 0) => (m ? `${f(m.min, d)} / **${f(m.median, d)}** / ${f(m.max, d)}` : '–');
const fmed = (m, d = 0) => (m ? f(m.median, d) : '–');

function withheldText(c) {
  if (c.samplesBeforeInterrupt === 0) return `all ${c.samplesTotal}`;
  const parts = Object.entries(c.withheldUntilInterrupt).map(([k, n]) => `${k} ×${n}`);
  return parts.join(', ') || '–';
}

function markdown(result) {
  const { machine, config, summary, checks } = result;
  const L = [];
  L.push(
    `Generated by \`node bench/transport.mjs --write\` on ${result.date}. ` +
      `Machine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memGiB} GiB RAM, Linux ${machine.kernel}, ` +
      `Node ${machine.node}, ${machine.k6}. ` +
      `Config: ${config.vus} VUs × ${config.durationS} s of \`http.get\` per run, ${config.rounds} rounds ` +
      `(variant order rotated each round), file tailer polls every ${config.tailPollMs} ms, k6 CPU from ${config.k6CpuSource}.`,
  );
  L.push('');
  L.push(
    'Saturating pass (`constant-vus`, tight loop). Cells are min / **median** / max over the rounds; ' +
      '"vs baseline" pairs each run with the baseline of the same round.',
  );
  L.push('');
  L.push(
    '| variant | requests/s | vs baseline | k6 CPU µs/req | reader CPU s | reader µs/line | bytes/sample | latency p50 ms | latency p99 ms | complete |',
  );
  L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [key, s] of Object.entries(summary)) {
    const bps =
      s.compressedBytesPerSample && (key === 'e' || key === 'g')
        ? `${fmed(s.bytesPerSample)} (${fmed(s.compressedBytesPerSample, 1)} gz)`
        : fmed(s.bytesPerSample);
    L.push(
      `| ${key}. ${s.label} | ${fm(s.reqPerS)} | ${key === 'a' ? '1' : fm(s.ratioToBaseline, 3)} | ${fmed(s.k6CpuUsPerReq, 1)} | ` +
        `${fmed(s.readerCpuS, 1)} | ${fmed(s.readerCpuUsPerLine, 2)} | ${bps} | ${fm(s.latencyP50Ms)} | ${fm(s.latencyP99Ms)} | ` +
        `${s.allComplete === null ? '–' : s.allComplete ? 'yes' : '**no**'} |`,
    );
  }
  L.push('');
  if (result.summaryPaced) {
    L.push('');
    L.push(
      `Paced pass: \`constant-arrival-rate\` at ${config.pacedRate} requests/s (nothing saturated; ` +
        'CPU cost and latency without back-pressure):',
    );
    L.push('');
    L.push(
      '| variant | requests/s | k6 CPU µs/req | k6 extra CPU µs/req vs baseline | reader CPU µs/req | reader µs/line | ' +
        'latency p50 ms | latency p99 ms | complete |',
    );
    L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [key, s] of Object.entries(result.summaryPaced)) {
      L.push(
        `| ${key}. ${s.label} | ${fmed(s.reqPerS)} | ${fm(s.k6CpuUsPerReq, 1)} | ` +
          `${key === 'a' ? '0' : fm(s.k6ExtraCpuUsPerReqVsBaseline, 1)} | ${fm(s.readerCpuUsPerReq, 1)} | ` +
          `${fmed(s.readerCpuUsPerLine, 2)} | ${fm(s.latencyP50Ms)} | ${fm(s.latencyP99Ms)} | ` +
          `${s.allComplete === null ? '–' : s.allComplete ? 'yes' : '**no**'} |`,
      );
    }
    L.push('');
    L.push('Saturating pass, details (medians):');
    L.push('');
  }
  L.push(
    '| variant | lines parsed / run | bytes per read | k6 wall s | k6 max RSS MiB | reader busy after k6 exit s |',
  );
  L.push('| --- | --- | --- | --- | --- | --- |');
  for (const [key, s] of Object.entries(summary)) {
    L.push(
      `| ${key} | ${fmed(s.linesPerRun)} | ${fmed(s.bytesPerChunk)} | ${fmed(s.k6WallS, 1)} | ${fmed(s.k6MaxRssMiB)} | ${fmed(s.readerDrainAfterK6ExitS, 1)} |`,
    );
  }
  if (checks?.lowRateLinger?.length) {
    L.push('');
    L.push(
      `Low rate under \`--linger\` (1 VU, ${LOWRATE_ITERATIONS} × \`http.get\` + \`sleep(1)\`; ` +
        'snapshot 3 s after the last request, then SIGINT):',
    );
    L.push('');
    L.push(
      '| variant | samples before SIGINT / total | http_reqs before SIGINT | iterations before SIGINT | ' +
        'latency p50 / p99 / max ms | only after SIGINT |',
    );
    L.push('| --- | --- | --- | --- | --- | --- |');
    for (const c of checks.lowRateLinger) {
      const l = c.latencyMsBeforeInterrupt;
      L.push(
        `| ${c.variant}. ${c.label} | ${c.samplesBeforeInterrupt} / ${c.samplesTotal} | ${c.httpReqsBeforeInterrupt} / ${c.expected} | ` +
          `${c.iterationsBeforeInterrupt} / ${c.expected} | ${f(l.p50)} / ${f(l.p99)} / ${f(l.max)} | ` +
          `${withheldText(c)} |`,
      );
    }
  }
  if (checks?.stdoutPurity?.length) {
    L.push('');
    L.push(
      'What else k6 writes to stdout (`--linger`, `console.*` in init/setup/VU/teardown, ' +
        'a `handleSummary` returning `stdout`):',
    );
    L.push('');
    L.push('| case | JSON lines | other stdout lines | examples | `console.*` on stderr |');
    L.push('| --- | --- | --- | --- | --- |');
    for (const c of checks.stdoutPurity) {
      const ex = c.stdoutOtherExamples
        .slice(-3)
        .map((e) => `\`${e.replace(/`/g, "'").replace(/\|/g, '\\|').trim().slice(0, 70)}\``)
        .join('<br>');
      L.push(
        `| ${c.case} | ${c.stdoutJsonLines} | ${c.stdoutOtherLines} | ${ex || '–'} | ${c.consoleLogOnStderr ? 'yes' : 'no'} |`,
      );
    }
  }
  return alignTables(L.join('\n').replace(/\n{3,}/g, '\n\n'));
}

/** Pads Markdown tables the way Prettier does, so `prettier --check` accepts the file as written. */
function alignTables(text) {
  const lines = text.split('\n');
  const out = [];
  for (let i = 0; i < lines.length;) {
    if (!lines[i].startsWith('|')) {
      out.push(lines[i++]);
      continue;
    }
    const block = [];
    while (i < lines.length && lines[i].startsWith('|')) block.push(lines[i++]);
    const rows = block.map((l) =>
      l
        .replace(/^\|/, '')
        .replace(/\|$/, '')
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
    const isSep = (r) => r.every((c) => /^:?-+:?$/.test(c));
    const width = (c) => [...c].length;
    const widths = rows[0].map((_, j) =>
      Math.max(3, ...rows.filter((r) => !isSep(r)).map((r) => width(r[j] ?? ''))),
    );
    for (const r of rows) {
      const cells = widths.map((w, j) =>
        isSep(r) ? '-'.repeat(w) : (r[j] ?? '') + ' '.repeat(w - width(r[j] ?? '')),
      );
      out.push(`| ${cells.join(' | ')} |`);
    }
  }
  return out.join('\n');
}

const START = '<!-- transport:start -->';
const END = '<!-- transport:end -->';

function writeBenchmarksMd(file, block) {
  const generated = `${START}\n\n${block}\n\n${END}`;
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const i = text.indexOf(START);
  const j = text.indexOf(END);
  if (i !== -1 && j > i) {
    text = text.slice(0, i) + generated + text.slice(j + END.length);
  } else {
    if (!text) text = '# Benchmarks\n';
    text = `${text.replace(/\n*$/, '\n')}\n## k6 → agent metric transport\n\n${generated}\n`;
  }
  fs.writeFileSync(file, text);
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main() {
  const argv = process.argv.slice(2);
  const write = argv.includes('--write');
  const unknown = argv.filter((a) => a !== '--write');
  if (unknown.length) throw new Error(`unknown arguments: ${unknown.join(' ')} (only --write)`);

  const k6 = process.env.K6_PATH || path.join(os.homedir(), '.cache/k6-distributed/k6/v2.2.0/k6');
  if (!fs.existsSync(k6)) throw new Error(`k6 not found at ${k6} (set K6_PATH)`);
  const durationS = envNum('BENCH_DURATION', 10);
  const vus = envNum('BENCH_VUS', 20);
  const pacedRate = envNum('BENCH_PACED_RATE', 2000);
  const rounds = envNum('BENCH_ROUNDS', 3);
  const warmupS = envNum('BENCH_WARMUP', 2);
  const tailPollMs = envNum('BENCH_TAIL_POLL_MS', 50);
  const runChecks = process.env.BENCH_CHECKS !== '0';
  const variants = (process.env.BENCH_VARIANTS || 'a,b,c,f,d,e,g').split(',').map((s) => s.trim());
  for (const v of variants) if (!VARIANTS[v]) throw new Error(`unknown variant ${v}`);
  if (!variants.includes('a')) variants.unshift('a'); // ratios need the baseline

  const cpuModel =
    (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m) ?? [])[1] ??
    'unknown';
  const machine = {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    k6: execFileSync(k6, ['version'], { encoding: 'utf8' }).trim().split('\n')[0],
  };

  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'k6d-transport-'));
  const script = path.join(tmpDir, 'load.js');
  fs.writeFileSync(
    script,
    `import http from 'k6/http';
const vus = Number(__ENV.VUS);
const rate = Number(__ENV.RATE);
export const options = {
  scenarios: {
    load:
      rate > 0
        ? { executor: 'constant-arrival-rate', rate, timeUnit: '1s', duration: __ENV.DURATION, preAllocatedVUs: vus, maxVUs: vus }
        : { executor: 'constant-vus', vus, duration: __ENV.DURATION },
  },
};
export default function () { http.get(__ENV.TARGET); }
`,
  );
  const target = await startTarget();
  const ctx = { k6, target, vus, tailPollMs };
  // Generous: a slow reader back-pressures k6, which then drains after the load phase.
  const timeoutMs = (60 + durationS * 8) * 1000;
  log(
    `k6 ${k6}\ntarget ${target} (child process)\nCPU time of k6 via ${TIME_BIN ?? '/proc polling'}`,
  );

  if (warmupS > 0) {
    log(`warm-up: baseline ${warmupS} s (discarded)`);
    await runVariant(ctx, 'a', { script, durationS: warmupS, timeoutMs, tag: 'warmup' });
  }

  const runs = [];
  for (let rd = 0; rd < rounds; rd++) {
    const rotated = variants.map((_, i) => variants[(i + rd) % variants.length]);
    const sat = rotated.map((key) => ({ key, rate: 0 }));
    const paced = pacedRate > 0 ? rotated.map((key) => ({ key, rate: pacedRate })) : [];
    const order = rd % 2 === 0 ? [...sat, ...paced] : [...paced, ...sat];
    log(
      `round ${rd + 1}/${rounds}: ${order.map((o) => o.key + (o.rate ? '(paced)' : '')).join(' ')}`,
    );
    for (const [pos, { key, rate }] of order.entries()) {
      const t0 = await askTarget({ type: 'stats' });
      const r = await runVariant(ctx, key, {
        script,
        durationS,
        timeoutMs,
        tag: `r${rd}-${key}-${rate}`,
        rate,
      });
      const t1 = await askTarget({ type: 'stats' });
      r.targetCpuS = round((t1.cpu.user + t1.cpu.system - t0.cpu.user - t0.cpu.system) / 1e6, 2);
      r.round = rd;
      r.position = pos;
      runs.push(r);
      log(
        `  ${key}${rate ? ' paced' : ''} ${r.reqPerS} req/s, k6 cpu ${r.k6?.cpuS} s (wall ${r.k6?.wallS}), reader cpu ${r.reader.cpuS} s, ` +
          `lines ${r.stream.lines}, lat p50/p99 ${r.stream.latencyMs?.p50}/${r.stream.latencyMs?.p99} ms, ` +
          `complete ${r.stream.complete}`,
      );
      await sleep(1000);
    }
  }

  const checks = { stdoutPurity: [], lowRateLinger: [] };
  if (runChecks) {
    log('checks: stdout purity');
    const agentFlags = [
      '--quiet',
      '--no-thresholds',
      '--summary-mode=disabled',
      '--no-usage-report',
    ];
    checks.stdoutPurity.push(await stdoutPurity(ctx, 'agent flags', agentFlags));
    checks.stdoutPurity.push(
      await stdoutPurity(ctx, 'without --quiet', [
        '--no-thresholds',
        '--summary-mode=disabled',
        '--no-usage-report',
      ]),
    );
    checks.stdoutPurity.push(
      await stdoutPurity(ctx, 'summary not disabled', [
        '--quiet',
        '--no-thresholds',
        '--no-usage-report',
      ]),
    );
    checks.stdoutPurity.push(
      await stdoutPurity(ctx, 'agent flags + K6_LOG_OUTPUT=stdout', agentFlags, {
        K6_LOG_OUTPUT: 'stdout',
      }),
    );
    for (const c of checks.stdoutPurity)
      log(`  ${c.case}: ${c.stdoutOtherLines} non-JSON stdout lines`);
    log('checks: low rate under --linger');
    for (const key of ['b', 'c', 'f', 'd', 'g'].filter((k) => variants.includes(k))) {
      const c = await lowRateLinger(ctx, key);
      checks.lowRateLinger.push(c);
      log(`  ${key}: ${c.samplesBeforeInterrupt}/${c.samplesTotal} samples before SIGINT`);
    }
  }

  const result = {
    benchmark: 'k6 → agent metric transport',
    date: new Date().toISOString(),
    machine,
    config: {
      durationS,
      vus,
      pacedRate,
      rounds,
      warmupS,
      tailPollMs,
      variants,
      k6Flags: K6_FLAGS,
      k6CpuSource: TIME_BIN
        ? `GNU time -f (${TIME_BIN}, rusage of the reaped k6)`
        : '/proc/<pid>/stat polled every 100 ms',
      readerCpuSource:
        'process.cpuUsage() of the bench process (all threads), k6 spawn → last line parsed',
      requestRateSource: 'requests counted at the target / (last − first request time)',
    },
    summary: summarize(
      runs.filter((r) => r.mode === 'saturating'),
      variants,
    ),
    summaryPaced:
      pacedRate > 0
        ? summarize(
            runs.filter((r) => r.mode === 'paced'),
            variants,
          )
        : null,
    checks,
    runs,
  };
  const md = markdown(result);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`\n${md}\n`);
  if (write) {
    const file = path.join(path.dirname(SELF), '..', 'BENCHMARKS.md');
    writeBenchmarksMd(file, md);
    log(`\nwrote ${file}`);
  }
  cleanup();
  targetChild?.disconnect?.();
}

// ---------------------------------------------------------------------------
// Entry (last, so every const above is initialised)
// ---------------------------------------------------------------------------

if (process.argv[2] === '--target') {
  runTarget();
} else {
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: killing children\n`);
      cleanup();
      process.exit(130);
    });
  }
  main().catch((err) => {
    process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
    cleanup();
    process.exit(1);
  });
}
