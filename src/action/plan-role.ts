import { isAbsolute, resolve } from 'node:path';

import * as glob from '@actions/glob';

import { type PlannedAgent, planRun, type RunPlan } from './plan.js';
import { OUTPUTS, type PlanRoleInputs } from './inputs.js';
import type { ActionIo } from './io.js';
import type { Logger } from '../runtime/logger.js';

/**
 * The reusable workflow's plan job (issue 20.4): finds the test scripts
 * (`script`: a path or a glob, several on separate lines) in the checked-out
 * repository and sets the matrices of the coordinator and agent jobs as step
 * outputs (`tests`, `agents`, `agent-count`). No k6, no load.
 */
export async function runPlanRole(
  inputs: PlanRoleInputs,
  ctx: ActionIo & { log: Logger },
): Promise<RunPlan> {
  const workspace = ctx.env.GITHUB_WORKSPACE ?? process.cwd();
  const patterns = inputs.script
    .split(/\r?\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => (isAbsolute(p) ? p : resolve(workspace, p)));
  const globber = await glob.create(patterns.join('\n'), {
    matchDirectories: false,
    implicitDescendants: false,
  });
  const plan = planRun({
    scripts: await globber.glob(),
    pattern: inputs.script,
    agents: inputs.agents,
    agentsMatrix: inputs.agentsMatrix,
    testName: inputs.testName,
    agentsRunsOn: inputs.agentsRunsOn,
    workspace,
  });
  ctx.setOutput(OUTPUTS.tests, JSON.stringify(plan.tests));
  ctx.setOutput(OUTPUTS.agents, JSON.stringify(plan.agents));
  ctx.setOutput(OUTPUTS.agentCount, String(plan.agentCount));
  for (const test of plan.tests) {
    ctx.log.info(
      `test "${test['test-name']}": ${test.script}, ${String(plan.agentCount)} agents ` +
        `(${agentsText(plan.agents.filter((a) => a['test-name'] === test['test-name']))})`,
    );
  }
  return plan;
}

/** "agent-1 ×1, eu-1 ×2 region=eu" */
function agentsText(agents: readonly PlannedAgent[]): string {
  return agents
    .map((a) => [a.name, a.weight === '1' ? '' : `×${a.weight}`, a.tags].filter(Boolean).join(' '))
    .join(', ');
}
