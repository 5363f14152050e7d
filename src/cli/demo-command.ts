import { type Command, Option } from 'commander';

import { renderDemoTotals, runDemo } from '../demo/demo.js';
import { provisionK6 } from '../k6/provision.js';
import { renderRunReport } from '../report/run-report.js';
import { type CommandContext, withWorkDir } from './io.js';
import { positiveInt } from './options.js';

/** `demo`: a local distributed run of an example script against a built-in target. */
export function addDemoCommand(program: Command, { io, log, exit }: CommandContext): void {
  program
    .command('demo')
    .description('a local distributed run of an example script against a built-in target')
    .addOption(new Option('--agents <n>', 'number of agents').argParser(positiveInt).default(3))
    .action(async (flags: { agents: number }) => {
      await withWorkDir(async (workDir) => {
        const k6 = await provisionK6({ env: io.env, log });
        const result = await runDemo({
          k6,
          agents: flags.agents,
          workDir,
          env: io.env,
          log,
          signal: io.signal,
        });
        io.stdout.write(`${renderRunReport(result)}\n${renderDemoTotals(result.counts)}`);
        exit(result.exitCode);
      });
    });
}
