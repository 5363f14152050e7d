import type { K6Options } from '../k6/archive.js';
import type { MetricTransport } from '../protocol/messages.js';

/**
 * The system tags k6's cloud output will not start without (k6 v2.2.0
 * output/cloud: "the cloud output needs the following system tags enabled").
 */
const CLOUD_SYSTEM_TAGS = ['name', 'method', 'status', 'error', 'check', 'group'];

/**
 * The metric transport agents use: the one asked for, unless the test's own
 * options make k6's cloud output refuse to start; then the JSON stream, with
 * a warning that says why.
 */
export function chooseTransport(
  requested: MetricTransport,
  options: K6Options,
): { transport: MetricTransport; warning?: string } {
  if (requested !== 'cloud') return { transport: requested };
  const systemTags = options.systemTags;
  if (!Array.isArray(systemTags)) return { transport: 'cloud' };
  const missing = CLOUD_SYSTEM_TAGS.filter((t) => !systemTags.includes(t));
  if (missing.length === 0) return { transport: 'cloud' };
  return {
    transport: 'json',
    warning:
      `the test's systemTags leave out ${missing.join(', ')}, which k6's cloud output needs: ` +
      'agents send their samples as JSON instead (slower). Add them to systemTags to use ' +
      'the faster transport.',
  };
}
