import { describe, expect, it } from '@jest/globals';

import { globalUseLines, metricDeclarations, timeDeclarations } from '../../src/k6/script-scan.js';

describe('globalUseLines: where a script reads a global', () => {
  it('issue 16.10: finds __VU read as an identifier, in code and template expressions', () => {
    const source = [
      "import http from 'k6/http';",
      'const users = open("users.json");',
      'export default function () {',
      '  http.get(`/u/${users[__VU - 1]}`);',
      '  if (__VU === 1) {}',
      '}',
    ].join('\n');
    expect(globalUseLines(source, '__VU')).toEqual([4, 5]);
  });

  it('issue 16.10: skips comments, strings, template text and property names', () => {
    const source = [
      '/* global __ENV, __ITER, __VU */',
      '// pick users[__VU - 1] here',
      'const a = "__VU", b = \'__VU\';',
      'const c = `__VU ${a}`;',
      'const d = { n: state.__VU, m: state?.__VU };',
      'const __VUS = 3;',
    ].join('\n');
    expect(globalUseLines(source, '__VU')).toEqual([]);
  });

  it('searches source it cannot tokenize (TypeScript) as text', () => {
    const source = 'const n: number = __VU;\nconst s: string = "x";\nfoo.__VU;';
    expect(globalUseLines(source, '__VU')).toEqual([1]);
  });
});

describe('issue 18: custom metrics the script declares as times', () => {
  it('issue 18: finds new Trend/Counter/Gauge/Rate with a literal name and `true`, nothing else', () => {
    const source = `
      import { Counter, Trend } from 'k6/metrics';
      const a = new Trend('waiting_time', true);
      const b = new Trend("plain");
      const c = new Counter('busy_time', true);
      // const d = new Trend('in_a_comment', true);
      const e = "new Trend('in_a_string', true)";
      const f = new Trend(\`templated\`, true);
      const g = new Trend('not a name', true);
      const h = new constructor('x', true);
    `;
    expect(timeDeclarations(source)).toEqual([
      { name: 'waiting_time', type: 'trend', contains: 'time' },
      { name: 'busy_time', type: 'counter', contains: 'time' },
    ]);
    expect(timeDeclarations('const x: number = new Trend(')).toEqual([]);
  });
});

describe('metricDeclarations (issue 17: the script decides a custom metric’s type)', () => {
  it('finds literal names of classes imported from k6/metrics, with their type and contains', () => {
    const source = [
      "import { Counter, Trend as T, Rate } from 'k6/metrics';",
      "const a = new Counter('orders');",
      "const b = new T('latency', true);",
      "const c = new Rate('paid', false);",
      'const d = new Counter(`tpl`);',
      'const e = new Rate(name);',
      "const f = new T('dyn', isTime);",
    ].join('\n');
    expect(metricDeclarations(source)).toEqual([
      { name: 'orders', type: 'counter', contains: 'default' },
      { name: 'latency', type: 'trend', contains: 'time' },
      { name: 'paid', type: 'rate', contains: 'default' },
    ]);
  });

  it('ignores a class of the same name that does not come from k6/metrics', () => {
    const source = [
      "import { Gauge } from './my-ui.js';",
      'class Trend {}',
      "new Gauge('not_a_metric'); new Trend('nor_this');",
    ].join('\n');
    expect(metricDeclarations(source)).toEqual([]);
  });

  it('finds nothing in source the tokenizer cannot read', () => {
    const source =
      "import { Trend } from 'k6/metrics';\nconst t = new Trend('x');\nconst s = 'unterminated";
    expect(metricDeclarations(source)).toEqual([]);
  });
});
