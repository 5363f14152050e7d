import * as core from '@actions/core';

import type { Logger } from '../runtime/logger.js';
import { withoutCommands } from './workflow-commands.js';

/**
 * Routes log lines to the Actions log (warnings and errors become annotations).
 * A line of `info` may carry an agent's or the script's words (names, k6's
 * messages): one that could read as a workflow command is printed with
 * commands stopped. Debug, warning and error lines are command data already,
 * with newlines escaped by the toolkit.
 */
export const actionsLogger: Logger = {
  debug: (m) => core.debug(m),
  info: (m) => core.info(withoutCommands(m)),
  warning: (m) => core.warning(m),
  error: (m) => core.error(m),
};
