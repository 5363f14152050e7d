/**
 * Protocol v1 between agents and the coordinator: JSON over HTTP/1.1, agents
 * always the client. Every body that crosses the wire is validated with these
 * schemas on arrival, on both sides: the coordinator faces the internet and
 * trusts nothing an agent sends, and an agent trusts nothing it cannot parse.
 */
import { z } from 'zod';

import { MetricDelta, MetricsPlan } from '../metrics/delta.js';
import { printableText as printable } from '../runtime/printable.js';
import { setupDataProblem } from './setup-data.js';

// The metric schemas live in metrics/ (one-way: protocol/ imports metrics/); the
// agent and the coordinator read them with the rest of the protocol here.
export {
  METRIC_LIMITS,
  SubmetricSpec,
  MetricInfo,
  METRIC_TRANSPORTS,
  SourceOrder,
  MetricsPlan,
  SeriesDelta,
  TIMELINE_INTERVAL_MS,
  IntervalContribution,
  MetricDelta,
} from '../metrics/delta.js';
export type { MetricTransport, TickPoint } from '../metrics/delta.js';

/** Bumped on any incompatible change; agent and coordinator must agree exactly. */
export const PROTOCOL_VERSION = 9;

const MAX_TAGS = 32;
const name = z.string().min(1).max(128);
const tagKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/);

export const RegisterRequest = z.strictObject({
  protocol: z.number().int(),
  /** The agent's k6-distributed version, for the mismatch message. */
  version: z.string().max(64),
  /** Random per agent process: a retried registration gets the same answer. */
  key: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  name: name.optional(),
  /** Exact decimal, e.g. "1", "2.5" (see k6/segments.ts). */
  weight: z.string().regex(/^\d{1,9}(\.\d{1,6})?$/),
  tags: z
    .record(tagKey, z.string().max(256))
    .refine((t) => Object.keys(t).length <= MAX_TAGS, `at most ${MAX_TAGS} tags`),
  k6Version: z.string().max(64),
});
export type RegisterRequest = z.infer<typeof RegisterRequest>;

export const RegisterResponse = z.strictObject({
  agentId: z.string(),
  /** Bearer token for every later request of this agent. */
  token: z.string(),
  /** 0-based; k6's `instance_id` tag is index + 1. */
  index: z.number().int().nonnegative(),
  expectedAgents: z.number().int().positive(),
  /** Longest the coordinator holds a poll, and how long silence means "lost". */
  pollHoldMs: z.number().int().positive(),
  livenessTimeoutMs: z.number().int().positive(),
});
export type RegisterResponse = z.infer<typeof RegisterResponse>;

/**
 * A `--secret-source` for an agent's k6 (k6/secret-sources.ts): a `file`
 * source's content, a `url` source's config file and settings, or a flag
 * value passed on as given.
 */
export const SecretSourceSpec = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('file'),
    /** The source's items other than the file name, e.g. `name=db`, `default`. */
    options: z.array(z.string().max(1024)).max(16),
    content: z.string().max(1024 * 1024),
  }),
  z.strictObject({
    kind: z.literal('url'),
    /** The source's items other than `config=`, e.g. `urlTemplate=...`, `name=vault`. */
    options: z.array(z.string().max(8192)).max(64),
    /** The content of its `config=` JSON file, if any. */
    config: z
      .string()
      .max(1024 * 1024)
      .optional(),
    /** The coordinator's K6_SECRET_SOURCE_URL_* settings. */
    env: z.record(z.string().regex(/^K6_SECRET_SOURCE_URL_[A-Za-z0-9_]*$/), z.string().max(8192)),
  }),
  z.strictObject({ kind: z.literal('as-given'), value: z.string().max(8192) }),
]);
export type SecretSourceSpec = z.infer<typeof SecretSourceSpec>;

/** What k6 run flags an agent adds for its share of the test (design.md §3). */
export const Assignment = z.strictObject({
  segment: z.string(),
  sequence: z.string(),
  instanceId: z.number().int().positive(),
  leader: z.boolean(),
  archiveSha256: z.string().regex(/^[0-9a-f]{64}$/),
  archiveBytes: z.number().int().nonnegative(),
  metrics: MetricsPlan,
  secretSources: z.array(SecretSourceSpec).max(16),
  /**
   * `--console-output` for this agent's k6 (k6/outputs.ts consoleOutputForAgents):
   * console.log() lines go to this file instead of the agent's log.
   */
  consoleOutput: z.string().min(1).max(4096).optional(),
  /**
   * The user's `--out` outputs for this agent's k6 (issue 20.8, k6/outputs.ts):
   * the values, files already named for the agent; the tags every sample
   * carries (the test's own and the agent's instance_id); and the outputs'
   * settings from the coordinator's environment (K6_INFLUXDB_*, ...).
   */
  outputs: z
    .strictObject({
      out: z.array(z.string().min(1).max(8192)).min(1).max(16),
      tags: z.record(z.string().min(1).max(256), z.string().max(4096)),
      // Agents take only the settings of the outputs in `out` (k6/outputs.ts isOutputSetting).
      env: z.record(
        z.string().regex(/^K6_(INFLUXDB|PROMETHEUS_RW|OTEL|CSV)_[A-Z0-9_]+$/),
        z.string().max(65_536),
      ),
    })
    .optional(),
});
export type Assignment = z.infer<typeof Assignment>;

/**
 * The coordinator's latest order to one agent. Orders only move forward, so
 * an agent that misses one (a lost poll response) just executes the newest;
 * `stop` and `release` supersede everything before them.
 */
export const Instruction = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('wait') }),
  z.strictObject({ type: z.literal('prepare'), assignment: Assignment }),
  z.strictObject({ type: z.literal('setup') }),
  z.strictObject({ type: z.literal('setup-data'), data: z.unknown() }),
  /** Unpause at `at` (coordinator clock, epoch ms). */
  z.strictObject({
    type: z.literal('start'),
    at: z.number(),
    /** Sample k6's vus/vus_max every second from this many ms after `at` (issue 16.11). */
    tickPhaseMs: z.number().min(0).max(1_000).default(0),
  }),
  z.strictObject({ type: z.literal('stop'), reason: z.string() }),
  z.strictObject({ type: z.literal('teardown') }),
  /** Let k6 exit (SIGINT ends --linger) and report how it exited, then quit. */
  z.strictObject({ type: z.literal('release'), reason: z.string() }),
]);
export type Instruction = z.infer<typeof Instruction>;
export type InstructionType = Instruction['type'];

export const PollResponse = z.strictObject({
  /** Increases with every new instruction for this agent. */
  version: z.number().int().nonnegative(),
  instruction: Instruction,
  /** Coordinator clock when the response was written, for clock-offset estimates. */
  now: z.number(),
});
export type PollResponse = z.infer<typeof PollResponse>;

const k6Exit = z.strictObject({
  code: z.number().int().nullable(),
  signal: z.string().max(16).nullable(),
  description: z.string().max(256).transform(printable),
  /** k6's own last word, e.g. `test aborted: <reason> at <stack>` (k6 prints it only as it exits). */
  message: z.string().max(8192).transform(printable).optional(),
});

/**
 * Text an agent relays from its k6 that the coordinator prints: bounded, and
 * with control characters other than newline and tab escaped, so an agent
 * cannot move the cursor, recolour or erase the coordinator's terminal or log
 * (runtime/printable.ts).
 */
/** An agent forwards at most this many of its k6's log lines a second, each at most this long. */
export const LOG_BATCH_MAX_LINES = 50;
export const LOG_LINE_MAX_CHARS = 2_000;

export const printableText = z.string().max(8192).transform(printable);

/** An agent reports its machine's load (issue 20.7) in batches of at most this many readings. */
export const RESOURCES_BATCH_MAX_SAMPLES = 60;

/** One reading of an agent's machine, `ms` after the start instant; shares 0–1. */
export const ResourceSample = z.strictObject({
  ms: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  cpu: z.number().min(0).max(1),
  memory: z.number().min(0).max(1),
});
export type ResourceSample = z.infer<typeof ResourceSample>;

/** What an agent tells the coordinator; each is sent once, in order, by sequence number. */
export const AgentEvent = z.discriminatedUnion('type', [
  /** The archive is in and k6 is paused with every VU initialised (status 4). */
  z.strictObject({ type: z.literal('ready'), vusMax: z.number().int().nonnegative() }),
  /**
   * k6 exited while initialising this share's VUs because the script's init
   * code threw (k6's exit 107): `message` is k6's error. The coordinator ends
   * the run with 107, whatever the message says.
   */
  z.strictObject({ type: z.literal('init-failed'), message: printableText }),
  /** `durationMs`: how long setup() took, on the agent's own clock (k6 counts it in the run). */
  z.strictObject({
    type: z.literal('setup-done'),
    /** Depth-bounded here, on arrival: later serializations cannot overflow the stack. */
    data: z.unknown().superRefine((data, ctx) => {
      const problem = setupDataProblem(data);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
    durationMs: z.number().nonnegative().optional(),
  }),
  z.strictObject({
    type: z.literal('setup-failed'),
    message: printableText,
    aborted: z.boolean(),
  }),
  z.strictObject({ type: z.literal('data-set') }),
  /**
   * k6 was unpaused. `at` is the estimated coordinator-clock instant;
   * `offsetMs` the agent's clock offset estimate and `rttMs` its uncertainty.
   */
  z.strictObject({
    type: z.literal('started'),
    at: z.number(),
    offsetMs: z.number(),
    rttMs: z.number(),
  }),
  /**
   * k6's run is over. `aborted`: k6 stopped itself (test.abort()), not on our
   * order. If k6 was unpaused: `startMs` and `runMs`, when its run started
   * and ended after the start instant, on the agent's own clock (so free of
   * clock skew).
   */
  z.strictObject({
    type: z.literal('finished'),
    status: z.number().int(),
    aborted: z.boolean(),
    startMs: z.number().nonnegative().optional(),
    runMs: z.number().nonnegative().optional(),
  }),
  /**
   * The script called exec.test.fail(): k6's `test marked as failed: <reason>`,
   * which the coordinator logs as k6 would (an agent's log may be another job's).
   */
  z.strictObject({ type: z.literal('marked-failed'), message: printableText }),
  /** `durationMs`: how long teardown() took, on the agent's own clock. */
  z.strictObject({
    type: z.literal('teardown-done'),
    durationMs: z.number().nonnegative().optional(),
  }),
  z.strictObject({ type: z.literal('teardown-failed'), message: printableText }),
  /** k6 exited; `expected` is false when it died without being released. */
  z.strictObject({ type: z.literal('k6-exited'), exit: k6Exit, expected: z.boolean() }),
  /** The agent cannot go on (archive download, k6 start, REST API failure). */
  z.strictObject({ type: z.literal('failed'), message: printableText }),
  /**
   * What the agent's k6 printed (warnings, errors, console output), for the
   * coordinator's log where people look (issue 20.3): at most one batch a
   * second; `dropped` lines the agent left out over its rate.
   */
  z.strictObject({
    type: z.literal('log'),
    lines: z.array(z.string().max(LOG_LINE_MAX_CHARS)).max(LOG_BATCH_MAX_LINES),
    dropped: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  }),
  /**
   * How busy the agent's machine was while its k6 ran (issue 20.7), one
   * reading a second, sent every few seconds: a saturated load generator
   * skews what it measures, and the reports say so. It describes the agent
   * itself and decides nothing for the run.
   */
  z.strictObject({
    type: z.literal('resources'),
    samples: z.array(ResourceSample).max(RESOURCES_BATCH_MAX_SAMPLES),
  }),
]);
export type AgentEvent = z.infer<typeof AgentEvent>;
export type AgentEventType = AgentEvent['type'];

export const EventMessage = z.strictObject({
  /** 1, 2, 3, ... per agent. A repeated number is acknowledged and ignored. */
  seq: z.number().int().positive(),
  event: AgentEvent,
});
export type EventMessage = z.infer<typeof EventMessage>;

export const DeltaMessage = z.strictObject({
  /** 1, 2, 3, ... per agent, its own sequence. A repeated number is acknowledged and ignored. */
  seq: z.number().int().positive(),
  /** The last delta: k6 has exited and its stream is fully read. */
  final: z.boolean(),
  delta: MetricDelta,
});
export type DeltaMessage = z.infer<typeof DeltaMessage>;

/** GET /v1/health, unauthenticated: liveness, and the clock for offset estimates. */
export const HealthResponse = z.object({
  ok: z.literal(true),
  protocol: z.number().int(),
  now: z.number(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

export const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Paths and headers, named once. */
export const ROUTES = {
  health: '/v1/health',
  register: '/v1/register',
  archive: '/v1/archive',
  instruction: '/v1/instruction',
  events: '/v1/events',
  metrics: '/v1/metrics',
} as const;

export const PROTOCOL_HEADER = 'k6-distributed-protocol';
