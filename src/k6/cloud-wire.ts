import { PbfReader } from 'pbf';
import snappy from 'snappyjs';

import type { CloudSeries, CloudValue } from '../metrics/cloud-series.js';
import type { K6HdrInput } from '../metrics/histogram.js';
import { K6_HDR_MAX_INDEX, K6_HDR_RESOLUTION } from '../metrics/k6-hdr.js';
import type { MetricType } from '../metrics/types.js';

/**
 * The body of k6's cloud-output metric push (`POST /v2/metrics/{id}`, k6
 * v2.2.0 output/cloud/expv2): a protobuf `MetricSet`, snappy block
 * compressed. The schema below is ours, written from the documented field
 * numbers (k6 is AGPL: none of its code or .proto is copied). Read with pbf,
 * field by field, into plain objects: no code generation, no reflection.
 *
 *   MetricSet   1 test_run_id string, 2 aggregation_period uint32, 3 metrics Metric*
 *   Metric      1 name string, 2 type enum (1 counter, 2 gauge, 3 rate, 4 trend), 3 time_series*
 *   TimeSeries  1 labels {1 name, 2 value}*, one of 2 counter / 3 gauge / 4 rate / 5 trend samples,
 *               each `1 values*`
 *   Timestamp   1 seconds int64, 2 nanos int32
 *   Counter     1 time, 2 value double
 *   Gauge       1 time, 2 last double, 3 count uint32, 4 min, 5 max, 6 avg double
 *   Rate        1 time, 2 nonzero_count uint32, 3 total_count uint32
 *   TrendHdr    1 time, 2 counters uint32* (packed), 3 spans {1 offset, 2 length}*,
 *               5 sum double, 6 count uint32, 7 min, 8 max double,
 *               9 extra_low uint32, 10 extra_high uint32, 11 min_resolution double
 */

/** Largest decompressed push accepted: k6 splits pushes at 1,000 series. */
export const MAX_CLOUD_PUSH_BYTES = 64 * 1024 * 1024;

const METRIC_TYPES: Record<number, MetricType> = {
  1: 'counter',
  2: 'gauge',
  3: 'rate',
  4: 'trend',
};

/** Decompresses and decodes one push; throws on anything that is not a valid MetricSet. */
export function decodeCloudPush(body: Uint8Array): CloudSeries[] {
  const raw = snappy.uncompress(body, MAX_CLOUD_PUSH_BYTES);
  return new PbfReader(raw).readFields(readMetricSet, []);
}

/*
 * Every field reader below is a module-level function handed to pbf as is:
 * an arrow written inline would be a new closure per message, and a push
 * holds thousands of messages (a timestamp and a histogram per value). An
 * agent's k6 pushes about once a second, so most pushes are decoded by code
 * V8 has not optimised yet, where those allocations and calls are what costs
 * (BENCHMARKS.md, "What changed": agent CPU on the cloud transport).
 */

function readMetricSet(tag: number, out: CloudSeries[], pbf: PbfReader): void {
  if (tag === 3) readMetric(pbf, out);
}

interface MetricFields {
  name: string;
  type: number;
  series: SeriesFields[];
}

interface SeriesFields {
  tags: Record<string, string>;
  values: CloudValue[];
}

function readMetricField(tag: number, m: MetricFields, pbf: PbfReader): void {
  if (tag === 1) m.name = pbf.readString();
  else if (tag === 2) m.type = pbf.readVarint();
  else if (tag === 3) {
    const series: SeriesFields = {
      tags: Object.create(null) as Record<string, string>,
      values: [],
    };
    m.series.push(pbf.readMessage(readSeriesField, series));
  }
}

function readMetric(pbf: PbfReader, out: CloudSeries[]): void {
  const m = pbf.readMessage<MetricFields>(readMetricField, { name: '', type: 0, series: [] });
  const type = METRIC_TYPES[m.type];
  if (type === undefined) throw new Error(`metric ${m.name} has unknown type ${m.type}`);
  for (const s of m.series) {
    for (const v of s.values) {
      if (v.type !== type) throw new Error(`metric ${m.name} is a ${type} but holds ${v.type}s`);
    }
    out.push({ metric: m.name, type, tags: s.tags, values: s.values });
  }
}

type ValueReader = (pbf: PbfReader) => CloudValue;

const SAMPLE_READERS: Record<number, ValueReader> = {
  2: readCounter,
  3: readGauge,
  4: readRate,
  5: readTrend,
};

function readSeriesField(tag: number, s: SeriesFields, pbf: PbfReader): void {
  if (tag === 1) {
    const label = pbf.readMessage(readLabel, { name: '', value: '' });
    s.tags[label.name] = label.value;
    return;
  }
  const reader = SAMPLE_READERS[tag];
  if (!reader) return;
  // The samples message: field 1 repeated, each one value of this series.
  const end = pbf.readVarint() + pbf.pos;
  while (pbf.pos < end) {
    const key = pbf.readVarint();
    if (key >> 3 === 1 && (key & 7) === 2) s.values.push(reader(pbf));
    else pbf.skip(key);
  }
}

function readLabel(tag: number, r: { name: string; value: string }, pbf: PbfReader): void {
  if (tag === 1) r.name = pbf.readString();
  else if (tag === 2) r.value = pbf.readString();
}

/** A Timestamp message as epoch ms. */
function readTime(pbf: PbfReader): number {
  const end = pbf.readVarint() + pbf.pos;
  let seconds = 0;
  let nanos = 0;
  while (pbf.pos < end) {
    const key = pbf.readVarint();
    if (key === 1 << 3) seconds = pbf.readVarint(true);
    else if (key === 2 << 3) nanos = pbf.readVarint(true);
    else pbf.skip(key);
  }
  return seconds * 1000 + nanos / 1e6;
}

function readCounterField(tag: number, r: Extract<CloudValue, { type: 'counter' }>, p: PbfReader) {
  if (tag === 1) r.timeMs = readTime(p);
  else if (tag === 2) r.value = p.readDouble();
}

function readCounter(pbf: PbfReader): CloudValue {
  return pbf.readMessage(readCounterField, { type: 'counter', timeMs: 0, value: 0 });
}

function readGaugeField(tag: number, r: Extract<CloudValue, { type: 'gauge' }>, p: PbfReader) {
  if (tag === 1) r.timeMs = readTime(p);
  else if (tag === 2) r.last = p.readDouble();
  else if (tag === 3) r.count = p.readVarint();
  else if (tag === 4) r.min = p.readDouble();
  else if (tag === 5) r.max = p.readDouble();
}

function readGauge(pbf: PbfReader): CloudValue {
  return pbf.readMessage(readGaugeField, {
    type: 'gauge',
    timeMs: 0,
    last: 0,
    count: 0,
    min: 0,
    max: 0,
  });
}

function readRateField(tag: number, r: Extract<CloudValue, { type: 'rate' }>, p: PbfReader) {
  if (tag === 1) r.timeMs = readTime(p);
  else if (tag === 2) r.nonzero = p.readVarint();
  else if (tag === 3) r.total = p.readVarint();
}

function readRate(pbf: PbfReader): CloudValue {
  return pbf.readMessage(readRateField, { type: 'rate', timeMs: 0, nonzero: 0, total: 0 });
}

interface TrendFields {
  timeMs: number;
  counters: number[];
  /** Span offsets and lengths, flat: [offset₀, length₀, offset₁, length₁, …]. */
  spans: number[];
  sum: number;
  count: number;
  min: number;
  max: number;
  low: number;
  high: number;
  resolution: number;
}

/** A BucketSpan message {1 offset, 2 length}, appended to `spans` as two numbers. */
function readSpan(pbf: PbfReader, spans: number[]): void {
  const end = pbf.readVarint() + pbf.pos;
  let offset = 0;
  let length = 0;
  while (pbf.pos < end) {
    const key = pbf.readVarint();
    if (key === 1 << 3) offset = pbf.readVarint();
    else if (key === 2 << 3) length = pbf.readVarint();
    else pbf.skip(key);
  }
  spans.push(offset, length);
}

function readTrendField(tag: number, r: TrendFields, p: PbfReader): void {
  switch (tag) {
    case 1:
      r.timeMs = readTime(p);
      break;
    case 2:
      p.readPackedVarint(r.counters);
      break;
    case 3:
      readSpan(p, r.spans);
      break;
    case 5:
      r.sum = p.readDouble();
      break;
    case 6:
      r.count = p.readVarint();
      break;
    case 7:
      r.min = p.readDouble();
      break;
    case 8:
      r.max = p.readDouble();
      break;
    case 9:
      r.low = p.readVarint();
      break;
    case 10:
      r.high = p.readVarint();
      break;
    case 11:
      r.resolution = p.readDouble();
      break;
  }
}

function readTrend(pbf: PbfReader): CloudValue {
  const f = pbf.readMessage<TrendFields>(readTrendField, {
    timeMs: 0,
    counters: [],
    spans: [],
    sum: 0,
    count: 0,
    min: 0,
    max: 0,
    low: 0,
    high: 0,
    resolution: 0,
  });
  return { type: 'trend', timeMs: f.timeMs, ...trendBuckets(f) };
}

/**
 * Spans to bucket indexes: the first span's offset is its first index, each
 * later offset the number of empty buckets since the previous span.
 */
function trendBuckets(f: TrendFields): K6HdrInput {
  if (f.resolution !== K6_HDR_RESOLUTION) {
    throw new Error(`trend resolution ${f.resolution}, expected k6's ${K6_HDR_RESOLUTION}`);
  }
  const buckets: [number, number][] = [];
  let index = -1;
  let at = 0;
  let total = 0;
  for (let s = 0; s < f.spans.length; s += 2) {
    const offset = f.spans[s] ?? 0;
    const length = f.spans[s + 1] ?? 0;
    index = buckets.length === 0 ? offset - 1 : index + offset;
    for (let i = 0; i < length; i++) {
      const count = f.counters[at++];
      if (count === undefined) throw new Error('trend spans cover more buckets than its counters');
      index++;
      if (count > 0) buckets.push([index, count]);
      total += count;
    }
  }
  if (at !== f.counters.length) throw new Error('trend counters outnumber its spans');
  if (index > K6_HDR_MAX_INDEX) throw new Error(`trend bucket ${index} is beyond k6's range`);
  if (total + f.low + f.high !== f.count) {
    throw new Error(`trend count ${f.count} differs from its buckets' ${total + f.low + f.high}`);
  }
  return {
    buckets,
    low: f.low,
    high: f.high,
    count: f.count,
    sum: f.sum,
    min: f.min,
    max: f.max,
  };
}
