import * as core from '@actions/core';

import type { Logger } from '../runtime/logger.js';

/** Routes log lines to the Actions log (warnings and errors become annotations). */
export const actionsLogger: Logger = {
  debug: (m) => core.debug(m),
  info: (m) => core.info(m),
  warning: (m) => core.warning(m),
  error: (m) => core.error(m),
};
