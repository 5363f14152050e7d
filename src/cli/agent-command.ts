import { type Command, Option } from 'commander';

import { Agent } from '../agent/agent.js';
import { CoordinatorClient } from '../agent/client.js';
import { provisionK6 } from '../k6/provision.js';
import { type CommandContext, withWorkDir } from './io.js';
import { durationMs, envAssignment, SECRET_ENV, tag, weight } from './options.js';

interface AgentFlags {
  coordinator: string;
  secret?: string;
  weight: string;
  tag?: Record<string, string>;
  env?: Record<string, string>;
  name?: string;
  giveUpAfter: number;
}

/** `agent`: join a coordinator and run its share of the test on this machine. */
export function addAgentCommand(program: Command, ctx: CommandContext): void {
  program
    .command('agent')
    .description('join a coordinator and run its share of the test on this machine')
    .requiredOption('--coordinator <url>', 'the coordinator URL it printed')
    .option('--secret <secret>', `the coordinator's shared secret (or ${SECRET_ENV})`)
    .option('--weight <w>', 'share of the load relative to other agents', weight, '1')
    .option('--tag <key=value>', 'agent tag, e.g. region=eu (repeatable)', tag)
    .option(
      '-e, --env <KEY=VALUE>',
      "override one of the test's environment variables (__ENV) on this agent only (repeatable)",
      envAssignment,
    )
    .option('--name <name>', 'name shown in reports (default: agent-<n>)')
    .addOption(
      new Option('--give-up-after <duration>', 'stop k6 after losing the coordinator this long')
        .argParser(durationMs)
        .default(60_000, '60s'),
    )
    .action((flags: AgentFlags) => runAgent(ctx, flags));
}

async function runAgent({ io, log, exit }: CommandContext, flags: AgentFlags): Promise<void> {
  await withWorkDir(async (workDir) => {
    const k6 = await provisionK6({ env: io.env, log });
    const client = new CoordinatorClient({
      url: flags.coordinator,
      secret: flags.secret ?? io.env[SECRET_ENV],
      giveUpAfterMs: flags.giveUpAfter,
      log,
    });
    try {
      const agent = new Agent({
        client,
        k6,
        workDir,
        name: flags.name,
        weight: flags.weight,
        tags: flags.tag,
        env: io.env,
        envOverrides: flags.env,
        log,
        forwardLogs: true,
      });
      const result = await agent.run(io.signal);
      if (result.exitCode === 0) log.info(`agent: ${result.message}`);
      else log.error(`agent: ${result.message}`);
      exit(result.exitCode);
    } finally {
      await client.close();
    }
  });
}
