import type { MetricInfo, MetricType, ValueType } from './types.js';

/**
 * k6's built-in metrics (metrics/builtin.go). k6's JSON output defines a
 * metric only with its first sample, so a threshold on a metric that never
 * got one still needs its type from here to be evaluated as k6 does.
 */
const BUILTIN = new Map<string, [MetricType, ValueType?]>(
  Object.entries({
    vus: ['gauge'],
    vus_max: ['gauge'],
    iterations: ['counter'],
    iteration_duration: ['trend', 'time'],
    dropped_iterations: ['counter'],
    checks: ['rate'],
    group_duration: ['trend', 'time'],
    http_reqs: ['counter'],
    http_req_failed: ['rate'],
    http_req_duration: ['trend', 'time'],
    http_req_blocked: ['trend', 'time'],
    http_req_connecting: ['trend', 'time'],
    http_req_tls_handshaking: ['trend', 'time'],
    http_req_sending: ['trend', 'time'],
    http_req_waiting: ['trend', 'time'],
    http_req_receiving: ['trend', 'time'],
    ws_sessions: ['counter'],
    ws_msgs_sent: ['counter'],
    ws_msgs_received: ['counter'],
    ws_ping: ['trend', 'time'],
    ws_session_duration: ['trend', 'time'],
    ws_connecting: ['trend', 'time'],
    grpc_req_duration: ['trend', 'time'],
    data_sent: ['counter', 'data'],
    data_received: ['counter', 'data'],
  } satisfies Record<string, [MetricType, ValueType?]>),
);

/** The trends k6 emits with every HTTP request, beside one http_reqs sample (metrics/builtin.go). */
export const HTTP_REQ_TRENDS: readonly string[] = [
  'http_req_duration',
  'http_req_blocked',
  'http_req_connecting',
  'http_req_tls_handshaking',
  'http_req_sending',
  'http_req_waiting',
  'http_req_receiving',
];

/** Every built-in metric's name. */
export const BUILTIN_METRIC_NAMES: readonly string[] = [...BUILTIN.keys()];

/**
 * A Map, not an object's properties: a script's `new Counter('constructor')`
 * is a custom metric, not Object.prototype's (issue 17.11).
 */
export function builtinMetric(name: string): MetricInfo | undefined {
  const entry = BUILTIN.get(name);
  return entry ? { name, type: entry[0], contains: entry[1] ?? 'default' } : undefined;
}

/**
 * Gauges every k6 instance reports for itself: one big k6 would report their
 * sum, so the store adds up each agent's latest value instead of keeping the
 * last one by time.
 */
export const PER_INSTANCE_GAUGES: ReadonlySet<string> = new Set(['vus', 'vus_max']);
