/**
 * The demo's k6 script, embedded so `npm run demo` needs no file: 60
 * shared iterations over 6 VUs, alongside 5 s of 10 iterations/s. setup() and
 * teardown() each call the target once; every iteration proves it got
 * setup()'s data.
 */
export const DEMO_SCRIPT = `import http from 'k6/http';
import { check } from 'k6';

export const options = {
  scenarios: {
    burst: { executor: 'shared-iterations', vus: 6, iterations: 60, maxDuration: '30s' },
    steady: {
      executor: 'constant-arrival-rate',
      rate: 10,
      timeUnit: '1s',
      // Arrivals every 100 ms; the last falls 50 ms before the end, so the
      // count is exact (an arrival ON the end races it, even in plain k6).
      duration: '4950ms',
      preAllocatedVUs: 6,
      startTime: '0s',
    },
  },
};

export function setup() {
  http.get(\`\${__ENV.TARGET}/setup\`);
  return { token: 'from-setup' };
}

export default function (data) {
  const res = http.get(\`\${__ENV.TARGET}/iteration?token=\${data.token}\`);
  check(res, { 'status is 200': (r) => r.status === 200 });
}

export function teardown() {
  http.get(\`\${__ENV.TARGET}/teardown\`);
}
`;

/** What the demo's target must count, as standalone k6 would make it: 60 + 50 iterations. */
export const DEMO_EXPECTED_ITERATIONS = 60 + 50;
