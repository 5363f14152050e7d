/** Issue 20.7: how a load generator's machine readings fold, and the warnings they give. */
import { describe, expect, it } from '@jest/globals';

import {
  isSaturated,
  loadCells,
  LoadTally,
  loadWarnings,
} from '../../src/coordinator/generator-load.js';

const reading = (ms: number, cpu: number, memory = 0.3) => ({ ms, cpu, memory });

describe('LoadTally (issue 20.7)', () => {
  it('folds readings into peak, mean and seconds at or above 85 % CPU', () => {
    const tally = new LoadTally();
    expect(tally.load).toBeUndefined();
    tally.add([reading(1_000, 0.5), reading(2_000, 0.9, 0.6), reading(3_000, 0.85)], 10_000);
    expect(tally.load).toEqual({
      samples: 3,
      cpuPeak: 0.9,
      cpuMean: (0.5 + 0.9 + 0.85) / 3,
      cpuSaturatedSeconds: 2,
      memoryPeak: 0.6,
    });
  });

  it('counts each second once, in order, and none past the run’s age: an agent cannot invent saturation', () => {
    const tally = new LoadTally();
    tally.add([reading(1_000, 1), reading(2_000, 1)], 5_000);
    // A retry of old readings, one out of order and one from the future: all left out.
    tally.add([reading(1_000, 1), reading(1_500, 1), reading(60_000, 1)], 5_000);
    expect(tally.load?.samples).toBe(2);
    expect(tally.load?.cpuSaturatedSeconds).toBe(2);
  });

  it('says once when the machine becomes saturated: 3 s at or above 85 %', () => {
    const tally = new LoadTally();
    expect(tally.add([reading(1_000, 0.95), reading(2_000, 0.2)], 10_000)).toBe(false);
    expect(tally.add([reading(3_000, 0.95)], 10_000)).toBe(false);
    expect(tally.add([reading(4_000, 0.99)], 10_000)).toBe(true);
    expect(tally.add([reading(5_000, 0.99)], 10_000)).toBe(false);
    expect(tally.saturated).toBe(true);
    // A two-second run at 90 %: too short to judge.
    const short = new LoadTally();
    expect(short.add([reading(1_000, 0.9), reading(2_000, 0.9)], 10_000)).toBe(false);
    // Busy for 2 of 10 s: not.
    const mostlyIdle = new LoadTally();
    mostlyIdle.add(
      Array.from({ length: 10 }, (_, i) => reading((i + 1) * 1_000, i < 2 ? 1 : 0.1)),
      20_000,
    );
    expect(isSaturated(mostlyIdle.load)).toBe(false);
  });
});

describe('loadWarnings and loadCells (issue 20.7)', () => {
  const busy = { samples: 30, cpuPeak: 1, cpuMean: 0.95, cpuSaturatedSeconds: 28, memoryPeak: 0.4 };
  const calm = {
    samples: 30,
    cpuPeak: 0.4,
    cpuMean: 0.3,
    cpuSaturatedSeconds: 0,
    memoryPeak: 0.95,
  };

  it('names the saturated agents, the fix, the agents short of memory and the coordinator', () => {
    const warnings = loadWarnings(
      [
        { label: 'agent 1 (eu)', load: busy },
        { label: 'agent 2 (us)', load: calm },
        { label: 'agent 3 (ap)', load: undefined },
      ],
      busy,
    );
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toBe(
      '1 of 3 agents had its machine at or above 85 % CPU while its k6 ran: agent 1 (eu) ' +
        'CPU ≥ 85 % for 28 s of 30 s (peak 100 %). A saturated load generator sends requests ' +
        'late and times them late, so the latencies and rates it measured may be worse than ' +
        'the target is. Fix: more agents with a smaller share each (--agents, more matrix ' +
        'jobs), fewer VUs, or bigger machines.',
    );
    expect(warnings[1]).toMatch(
      /^1 of 3 agents had its machine at or above 90 % memory: agent 2 \(us\) peak 95 %\. .*Fix:/,
    );
    expect(warnings[2]).toMatch(
      /^the coordinator's machine was at or above 85 % CPU \(CPU ≥ 85 % for 28 s of 30 s \(peak 100 %\)\).*Fix: give the coordinator a machine of its own/,
    );
  });

  it("says a local run's fix: its agents share the coordinator's machine", () => {
    const [agents, coordinator] = loadWarnings([{ label: 'agent 1', load: busy }], busy, true);
    expect(agents).toMatch(
      /Fix: the agents of a local run share this machine: fewer VUs, or agents on machines of their own \(the coordinator and agent commands, or the GitHub action\)\.$/,
    );
    expect(coordinator).toMatch(/a machine of its own \(the coordinator and agent commands\)\.$/);
  });

  it('names five agents at most, then counts the rest', () => {
    const agents = Array.from({ length: 300 }, (_, i) => ({
      label: `agent ${String(i + 1)}`,
      load: busy,
    }));
    const [warning] = loadWarnings(agents);
    expect(warning).toMatch(/^300 of 300 agents had their machine/);
    expect(warning).toContain('agent 5 CPU ≥ 85 % for 28 s of 30 s (peak 100 %); and 295 more.');
    expect(warning).not.toContain('agent 6 ');
  });

  it('is empty when every machine had room, and without readings', () => {
    expect(loadWarnings([{ label: 'agent 1', load: { ...calm, memoryPeak: 0.5 } }], calm)).toEqual(
      [],
    );
    expect(loadWarnings([{ label: 'agent 1', load: undefined }])).toEqual([]);
  });

  it('gives the agent table its peaks, marked when saturated or short of memory', () => {
    expect(loadCells(busy)).toEqual(['100 %, saturated 28 s', '40 %']);
    expect(loadCells(calm)).toEqual(['40 %', '95 %, high']);
    expect(loadCells(undefined)).toEqual(['-', '-']);
  });
});
