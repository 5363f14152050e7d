/**
 * The action's outside world, built once by its entry point (src/index.ts)
 * and handed down: nothing below reads process.env or writes process.stdout
 * (eslint enforces it). Tests build their own, as the CLI's tests build a CliIo.
 */
export interface ActionIo {
  /** The job's environment: GITHUB_*, RUNNER_*, and what k6 and its script see. */
  env: NodeJS.ProcessEnv;
  /** The job log, where k6's end-of-test summary goes. */
  stdout: { write(chunk: string | Uint8Array): unknown };
  /** Sets a step output (core.setOutput on a runner). */
  setOutput(name: string, value: string): void;
  /** Appends Markdown to the job summary (GITHUB_STEP_SUMMARY on a runner). */
  writeJobSummary(markdown: string): Promise<void>;
  /** The wall clock (epoch ms). */
  now(): number;
}
