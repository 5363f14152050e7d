/**
 * The conformance corpus: k6's own example scripts (read from k6's Go module
 * source at test time, never copied here: k6 is AGPL) and our own scripts in
 * __tests__/fixtures/conformance/. Each runs with standalone `k6 run` and with
 * `run --agents 3`, same flags and environment, against go-httpbin.
 *
 * Placeholders in args and env: {{HTTPBIN}} (go-httpbin's URL), {{CORPUS}}
 * (the temp folder holding examples/ and own/).
 */
export interface ConformanceCase {
  name: string;
  /** `examples/<path>` (k6's) or `own/<file>` (ours), relative to the corpus. */
  script: string;
  /** k6 flags, the same on both sides. */
  args?: string[];
  /** Added to both processes' environment. */
  env?: Record<string, string>;
  /** The script before the flags (`run s.js -u 2`), as k6 accepts it. */
  scriptFirst?: boolean;
  /** Time-based executors: counts within k6's run-to-run spread (README.md), else exact. */
  timeBased?: boolean;
  /** Random sleeps (`sleep(10 * Math.random())`): k6's own duration varies by seconds; not compared. */
  randomDuration?: boolean;
  /**
   * Arrival-rate iterations are due on the run's seconds, and one k6's
   * once-a-second vus sample falls a millisecond before them: whether it
   * catches that iteration's VU busy varies from run to run in k6 itself
   * (vus max 0 or 1), so vus value and max may differ by one (issue 16.11).
   */
  busyVuAtTick?: boolean;
  /** What standalone k6 must exit with: proves the script does what its case is about. */
  k6Exit?: number;
  /**
   * Issue 16 items whose fix this case waits for; skipped while any is listed.
   * Remove an item when its fix lands.
   */
  knownDifferences?: string[];
}

/** k6 examples not run, each with its reason. */
export const SKIPPED_EXAMPLES: Record<string, string> = {
  'browser/': 'k6 browser: needs a Chromium per agent and a web page, not an HTTP target',
  grpc_: 'gRPC: needs k6’s gRPC test service, not an HTTP target',
  'websocket.js': 'WebSockets: needs a WebSocket echo service',
  'websockets/': 'WebSockets: needs a WebSocket echo service',
  'experimental/redis.js': 'needs a Redis server',
  'graphql.js': 'calls GitHub’s GraphQL API with a token',
  'ocsp.js': 'tests OCSP stapling of a real TLS site',
  'tlsconfig.js': 'tests TLS versions and ciphers against badssl.com',
  'pantheon.js': 'a recorded session of one third-party shop; every step depends on that site',
  'pantheontest.js': 'a recorded session of one third-party shop; every step depends on that site',
  'malicious.js': 'an iteration that never ends: measures the 30 s gracefulStop, not the run',
  'experimental/streams.js':
    'only 5 s of timers; k6/experimental/streams runs in writable-streams.js',
  'secrets/url-source.test.js': 'needs the Go mock secret server beside it',
  'secrets/totp.test.js': 'imports a remote module from jslib.k6.io',
  'enhanced/user.ts': 'a module that enhanced/script.ts imports',
  'source_map/issue_1804/imported.js': 'a module that source_map/issue_1804/main.js imports',
  'source_map/typescript_template/test1.ts': 'the TypeScript source of test1.js (which runs)',
  'thresholds_readme_example.js':
    'its “reused connection” check races Go’s connection pool (does a batch’s first request get the ' +
    'connection the GET before it is returning to the pool, or dial?): standalone k6 with ' +
    '--out json fails it 1 run in 8 (measured), and one failure crosses its abortOnFail threshold',
  'es6sample.js':
    'its checks and threshold test Math.random(): k6’s own verdict changes from run to run',
  'webcrypto/':
    'no HTTP, one iteration each: five of them run (see the cases), the rest add time only',
};

/** The webcrypto examples that do run (one per kind of operation). */
const WEBCRYPTO = [
  'digest.js',
  'getRandomValues.js',
  'randomUUID.js',
  'sign_verify/sign-verify-hmac.js',
  'encrypt_decrypt/encrypt-decrypt-aes-gcm.js',
];

const example = (script: string, rest: Partial<ConformanceCase> = {}): ConformanceCase => ({
  name: `k6 example ${script}${rest.args ? ` ${rest.args.join(' ')}` : ''}`,
  script: `examples/${script}`,
  ...rest,
});

const own = (
  name: string,
  script: string,
  rest: Partial<ConformanceCase> = {},
): ConformanceCase => ({
  name,
  script: `own/${script}`,
  ...rest,
});

export const EXAMPLE_CASES: ConformanceCase[] = [
  example('base64.js'),
  example('crypto.js'),
  example('jwt.js'),
  example('logging.js'),
  example('timers.js'),
  example('custom_metrics.js', { args: ['-u', '2', '-i', '6'] }),
  example('cookies.js'),
  example('html_form_post.js'),
  example('http_basic_auth.js'),
  example('http_digest_auth.js'),
  example('http_verbs.js', { args: ['-u', '2', '-i', '6'] }),
  example('json.js'),
  // Its `avg<=10` ms thresholds rest on one request each: on a loaded machine k6 itself can
  // cross them, so after the fixes watch this case for timing flips, not conformance.
  // As published it makes 3 requests, one per kind: `avg<=10` then rests on a single
  // request's latency and `rate>100` on a run of a few ms, so the machine's load decides
  // them for k6 itself. 20 iterations keep its thresholds about the run, not the noise.
  example('localhost.js', { args: ['-i', '20'] }),
  example('redirects.js'),
  example('tagging.js', { args: ['-u', '2', '-i', '4'] }),
  example('thresholds.js', { args: ['-u', '3', '-i', '9'] }),
  example('http_get.js'),
  example('http_batch.js'),
  example('http_2.js'),
  example('tls_skip_cert_verification.js'),
  // No sleep: ramping stages would measure the CPU, so -u/-i keep it to a known load.
  example('stages.js', { args: ['-u', '5', '-i', '25'] }),
  example('docker-compose/influxdb-v1/script.js'),
  example('docker-compose/opentelemetry/script.js', { args: ['-u', '10', '-i', '30'] }),
  example('experimental/csv-parse.js'),
  example('experimental/csv-parser.js'),
  example('experimental/fs/fs.js', { args: ['-u', '10', '-i', '100'] }),
  example('experimental/writable-streams.js'),
  example('enhanced/script.ts'),
  example('enhanced/abort.ts', { k6Exit: 108 }),
  example('source_map/issue_1804/main.js'),
  example('source_map/typescript_template/test1.js'),
  example('secrets/secrets.test.js', {
    args: ['--secret-source', 'file={{CORPUS}}/examples/secrets/file.secret'],
  }),
  example('secrets/multi-source.test.js', {
    args: [
      '--secret-source',
      'mock=default,cool=cool secret',
      '--secret-source',
      'mock=name=another,cool=not cool secret',
    ],
  }),
  ...WEBCRYPTO.map((script) => example(`webcrypto/${script}`)),
];

const executor = (
  name: string,
  timeBased: boolean,
  busyVuAtTick?: boolean,
  knownDifferences?: string[],
): ConformanceCase =>
  own(`executor ${name}`, 'executors.js', {
    busyVuAtTick,
    knownDifferences,
    args: ['-e', `EXECUTOR=${name}`],
    timeBased,
    k6Exit: 0,
  });

export const OWN_CASES: ConformanceCase[] = [
  executor('shared-iterations', false),
  executor('per-vu-iterations', false),
  executor('constant-vus', true),
  executor('ramping-vus', true),
  executor('constant-arrival-rate', true, true),
  executor('ramping-arrival-rate', true, true),
  own('16.1 options and VUs read the system environment', 'env.js', {
    env: { BASE: '{{HTTPBIN}}', MYVUS: '3' },
    k6Exit: 0,
  }),
  own('16.1 --include-system-env-vars=false hides it', 'env.js', {
    args: ['--include-system-env-vars=false', '-e', 'BASE={{HTTPBIN}}'],
    env: { MYVUS: '3' },
    k6Exit: 0,
  }),
  own('--env sets __ENV', 'env.js', { args: ['--env', 'BASE={{HTTPBIN}}', '-e', 'MYVUS=2'] }),
  own('16.2 options.tags reach every sample', 'tags.js', {
    k6Exit: 0,
  }),
  own('16.2 --tag replaces options.tags', 'tags.js', {
    args: ['--tag', 'env=ci', '-e', 'CLI_TAG=1'],
    k6Exit: 99,
  }),
  own('16.3 rates and testRunDurationMs of a sub-second test', 'rate.js', {
    k6Exit: 0,
  }),
  own('16.4 -i alone runs 1 VU', 'plain.js', {
    args: ['-i', '5'],
    k6Exit: 0,
  }),
  own('16.4 -d alone runs 1 VU', 'plain.js', {
    args: ['-d', '2s', '-e', 'SLEEP=0.2'],
    timeBased: true,
    k6Exit: 0,
  }),
  own('16.4 options.iterations alone runs 1 VU', 'iterations-only.js', {
    k6Exit: 0,
  }),
  own('-u and -i', 'plain.js', {
    args: ['-u', '3', '-i', '9'],
    k6Exit: 0,
  }),
  own('-u and -d', 'plain.js', {
    args: ['-u', '3', '-d', '2s', '-e', 'SLEEP=0.25'],
    timeBased: true,
    k6Exit: 0,
  }),
  own('--stage', 'plain.js', {
    // k6 samples vus a second after it starts initializing its VUs, i.e. n s minus that
    // init into the run: a few ms idle, hundreds under load (CI once saw min 1, value 1
    // against our 2 and 3 with ramp steps 150 ms before whole seconds). So every ramp step
    // falls 50–200 ms after a whole second and the last VU is done by ~2.4 s: the ticks at
    // ~1 s and ~2 s see 2 and 4 VUs wherever in the half second before them they fall.
    args: ['--stage', '0.1s:2,1s:2,0.1s:4,0.85s:4,0.05s:0', '-e', 'SLEEP=0.25'],
    timeBased: true,
    k6Exit: 0,
  }),
  own('16.5 a custom metric with no samples', 'no-samples.js', {
    k6Exit: 99,
  }),
  own('16.6 a discrete trend (128/256/512: med==256)', 'discrete-trend.js', {
    k6Exit: 0,
  }),
  own('16.7 handleSummary() that throws', 'summary-throws.js'),
  own('16.8 k6/experimental/fs open()', 'experimental-fs.js', {
    k6Exit: 0,
  }),
  own('16.9 --secret-source', 'secrets.js', {
    args: ['--secret-source', 'file={{CORPUS}}/own/data/file.secret'],
    k6Exit: 0,
  }),
  // Stock k6 numbers __VU per instance: unavoidable, warned before the run and listed in the
  // README's differences from one big k6. Stays skipped; it shows what the warning is about.
  own('16.10 __VU picks one account per VU', 'vu-ids.js', {
    k6Exit: 0,
    knownDifferences: ['16.10'],
  }),
  own('16.12 --http-debug right before the script', 'plain.js', {
    args: ['-i', '2', '--http-debug'],
    k6Exit: 0,
  }),
  own('16.12 the script before the flags', 'plain.js', {
    args: ['-u', '2', '-i', '4'],
    scriptFirst: true,
    k6Exit: 0,
  }),
  own('invalid options: fewer iterations than VUs (104)', 'plain.js', {
    args: ['-u', '2', '-i', '1'],
    k6Exit: 104,
  }),
  own('an invalid --summary-trend-stats', 'plain.js', {
    args: ['-i', '1', '--summary-trend-stats', 'p(101)'],
    k6Exit: 255,
  }),
  own('an exception in the init context (107)', 'init-throws.js', { k6Exit: 107 }),
  own("an exception in the VUs' init code only (107)", 'init-throws-vus.js', { k6Exit: 107 }),
  own(
    'an exception in the init code of VU 2 and later, no setup() (107)',
    'init-throws-second-vu.js',
    {
      k6Exit: 107,
    },
  ),
  own('setup() throws (107)', 'setup-fails.js', {
    k6Exit: 107,
  }),
  own('test.abort() in setup() (108)', 'setup-fails.js', {
    args: ['-e', 'SETUP_MODE=abort'],
    k6Exit: 108,
  }),
  own('teardown() throws (107)', 'teardown-fails.js', { k6Exit: 107 }),
  own('16.13 test.abort() with a reason', 'test-abort.js', {
    timeBased: true,
    k6Exit: 108,
  }),
  own('K6_* variables set options', 'plain.js', {
    env: { K6_VUS: '3', K6_ITERATIONS: '9' },
    k6Exit: 0,
  }),
  own('scenarios with exec, startTime, env and tags', 'scenarios.js', {
    k6Exit: 0,
  }),
  own('handleSummaryTimeout: a handleSummary() that takes too long', 'summary-timeout.js', {
    k6Exit: 0,
  }),
  own('handleSummary() that returns nothing', 'summary-undefined.js', {
    k6Exit: 0,
  }),
  own('groups and checks', 'groups.js', { k6Exit: 0 }),
  own('groups and checks, --summary-mode=full', 'groups.js', {
    args: ['--summary-mode=full'],
    k6Exit: 0,
  }),
  own('tagged submetric thresholds', 'submetric-thresholds.js', {
    k6Exit: 99,
  }),
  own('abortOnFail with delayAbortEval', 'abort-on-fail.js', {
    timeBased: true,
    k6Exit: 99,
  }),
  own('exec.test.fail()', 'test-fail.js', {
    k6Exit: 110,
  }),
  own('setup() data reaches every VU and handleSummary()', 'setup-data.js', {
    k6Exit: 0,
  }),
  own('handleSummary() data, every metric kind, a failing threshold', 'summary-data.js', {
    k6Exit: 99,
  }),
  own('--summary-trend-stats', 'summary-data.js', {
    args: ['--summary-trend-stats', 'avg,min,med,max,p(99),p(99.9),count'],
    k6Exit: 99,
  }),
  own('open() and SharedArray', 'shared-array.js', {
    k6Exit: 0,
  }),
  own('console output and an iteration that throws', 'console.js', {
    k6Exit: 0,
  }),
];
