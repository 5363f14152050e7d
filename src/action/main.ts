import { dirname } from 'node:path';

import * as core from '@actions/core';

import { errorMessage } from '../errors.js';
import { provisionK6 } from '../k6/provision.js';
import { K6_PINNED_VERSION } from '../k6/version.js';
import { actionsLogger } from './logger.js';

/** Input and output names, spelled once (action.yml is their source). */
export const INPUTS = { k6Version: 'k6-version' } as const;
export const OUTPUTS = { k6Path: 'k6-path', k6Version: 'k6-version' } as const;

export interface ActionInputs {
  k6Version: string;
}

export function readInputs(): ActionInputs {
  return { k6Version: core.getInput(INPUTS.k6Version) || K6_PINNED_VERSION };
}

/**
 * The action today provisions k6 on the runner and puts it on PATH; the
 * coordinator and agent roles build on it (see the README's roadmap).
 */
export async function run(): Promise<void> {
  try {
    const inputs = readInputs();
    const k6 = await provisionK6({ version: inputs.k6Version, log: actionsLogger });
    core.addPath(dirname(k6.path));
    core.setOutput(OUTPUTS.k6Path, k6.path);
    core.setOutput(OUTPUTS.k6Version, k6.version);
  } catch (error) {
    core.setFailed(errorMessage(error));
  }
}
