/** What a helper `k6 run` of the coordinator's (plan, threshold probe, handleSummary()) inherits. */
import { describe, expect, it } from '@jest/globals';

import { helperRunEnv } from '../../src/k6/helper-env.js';

describe('helperRunEnv', () => {
  it("keeps the user's environment but nothing that would bind a port, linger or write output (issue 20.8)", () => {
    expect(
      helperRunEnv({
        BASE_URL: 'https://example.com',
        K6_VUS: '10',
        K6_OUT: 'json=x.json',
        K6_ADDRESS: 'localhost:6565',
        K6_PAUSED: 'true',
        K6_LINGER: 'true',
        K6_SUMMARY_EXPORT: 's.json',
        K6_WEB_DASHBOARD: 'true',
        K6_WEB_DASHBOARD_PORT: '5665',
        K6_WEB_DASHBOARD_EXPORT: 'report.html',
      }),
    ).toEqual({ BASE_URL: 'https://example.com', K6_VUS: '10' });
  });
});
