import { describe, expect, it } from '@jest/globals';

import { namesInSource } from '../../src/k6/source-order.js';
import { SightingOrder, sortAddedEntries } from '../../src/metrics/sighting-order.js';

describe('issue 18.2: the order of checks and groups first seen in the same second', () => {
  it('issue 18.2: reads literal check keys and group names in source order, nothing else', () => {
    const source = `
      import { check, group } from 'k6';
      const dynamic = { 'not a check key': 1 };
      export default function () {
        check(res, { 'status is 200': (r) => r.status === 200, "body's": (r) => f({ inner: 1 }), plain: 1, 3: true });
        check(compute(a, { x: 1 }), { 'after nested first arg': () => [1, 2].includes(\`\${a}\`) });
        check(res, dynamic);
        check(res, { ['__proto__']: () => true, [computed]: 1, valueOf: () => true });
        group('outer', () => { group("inner", () => {}); });
        group(name, () => {});
      }`;
    expect(namesInSource(source)).toEqual({
      checks: [
        'status is 200',
        "body's",
        'plain',
        '3',
        'after nested first arg',
        '__proto__',
        'valueOf',
      ],
      groups: ['outer', 'inner'],
    });
    // Source the tokenizer cannot read gives no ranks (its names then sort by name).
    expect(namesInSource("check(r, { a: 1 }); '")).toEqual({ checks: [], groups: [] });
  });

  it('issue 18.2: ranks by source order, then name; a group before its children', () => {
    const order = new SightingOrder({ checks: ['z', 'a'], groups: ['outer', 'b', 'a'] });
    const names = ['a', 'unknown 2', 'z', 'unknown 1'].map((name) => ({
      name,
      group: '',
      scenario: 'default',
    }));
    expect(names.sort((x, y) => order.compareChecks(x, y)).map((c) => c.name)).toEqual([
      'z',
      'a',
      'unknown 1',
      'unknown 2',
    ]);
    const groups = ['::a', '::outer::b', '::zz', '::outer', '::outer::a', '::b'];
    expect(groups.sort((x, y) => order.compareGroups(x, y))).toEqual([
      '::outer',
      '::outer::b',
      '::outer::a',
      '::b',
      '::a',
      '::zz',
    ]);
  });

  it('issue 18.2: only the entries a push added move, by their first second first', () => {
    const map = new Map([
      ['old', 'old'],
      ['b', 'b'],
      ['a', 'a'],
      ['c', 'c'],
    ]);
    const seen = new Map([
      ['a', 2_000],
      ['b', 1_000],
      ['c', 1_000],
    ]);
    const sorted = sortAddedEntries(map, 1, seen, (x, y) => (x < y ? 1 : -1));
    expect([...sorted.keys()]).toEqual(['old', 'c', 'b', 'a']);
  });
});
