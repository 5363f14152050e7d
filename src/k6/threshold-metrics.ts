import { builtinMetric } from '../metrics/builtin.js';
import type { MetricInfo } from '../metrics/types.js';
import { freeLoopbackAddress } from './address.js';
import type { K6Binary } from './binary.js';
import { K6_EXIT_CODES } from './exit-codes.js';
import { helperRunEnv } from './helper-env.js';
import { K6Process } from './process.js';
import { K6RestClient } from './rest-client.js';

export interface ThresholdMetricsOptions {
  k6: K6Binary;
  /** The test's archive (`k6 archive` output). */
  archivePath: string;
  /** Metric or submetric keys of the test's thresholds. */
  thresholdKeys: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

/** Another process can take the free port before k6 binds it; k6 then exits 106. */
const PORT_ATTEMPTS = 3;

/**
 * The definitions (type, value type) of the custom metrics the thresholds
 * name. k6 shows such a metric in its summary and evaluates its thresholds
 * even when it never gets a sample (an `errors` counter on a good day), but
 * its type lives only in k6's registry, filled by the script's init code:
 * k6's JSON output defines a metric with its first sample only, and agents
 * (--no-thresholds) report none. So the coordinator asks one k6 of its own:
 * started paused on the archive with thresholds on, k6 marks every threshold
 * metric observed before it serves its REST API, and GET /v1/metrics lists
 * them (internal/metrics/engine InitSubMetricsAndThresholds). It is stopped
 * as soon as it answered: no VU runs an iteration. Built-in metrics are
 * known without asking; without a custom one, no k6 is started.
 */
export async function thresholdMetrics(options: ThresholdMetricsOptions): Promise<MetricInfo[]> {
  const wanted = new Set(options.thresholdKeys.map(metricOf));
  for (const name of wanted) if (builtinMetric(name)) wanted.delete(name);
  if (wanted.size === 0) return [];
  for (let attempt = 1; ; attempt++) {
    const address = await freeLoopbackAddress();
    const proc = await K6Process.start(options.k6.path, {
      args: probeArgs(address, options.archivePath),
      env: helperRunEnv(options.env),
      cwd: options.cwd,
    });
    const api = new K6RestClient(address);
    try {
      await api.waitForStatus(() => true, {
        signal: proc.exitSignal,
        timeoutMs: options.timeoutMs ?? 60_000,
      });
      const listed = await api.metrics();
      return listed.filter((m) => wanted.has(m.name));
    } catch (error) {
      const exit = proc.exit ?? (await proc.stop({ signal: 'SIGKILL', graceMs: 0 }));
      if (exit.code === K6_EXIT_CODES['cannot-start-rest-api'] && attempt < PORT_ATTEMPTS) continue;
      throw error;
    } finally {
      await api.close();
      await proc.stop({ signal: 'SIGKILL', graceMs: 0 });
    }
  }
}

function probeArgs(address: string, archivePath: string): string[] {
  return [
    'run',
    '--paused',
    '--address',
    address,
    // No VU at all: one VU in the test, and the half of it that has none (the
    // segment's share of one VU is zero). Only the init code that reads the
    // options runs, as in `k6 archive`: init code that throws in VUs (e.g.
    // `if (__VU > 0) throw …`) cannot hide the metrics from k6's summary.
    '--vus',
    '1',
    '--iterations',
    '1',
    '--execution-segment',
    '1/2:1',
    '--execution-segment-sequence',
    '0,1/2,1',
    '--no-setup',
    '--no-teardown',
    '--summary-mode=disabled',
    '--no-usage-report',
    '--quiet',
    '--log-output=none',
    archivePath,
  ];
}

/** `http_req_duration{status:200}` → `http_req_duration`. */
function metricOf(key: string): string {
  const brace = key.indexOf('{');
  return (brace === -1 ? key : key.slice(0, brace)).trim();
}
