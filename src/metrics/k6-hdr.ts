/**
 * The bucket layout of k6's own cloud-output histogram (k6 v2.2.0
 * internal/ds/histogram, facts only): a sample v is counted at the integer
 * u = ceil(v / resolution), resolution 0.001 of the unit (1 µs for ms). Below
 * 256 each u is its own bucket; from 256 on, each power of two of u is split
 * into 128 equal sub-buckets: bucket index = (n - 7)·128 + (u >> (n - 7)),
 * n the position of u's highest set bit. Negative samples only count in one
 * "extra low" counter, samples above 2^63 units in one "extra high" counter.
 *
 * Agents on the cloud transport (issue 18) merge these indexes as k6 sends
 * them: re-bucketing into our own float layout would round twice.
 */

/** k6's only resolution (defaultMinimumResolution); other values are refused. */
export const K6_HDR_RESOLUTION = 0.001;

const LINEAR_BELOW = 256;
const SUB_BITS = 7;
/** u above this (in units of the resolution) goes to the extra-high counter, as in k6. */
const MAX_TRACKABLE = 2 ** 63;
/** Index of the highest trackable u, 2^63 itself (n = 63, first sub-bucket). */
export const K6_HDR_MAX_INDEX = ((63 - SUB_BITS) << SUB_BITS) + 128;

/** Position of the highest set bit of a positive integer-valued float (exact up to 2^1023). */
function highestBit(u: number): number {
  let n = Math.floor(Math.log2(u));
  if (2 ** n > u) n--;
  else if (2 ** (n + 1) <= u) n++;
  return n;
}

/** Where k6 counts a sample: a bucket index, or 'low'/'high' for its two extra counters. */
export function k6HdrIndex(value: number): number | 'low' | 'high' {
  const scaled = value / K6_HDR_RESOLUTION;
  if (scaled < 0) return 'low';
  if (scaled > MAX_TRACKABLE) return 'high';
  const u = Math.ceil(scaled);
  if (u < LINEAR_BELOW) return u;
  const shift = highestBit(u) - SUB_BITS;
  return (shift << SUB_BITS) + Math.floor(u / 2 ** shift);
}

/**
 * The values a bucket holds: `(low, high]` in the sample's unit; bucket 0
 * holds exactly 0. `middle` is the estimate of a sample in it, the middle of
 * that range, within 0.5 × resolution of the sample below 256 units and
 * within 1/256 relative above.
 */
export function k6HdrBucket(index: number): { low: number; high: number; middle: number } {
  if (index === 0) return { low: 0, high: 0, middle: 0 };
  let first = index;
  let last = index;
  if (index >= LINEAR_BELOW) {
    const shift = (index >> SUB_BITS) - 1;
    const sub = index - (shift << SUB_BITS);
    first = sub * 2 ** shift;
    last = (sub + 1) * 2 ** shift - 1;
  }
  const low = (first - 1) * K6_HDR_RESOLUTION;
  const high = last * K6_HDR_RESOLUTION;
  return { low, high, middle: low + (high - low) / 2 };
}
