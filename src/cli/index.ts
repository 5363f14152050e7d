#!/usr/bin/env node
import { K6_EXIT_CODES } from '../k6/exit-codes.js';
import { main } from './main.js';

// As k6 does: the first SIGINT/SIGTERM stops the run gracefully (teardown
// still runs, exit 105); a second one exits at once, and the exit hook in
// k6/process.ts kills any k6 still running.
const interrupted = new AbortController();
const onSignal = (signal: NodeJS.Signals) => {
  if (interrupted.signal.aborted) process.exit(K6_EXIT_CODES['external-abort']);
  interrupted.abort(new Error(`interrupted by ${signal}`));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

main(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: interrupted.signal,
}).then(
  (code) => {
    process.exitCode = code;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
