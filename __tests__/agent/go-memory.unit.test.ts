import { describe, expect, it } from '@jest/globals';

import { AGENT_GOGC, k6GoMemoryEnv, machineMemoryBytes } from '../../src/agent/go-memory.js';

const GiB = 1024 * 1024 * 1024;

describe("the agent k6's Go memory settings (issue 18)", () => {
  it('collects garbage less often within half the machine memory', () => {
    expect(k6GoMemoryEnv({ env: {}, memoryBytes: 16 * GiB, k6OnMachine: 1 })).toEqual({
      GOGC: String(AGENT_GOGC),
      GOMEMLIMIT: '8192MiB',
    });
  });

  it('splits the limit among the k6 processes of a local run', () => {
    expect(k6GoMemoryEnv({ env: {}, memoryBytes: 16 * GiB, k6OnMachine: 4 })).toEqual({
      GOGC: String(AGENT_GOGC),
      GOMEMLIMIT: '2048MiB',
    });
  });

  it("leaves k6's defaults when the share per k6 would be under 256 MiB", () => {
    expect(k6GoMemoryEnv({ env: {}, memoryBytes: 16 * GiB, k6OnMachine: 40 })).toEqual({});
    expect(k6GoMemoryEnv({ env: {}, memoryBytes: 0.4 * GiB, k6OnMachine: 1 })).toEqual({});
  });

  it.each([{ GOGC: '100' }, { GOMEMLIMIT: '1GiB' }, { GOGC: 'off', GOMEMLIMIT: '3GiB' }])(
    "keeps the user's own %o (both stay as the environment has them)",
    (env) => {
      expect(k6GoMemoryEnv({ env, memoryBytes: 16 * GiB, k6OnMachine: 1 })).toEqual({});
    },
  );

  it('reads a positive memory size no larger than the machine has', async () => {
    const { totalmem } = await import('node:os');
    const bytes = machineMemoryBytes();
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(totalmem());
  });
});
