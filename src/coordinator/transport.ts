import type { K6Options } from '../k6/archive.js';
import type { MetricTransport } from '../protocol/messages.js';

/**
 * The system tags k6's cloud output will not start without (k6 v2.2.0
 * output/cloud: "the cloud output needs the following system tags enabled").
 */
const CLOUD_SYSTEM_TAGS = ['name', 'method', 'status', 'error', 'check', 'group'];

/**
 * A threshold that compares a percentile for (in)equality, e.g. `med==256`:
 * only exact values can pass it, and k6's cloud buckets give estimates.
 */
const EXACT_PERCENTILE = /^\s*(?:med|p\([^)]*\))\s*(?:===?|!=)/;

/** The threshold expressions of k6's `thresholds` option (strings or `{ threshold }` objects). */
function thresholdSources(options: K6Options): { key: string; source: string }[] {
  return Object.entries(options.thresholds ?? {}).flatMap(([key, list]) =>
    (Array.isArray(list) ? list : []).flatMap((t: unknown) => {
      const source = typeof t === 'string' ? t : (t as { threshold?: unknown } | null)?.threshold;
      return typeof source === 'string' ? [{ key, source }] : [];
    }),
  );
}

/**
 * The metric transport agents use: the one asked for, unless the test needs
 * what only the JSON stream gives (k6's cloud output refuses to start without
 * some system tags; an exact percentile needs exact values); then the JSON
 * stream, with a warning that says why.
 */
export function chooseTransport(
  requested: MetricTransport,
  options: K6Options,
): { transport: MetricTransport; warning?: string } {
  if (requested !== 'cloud') return { transport: requested };
  const exact = thresholdSources(options).find((t) => EXACT_PERCENTILE.test(t.source));
  if (exact) {
    return {
      transport: 'json',
      warning:
        `the threshold '${exact.source}' on ${exact.key} compares a percentile exactly, which ` +
        "k6's cloud output (percentiles within 0.4 %) cannot decide: agents send their " +
        'samples as JSON instead (slower).',
    };
  }
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
