import * as core from '@actions/core';

import { K6DistributedError } from '../errors.js';
import { renderRunReport } from '../report/run-report.js';
import type { ActionServices } from './main.js';

/** The GitHub-facing services of the action, wired to the real implementations. */
export function actionServices(): ActionServices {
  return {
    oidcAuth() {
      throw new K6DistributedError(
        'INVALID_OPTION',
        'auth: oidc is not available in this build yet: use auth: secret with a secret input',
      );
    },
    openTunnel() {
      throw new K6DistributedError(
        'INVALID_OPTION',
        'tunnel: cloudflared is not available in this build yet: use tunnel: none with coordinator-url',
      );
    },
    async publishReports(result) {
      await core.summary.addRaw(`\n\`\`\`\n${renderRunReport(result)}\n\`\`\`\n`).write();
    },
    mintIdToken() {
      throw new K6DistributedError(
        'INVALID_OPTION',
        'auth: oidc is not available in this build yet: use auth: secret with a secret input',
      );
    },
  };
}
