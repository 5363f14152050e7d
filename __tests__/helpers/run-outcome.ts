import type { AgentOutcome, RunOutcome } from '../../src/coordinator/outcome.js';
import type { BaselineLookup } from '../../src/report/baseline-view.js';

/** Agent `i` of `of` equal agents as the coordinator reports it, for report tests. */
export function fakeAgent(i: number, of: number, extra: Partial<AgentOutcome> = {}): AgentOutcome {
  return {
    id: `id-${String(i)}`,
    index: i,
    name: `agent-${String(i + 1)}`,
    tags: { region: i % 2 ? 'us-east' : 'eu-west' },
    weight: '1',
    segment: `${String(i)}/${String(of)}:${String(i + 1)}/${String(of)}`,
    share: 1 / of,
    leader: i === 0,
    startedAt: 1_000 + i * 1.5,
    lost: undefined,
    k6Exit: { code: 0, signal: null, description: 'exit code 0' },
    totals: { iterations: 10, httpReqs: 12, httpReqFailures: 0 },
    ...extra,
  };
}

/** A passing run of three agents; `extra` overrides any field. */
export function fakeRunOutcome(extra: Partial<RunOutcome> = {}): RunOutcome {
  return {
    exitCode: 0,
    message: 'the run finished',
    aborted: false,
    agents: [0, 1, 2].map((i) => fakeAgent(i, 3)),
    startSkewMs: 3,
    setupRan: true,
    teardownRan: true,
    thresholdsBreached: [],
    k6Error: undefined,
    ...extra,
  };
}

/** The base branch's run #12, found after passing over a failed #13, for report tests. */
export function fakeBaseline(): Extract<BaselineLookup, { found: true }> {
  return {
    found: true,
    branch: 'main',
    run: {
      id: 41,
      number: 12,
      url: 'https://github.com/acme/shop/actions/runs/41',
      sha: 'e'.repeat(40),
    },
    figures: { p95Ms: 200, errorRate: 0.01, requestRate: 500 },
    skipped: ['run #13 failure'],
  };
}

/**
 * What a run says when a load generator's machine was saturated (issue 20.7):
 * true of a busy test machine, whatever the test is about. A test that
 * asserts "no other warning" leaves these out.
 */
export const SATURATION =
  /machine is saturated|more agents have saturated machines|had (its|their) machine at or above|the coordinator's machine was at or above/;

/** A load generator's machine saturated for 28 of 30 s (issue 20.7), for report tests. */
export const SATURATED_LOAD = {
  samples: 30,
  cpuPeak: 1,
  cpuMean: 0.95,
  cpuSaturatedSeconds: 28,
  memoryPeak: 0.4,
} as const;
