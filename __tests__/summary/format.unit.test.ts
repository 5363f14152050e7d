import { describe, expect, it } from '@jest/globals';

import {
  humanizeBytes,
  humanizeDuration,
  humanizeValue,
  metricDisplayName,
  objectKeyOrder,
  sortMetricsByName,
  strWidth,
} from '../../src/summary/format.js';
import { stringifyLikeK6 } from '../../src/summary/json.js';

describe('k6 summary value formatting', () => {
  it.each([
    [0, '0 B'],
    [9.5, '9.5 B'],
    [10, '10 B'],
    [999.96, '1000 B'],
    [1000, '1.0 kB'],
    [9950, '10 kB'],
    [1234567, '1.2 MB'],
    [5e9, '5.0 GB'],
  ])('bytes %p as %p', (bytes, text) => {
    expect(humanizeBytes(bytes)).toBe(text);
  });

  it.each([
    [0, '', '0s'],
    [0.0005, '', '500ns'],
    [0.25, '', '250µs'],
    [1.23999, '', '1.23ms'],
    [999.999, '', '999.99ms'],
    [1500, '', '1.5s'],
    [61000, '', '1m1s'],
    [3723000, '', '1h2m3s'],
    [1234.5, 's', '1.23s'],
    [1.5, 'us', '1500.00µs'],
    [2, 'ms', '2.00ms'],
    [1500, 'm', '1.5s'],
  ])('duration %p ms with time unit %p as %p', (ms, unit, text) => {
    expect(humanizeDuration(ms, unit)).toBe(text);
  });

  it('truncates rates to two decimals and trims plain numbers to six', () => {
    const rate = { type: 'rate', contains: 'default' } as const;
    const plain = { type: 'counter', contains: 'default' } as const;
    expect(humanizeValue(2 / 3, rate, '')).toBe('66.66%');
    expect(humanizeValue(1, rate, '')).toBe('100.00%');
    expect(humanizeValue(1 / 3, plain, '')).toBe('0.333333');
    expect(humanizeValue(164.5, plain, '')).toBe('164.5');
    expect(humanizeValue(2048, { type: 'gauge', contains: 'data' }, '')).toBe('2.0 kB');
  });

  it('measures width without ANSI sequences, and shows submetrics by their tags', () => {
    expect(strWidth('\x1b[2;37m...:\x1b[0m µs')).toBe(7);
    expect(metricDisplayName('http_req_duration{expected_response:true}')).toBe(
      '  { expected_response:true }',
    );
    expect(metricDisplayName('http_reqs')).toBe('http_reqs');
  });

  it('sorts metric names with each submetric after its parent', () => {
    expect(
      sortMetricsByName([
        'http_reqs',
        'http_req_duration{status:200}',
        'http_req_duration',
        'http_req_duration{expected_response:true}',
        'data_sent',
        'Zeta',
        'alpha',
      ]),
    ).toEqual([
      'alpha',
      'data_sent',
      'http_req_duration',
      'http_req_duration{expected_response:true}',
      'http_req_duration{status:200}',
      'http_reqs',
      'Zeta',
    ]);
  });

  it('orders keys as k6 runtime objects do: array indices first', () => {
    // What k6 v2.2.0 printed for Object.keys of an object built b, 2, a, 1, 01.
    expect(objectKeyOrder(['b', '2', 'a', '1', '01'])).toEqual(['1', '2', 'b', 'a', '01']);
  });
});

describe('stringifyLikeK6', () => {
  it('writes what JSON.stringify writes when nothing is empty', () => {
    const value = { a: [1, { b: 'x"y' }], c: { d: null, e: 1.5 }, f: undefined, g: 'µ' };
    expect(stringifyLikeK6(value, '    ')).toBe(JSON.stringify(value, null, 4));
    expect(stringifyLikeK6(value, '')).toBe(JSON.stringify(value));
  });

  it('indents what follows an empty object or array one level deeper, up to the parent end', () => {
    const value = { a: { empty: {}, next: { x: 1 }, list: [], last: [2] }, b: { y: 2 } };
    expect(stringifyLikeK6(value, '  ')).toBe(
      [
        '{',
        '  "a": {',
        '    "empty": {},',
        '    "next": {',
        '        "x": 1',
        '      },',
        '    "list": [],',
        '    "last": [',
        '          2',
        '        ]',
        '  },',
        '  "b": {',
        '    "y": 2',
        '  }',
        '}',
      ].join('\n'),
    );
  });
});
