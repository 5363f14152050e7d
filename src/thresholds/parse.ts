import { K6DistributedError } from '../errors.js';
import type { MetricType } from '../metrics/types.js';

export type Aggregation = 'value' | 'count' | 'rate' | 'avg' | 'min' | 'med' | 'max' | 'p';
export type Operator = '<=' | '<' | '>=' | '>' | '===' | '==' | '!=';

/** A parsed `agg op value` (k6 metrics/thresholds_parser.go). */
export interface ThresholdExpression {
  aggregation: Aggregation;
  /** For `p(N)`: N in [0, 100]. */
  percentile?: number;
  operator: Operator;
  value: number;
  /** The sink value it reads: `count`, `p(95)`, ... (k6's SinkKey, Go's %g). */
  sinkKey: string;
}

/** k6 scans operators in this order, so `<=` is found before `<` and `===` before `==`. */
const OPERATORS: readonly Operator[] = ['<=', '<', '>=', '>', '===', '==', '!='];
const AGGREGATIONS: readonly Aggregation[] = [
  'value',
  'count',
  'rate',
  'avg',
  'min',
  'med',
  'max',
  'p',
];

const SUPPORTED: Record<MetricType, readonly Aggregation[]> = {
  counter: ['count', 'rate'],
  gauge: ['value'],
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med', 'p'],
};

function invalid(message: string): K6DistributedError {
  return new K6DistributedError('INVALID_OPTION', message);
}

/** Parses a threshold expression exactly as k6 does, with k6's error messages. */
export function parseThresholdExpression(input: string): ThresholdExpression {
  const scanned = scan(input);
  if (!scanned) {
    throw invalid(
      `failed parsing threshold expression ${goQuote(input)}; reason: malformed threshold expression`,
    );
  }
  const [method, operator, rhs] = scanned;
  const { aggregation, percentile } = parseAggregation(method, input);
  const value = parseGoFloat(rhs);
  if (value === undefined) {
    throw invalid(
      `failed parsing threshold expresion's ${goQuote(input)} right hand side; reason: ` +
        `strconv.ParseFloat: parsing ${goQuote(rhs)}: invalid syntax`,
    );
  }
  const sinkKey = aggregation === 'p' ? `p(${formatG(percentile ?? 0)})` : aggregation;
  return { aggregation, percentile, operator, value, sinkKey };
}

function scan(input: string): [string, Operator, string] | undefined {
  for (const op of OPERATORS) {
    const at = input.indexOf(op);
    if (at < 0) continue;
    const right = input.slice(at + op.length);
    if (right !== '') return [input.slice(0, at).trim(), op, right.trim()];
  }
  return undefined;
}

function parseAggregation(
  method: string,
  input: string,
): { aggregation: Aggregation; percentile?: number } {
  if ((AGGREGATIONS as readonly string[]).includes(method))
    return { aggregation: method as Aggregation };
  const lhs = (reason: string) =>
    invalid(
      `failed parsing threshold expression's ${goQuote(input)} left hand side; reason: ${reason}`,
    );
  if (!method.startsWith('p(') || !method.endsWith(')')) {
    throw lhs('failed parsing method from expression');
  }
  const inner = method.slice(2, -1);
  const percentile = parseGoFloat(inner);
  if (percentile === undefined) {
    throw lhs(
      `malformed percentile value; reason: strconv.ParseFloat: parsing ${goQuote(inner)}: invalid syntax`,
    );
  }
  if (Number.isNaN(percentile) || percentile < 0 || percentile > 100) {
    throw lhs('malformed percentile value, provide a number between 0 and 100');
  }
  return { aggregation: 'p', percentile };
}

const DIGITS = String.raw`\d(?:_?\d)*`;
const GO_DECIMAL = new RegExp(
  String.raw`^[+-]?(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`,
);

/**
 * Go's strconv.ParseFloat (what k6 reads a threshold's right-hand side with):
 * decimal and exponent notation with `_` between digits, hexadecimal
 * mantissas with a binary `p` exponent, an optional sign, Inf/Infinity/NaN.
 */
export function parseGoFloat(text: string): number | undefined {
  if (/^[+-]?(inf|infinity)$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (GO_DECIMAL.test(text)) return Number(text.replaceAll('_', ''));
  const hex =
    /^([+-]?)0[xX]_?([0-9a-fA-F](?:_?[0-9a-fA-F])*)?(?:\.([0-9a-fA-F](?:_?[0-9a-fA-F])*)?)?[pP]([+-]?\d(?:_?\d)*)$/.exec(
      text,
    );
  if (hex && (hex[2] !== undefined || hex[3] !== undefined)) {
    const whole = (hex[2] ?? '').replaceAll('_', '');
    const fraction = (hex[3] ?? '').replaceAll('_', '');
    const mantissa =
      parseInt(whole || '0', 16) + (fraction ? parseInt(fraction, 16) / 16 ** fraction.length : 0);
    const value = mantissa * 2 ** Number((hex[4] ?? '0').replaceAll('_', ''));
    return hex[1] === '-' ? -value : value;
  }
  return undefined;
}

/** Go's %g for the percentiles users write (e.g. 95, 99.9, 0.5). */
function formatG(n: number): string {
  return String(n);
}

function goQuote(text: string): string {
  return JSON.stringify(text);
}

/** k6's check that an aggregation suits the metric's type (metrics/thresholds.go Validate). */
export function validateForType(
  expression: ThresholdExpression,
  source: string,
  key: string,
  type: MetricType,
): void {
  const supported = SUPPORTED[type];
  if (supported.includes(expression.aggregation)) return;
  throw invalid(
    `invalid threshold ${goQuote(source)} applied on metric ${key}; reason: unsupported ` +
      `aggregation method ${expression.aggregation} on metric of type ${type}. supported ` +
      `aggregation methods for this metric are: ${supported.join(', ')}`,
  );
}

/** A threshold key: a metric, or a submetric `metric{tag:value,...}` (k6 AddSubmetric). */
export interface MetricKey {
  metric: string;
  tags: Record<string, string>;
}

export function parseMetricKey(key: string): MetricKey {
  const open = key.indexOf('{');
  if (open < 0 && !key.includes('}')) return { metric: key, tags: {} };
  const fail = (why: string) =>
    invalid(
      `unable to validate threshold expressions; reason: parsing metric name failed, metric ${goQuote(key)} ${why}`,
    );
  const close = key.lastIndexOf('}');
  if (open < 0 || close < 0) throw fail('has unmatched opening/close curly brace');
  if (close < open) throw fail('closing curly brace appears before opening one');
  if (close !== key.length - 1) throw fail('lacks a closing curly brace in its last position');
  const tags: Record<string, string> = {};
  for (const kv of key.slice(open + 1, close).split(',')) {
    const colon = kv.indexOf(':');
    const v = colon < 0 ? '' : kv.slice(colon + 1);
    // k6 ParseMetricName: every part needs a value after its colon.
    if (v === '') {
      throw invalid(
        `unable to validate threshold expressions; reason: parsing metric name failed, metric ${goQuote(kv)} tag expression is malformed`,
      );
    }
    tags[trimQuotes(kv.slice(0, colon))] = trimQuotes(v);
  }
  return { metric: key.slice(0, open), tags };
}

function trimQuotes(text: string): string {
  return text.trim().replace(/^["']+|["']+$/g, '');
}
