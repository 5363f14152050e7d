import * as core from '@actions/core';

import type { ActionIo } from './action/io.js';
import { run } from './action/main.js';
import { actionServices } from './action/services.js';

// The one place the action touches the process's environment and output.
const io: ActionIo = {
  env: process.env,
  stdout: process.stdout,
  setOutput: (name, value) => core.setOutput(name, value),
  writeJobSummary: async (markdown) => {
    await core.summary.addRaw(markdown).write();
  },
  now: () => Date.now(),
};
void run(actionServices(io), io);
