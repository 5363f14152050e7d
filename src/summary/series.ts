import { createSink } from '../metrics/sinks.js';
import { parentName } from './format.js';
import type { SeriesView, SummarySource } from './source.js';

/**
 * The metrics k6 reports (its ObservedMetrics): every metric, every threshold
 * submetric, and a threshold's submetric without samples, shown empty as k6
 * marks threshold metrics observed before the test starts.
 */
export function observedSeries(source: SummarySource): Map<string, SeriesView> {
  const all = new Map<string, SeriesView>(source.metrics);
  for (const [key, series] of source.submetrics) all.set(key, series);
  for (const key of source.thresholds.keys()) {
    if (all.has(key)) continue;
    const parent = source.metrics.get(parentName(key));
    if (parent)
      all.set(key, { type: parent.type, contains: parent.contains, sink: createSink(parent.type) });
  }
  return all;
}
