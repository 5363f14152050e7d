import { describe, expect, it } from '@jest/globals';

import { chooseTransport } from '../../src/coordinator/transport.js';

describe('issue 18: which metric transport a test gets', () => {
  it('issue 18: json stays json; cloud stays cloud for an ordinary test', () => {
    expect(chooseTransport('json', {})).toEqual({ transport: 'json' });
    expect(
      chooseTransport('cloud', {
        thresholds: { http_req_duration: ['p(95)<500', { threshold: 'med<=200' }] },
      }),
    ).toEqual({ transport: 'cloud' });
  });

  it('issue 18: an exact percentile threshold (med==256) falls back to json, saying why', () => {
    const chosen = chooseTransport('cloud', {
      thresholds: { payload_size: ['count>0', { threshold: 'med==256', abortOnFail: true }] },
    });
    expect(chosen.transport).toBe('json');
    expect(chosen.warning).toMatch(/'med==256' on payload_size compares a percentile exactly/);
    expect(chooseTransport('cloud', { thresholds: { t: ['p(99.9) != 3'] } }).transport).toBe(
      'json',
    );
  });

  it('issue 18: systemTags without what the cloud output needs fall back to json, naming them', () => {
    const chosen = chooseTransport('cloud', { systemTags: ['status', 'method', 'name'] });
    expect(chosen.transport).toBe('json');
    expect(chosen.warning).toMatch(/leave out error, check, group/);
    const all = ['name', 'method', 'status', 'error', 'check', 'group', 'scenario'];
    expect(chooseTransport('cloud', { systemTags: all })).toEqual({ transport: 'cloud' });
  });
});
