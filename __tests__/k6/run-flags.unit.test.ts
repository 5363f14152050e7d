import { describe, expect, it } from '@jest/globals';

import { parseRunFlags } from '../../src/k6/run-flags.js';

describe('parseRunFlags', () => {
  it.each([
    [[], {}, true],
    [[], { K6_INCLUDE_SYSTEM_ENV_VARS: 'false' }, false],
    [[], { K6_INCLUDE_SYSTEM_ENV_VARS: '0' }, false],
    [['--include-system-env-vars=false'], {}, false],
    [['--include-system-env-vars'], { K6_INCLUDE_SYSTEM_ENV_VARS: 'false' }, true],
    [['--include-system-env-vars=false'], { K6_INCLUDE_SYSTEM_ENV_VARS: 'true' }, false],
  ])(
    'issue 16.1: %j with %j includes the system environment: %s (k6 run defaults to true)',
    (flags, env, expected) => {
      expect(parseRunFlags(flags, env).includeSystemEnvVars).toBe(expected);
    },
  );

  it('issue 16.9: collects every --secret-source and keeps it for the archive', () => {
    const flags = parseRunFlags(['--secret-source', 'file=a.txt', '--secret-source=mock=k=v']);
    expect(flags.secretSources).toEqual(['file=a.txt', 'mock=k=v']);
    expect(flags.archiveFlags).toEqual([
      '--secret-source',
      'file=a.txt',
      '--secret-source=mock=k=v',
    ]);
    // K6_SECRET_SOURCE is k6's default for the flag; the first flag replaces it.
    const env = { K6_SECRET_SOURCE: 'file=env.txt' };
    expect(parseRunFlags([], env).secretSources).toEqual(['file=env.txt']);
    expect(parseRunFlags(['--secret-source=mock=k=v'], env).secretSources).toEqual(['mock=k=v']);
  });

  it('keeps option flags for the archive, in order, with their values', () => {
    const flags = parseRunFlags([
      '--vus',
      '10',
      '-e',
      'A=1',
      '--duration=30s',
      '--throw',
      '--tag',
      'x=y',
    ]);
    expect(flags.archiveFlags).toEqual([
      '--vus',
      '10',
      '-e',
      'A=1',
      '--duration=30s',
      '--throw',
      '--tag',
      'x=y',
    ]);
    expect(flags.summaryMode).toBe('compact');
    expect(flags.summaryExport).toBeUndefined();
    expect(flags.noThresholds).toBe(false);
  });

  it('reads the summary and threshold flags the coordinator applies to the merged run', () => {
    const flags = parseRunFlags([
      '--summary-mode',
      'full',
      '--summary-export=out.json',
      '--no-thresholds',
      '--no-color',
    ]);
    expect(flags).toMatchObject({
      summaryMode: 'full',
      summaryExport: 'out.json',
      noThresholds: true,
      noColor: true,
    });
  });

  it('drops flags that only make sense for one k6 process, with their values', () => {
    const flags = parseRunFlags([
      '--linger',
      '--address',
      '0.0.0.0:6565',
      '-p',
      '--no-usage-report',
      '--vus',
      '2',
    ]);
    expect(flags.archiveFlags).toEqual(['--vus', '2']);
  });

  it('does not mistake a flag value for a flag', () => {
    const flags = parseRunFlags(['-e', '--summary-mode=full', '--vus', '1']);
    expect(flags.summaryMode).toBe('compact');
    expect(flags.archiveFlags).toEqual(['-e', '--summary-mode=full', '--vus', '1']);
  });

  it('issue 20.8: collects every --out/-o in order for the agents, never archived; else K6_OUT', () => {
    const flags = parseRunFlags(['--out', 'json=x.json', '-u', '2', '-o', 'csv=y.csv'], {
      K6_OUT: 'influxdb=http://db:8086/k6',
    });
    expect(flags.outputs).toEqual(['json=x.json', 'csv=y.csv']);
    expect(flags.archiveFlags).toEqual(['-u', '2']);
    // k6 reads K6_OUT as a comma-separated list, and a flag replaces it.
    expect(parseRunFlags([], { K6_OUT: 'json=a.json,influxdb=http://db:8086/k6' }).outputs).toEqual(
      ['json=a.json', 'influxdb=http://db:8086/k6'],
    );
    expect(parseRunFlags([]).outputs).toEqual([]);
    expect(parseRunFlags([], { K6_OUT: '  ' }).outputs).toEqual([]);
  });

  it('takes --console-output, else K6_CONSOLE_OUTPUT, for the agents, never archived', () => {
    const flags = parseRunFlags(['--console-output', 'c.log', '-u', '2'], {
      K6_CONSOLE_OUTPUT: 'env.log',
    });
    expect([flags.consoleOutput, flags.archiveFlags]).toEqual(['c.log', ['-u', '2']]);
    expect(parseRunFlags([], { K6_CONSOLE_OUTPUT: 'env.log' }).consoleOutput).toBe('env.log');
    // k6 leaves an empty value unset.
    expect(parseRunFlags(['--console-output='], { K6_CONSOLE_OUTPUT: '' }).consoleOutput).toBe(
      undefined,
    );
  });

  it('refuses --local-ips and K6_LOCAL_IPS, which k6 does not archive, saying why and what to do', () => {
    expect(() => parseRunFlags(['--local-ips', '10.0.0.1-10.0.0.9'])).toThrow(
      /^--local-ips is not passed to agents: its addresses are this machine's.*: remove it from the k6 flags$/,
    );
    expect(() => parseRunFlags([], { K6_LOCAL_IPS: '10.0.0.1' })).toThrow(
      /^K6_LOCAL_IPS is not passed to agents: .*: unset it for the distributed run$/,
    );
  });

  it('refuses an unknown summary mode, naming the valid ones', () => {
    expect(() => parseRunFlags(['--summary-mode=legacy'])).toThrow(
      'invalid summary mode "legacy": use one of compact, full, disabled',
    );
  });

  it('reads k6 environment variables, and a flag wins over its variable', () => {
    const env = {
      K6_SUMMARY_MODE: 'disabled',
      K6_SUMMARY_EXPORT: 'e.json',
      K6_NO_THRESHOLDS: 'true',
    };
    expect(parseRunFlags([], env)).toMatchObject({
      summaryMode: 'disabled',
      summaryExport: 'e.json',
      noThresholds: true,
    });
    expect(parseRunFlags(['--summary-mode', 'full'], env).summaryMode).toBe('full');
  });
});
