import { afterEach, beforeAll } from '@jest/globals';

import { provisionK6 } from '../../src/k6/provision.js';
import { runCleanups } from '../helpers/cleanup.js';
import { TEST_K6_ENV } from '../helpers/k6.js';

/**
 * The real k6 for this test file: found in the cache in milliseconds, or built
 * with Go on a fresh machine (the README's test command does that up front).
 */
beforeAll(async () => {
  if (process.env[TEST_K6_ENV]) return;
  const k6 = await provisionK6({ env: process.env });
  process.env[TEST_K6_ENV] = k6.path;
}, 15 * 60_000);

afterEach(runCleanups);
