import { describe, expect, it } from '@jest/globals';

import { JsonText, stringifyWithText } from '../../src/protocol/json-text.js';

describe('JsonText (issue 17.3: setup() data serialized once)', () => {
  it('splices the text in where the value would be, as JSON.stringify would write it', () => {
    const data = { token: 'abc', nested: [1, { 'quote"d': 'x\ny' }], none: null };
    const body = { instruction: { type: 'setup-data', data: new JsonText(data) }, seq: 3 };
    const text = stringifyWithText(body);
    expect(text).toBe(JSON.stringify({ instruction: { type: 'setup-data', data }, seq: 3 }));
    expect(JSON.parse(text)).toEqual({ instruction: { type: 'setup-data', data }, seq: 3 });
  });

  it('serializes the value once, however often it is sent', () => {
    let serialized = 0;
    const value = { toJSON: () => (serialized++, { v: 1 }) };
    const shared = new JsonText(value);
    for (let i = 0; i < 5; i++) stringifyWithText({ data: shared });
    expect(serialized).toBe(1);
  });

  it('a string in the data that looks like the splice marker stays a string', () => {
    const data = { s: 'json-text-00000000-0000-0000-0000-000000000000-0' };
    const text = stringifyWithText({ data: new JsonText(data), also: data.s });
    expect(JSON.parse(text)).toEqual({ data, also: data.s });
  });

  it('undefined (setup() returned nothing) travels as null', () => {
    expect(stringifyWithText({ data: new JsonText(undefined) })).toBe('{"data":null}');
  });
});
