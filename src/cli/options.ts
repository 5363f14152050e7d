import { InvalidArgumentError } from 'commander';

import { errorMessage } from '../errors.js';
import { envAssignment as testEnvAssignment } from '../k6/test-env.js';
import * as values from '../values.js';

/** The environment variable that carries the shared secret, for coordinator and agents. */
export const SECRET_ENV = 'K6_DISTRIBUTED_SECRET';

/**
 * A value parser as commander wants it: its error becomes an
 * InvalidArgumentError, which commander prints after the option's name.
 */
function forCommander<A extends unknown[], T>(parse: (...args: A) => T): (...args: A) => T {
  return (...args) => {
    try {
      return parse(...args);
    } catch (error) {
      throw new InvalidArgumentError(errorMessage(error));
    }
  };
}

export const durationMs = forCommander(values.durationMs);
export const positiveInt = forCommander(values.positiveInt);
export const agentLossPolicy = forCommander(values.agentLossPolicy);
export const weight = forCommander(values.weight);
/** Collects repeated `--tag key=value` into an object. */
export const tag = forCommander(values.tag);
/** Collects repeated `-e KEY=VALUE` into an object. */
export const envAssignment = forCommander(testEnvAssignment);
/** --fail-on-regression: `p95=10%,error-rate=1%,request-rate=15%`. */
export const regressionLimits = forCommander(values.regressionLimits);
