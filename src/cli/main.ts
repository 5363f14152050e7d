import { Command, CommanderError } from 'commander';

import { errorMessage, hasErrorCode } from '../errors.js';
import { K6_EXIT_CODES } from '../k6/exit-codes.js';
import { provisionK6 } from '../k6/provision.js';
import { K6_PINNED_VERSION } from '../k6/version.js';
import { type Logger, streamLogger } from '../runtime/logger.js';
import { PACKAGE_VERSION } from '../version.js';
import { addAgentCommand } from './agent-command.js';
import { addDemoCommand } from './demo-command.js';
import type { CliIo, CommandContext } from './io.js';
import { addCoordinatorCommand, addRunCommand } from './run-commands.js';

export type { CliIo } from './io.js';

/** Runs the CLI and resolves with the process exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const log = streamLogger(io.stderr, { debug: io.env.K6_DISTRIBUTED_DEBUG === '1' });
  const program = new Command('k6-distributed')
    .description(
      'Run one k6 load test across many machines as if it were one big machine:\n' +
        'setup() once, a simultaneous start, merged metrics and thresholds, k6 exit codes.',
    )
    .version(PACKAGE_VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });

  program
    .command('install-k6')
    .description(
      'find or install k6 and print its path: K6_PATH, else k6 on PATH, else the cached ' +
        'copy, else the official release (on GitHub runners), else a build with Go',
    )
    .option('--k6-version <version>', 'k6 release to install if none is found', K6_PINNED_VERSION)
    .action(async (options: { k6Version: string }) => {
      const k6 = await provisionK6({ version: options.k6Version, env: io.env, log });
      io.stdout.write(`${k6.path}\n`);
    });

  let exitCode = 0;
  const ctx: CommandContext = { io, log, exit: (code) => (exitCode = code) };
  addRunCommand(program, ctx);
  addCoordinatorCommand(program, ctx);
  addDemoCommand(program, ctx);
  addAgentCommand(program, ctx);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    return failureExitCode(error, log);
  }
}

/** Commander's codes for a bad option or argument; it has printed the message already. */
const USAGE_ERRORS = new Set([
  'commander.invalidArgument',
  'commander.optionMissingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.missingArgument',
  'commander.unknownOption',
  'commander.excessArguments',
  'commander.conflictingOption',
]);

/**
 * The exit code of a run that failed before any load: k6's own code and
 * message for what k6 rejects (an invalid script, option or flag); 104, k6's
 * code for invalid configuration, for an option of ours (as the README says).
 */
function failureExitCode(error: unknown, log: Logger): number {
  if (error instanceof CommanderError) {
    return USAGE_ERRORS.has(error.code) ? K6_EXIT_CODES['invalid-config'] : error.exitCode;
  }
  log.error(errorMessage(error));
  if (hasErrorCode(error, 'K6_TEST_INVALID')) return Number(error.data.exitCode ?? 1);
  if (hasErrorCode(error, 'INVALID_OPTION')) return K6_EXIT_CODES['invalid-config'];
  return 1;
}
