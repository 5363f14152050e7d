import { describe, expect, it } from '@jest/globals';

import { k6FlagsAndScript, parseK6Args } from '../../src/k6/run-args.js';
import { parseRunFlags } from '../../src/k6/run-flags.js';

describe('parseK6Args: `k6 run` arguments split as k6 (pflag) splits them', () => {
  it('issue 16.12: --http-debug takes no next argument; --http-debug=full gives its value', () => {
    expect(k6FlagsAndScript(['--http-debug', 's.js'])).toEqual({
      flags: ['--http-debug'],
      script: 's.js',
    });
    expect(parseK6Args(['--http-debug', 's.js']).flags[0]?.value).toBe('headers');
    expect(parseK6Args(['--http-debug=full', 's.js']).flags[0]?.value).toBe('full');
    expect(parseRunFlags(['--http-debug']).archiveFlags).toEqual(['--http-debug']);
  });

  it('issue 16.12: the script may come before, between or after the flags', () => {
    for (const args of [
      ['s.js', '-u', '2', '--no-setup'],
      ['-u', '2', 's.js', '--no-setup'],
      ['-u', '2', '--no-setup', 's.js'],
    ]) {
      expect(k6FlagsAndScript(args).script).toBe('s.js');
    }
    expect(k6FlagsAndScript(['s.js', '-u', '2']).flags).toEqual(['-u', '2']);
  });

  it('reads every spelling pflag accepts', () => {
    const values = (args: string[]) =>
      parseK6Args(args).flags.map((f) => [f.name, f.value] as const);
    expect(values(['-u2', '-u=3', '--vus=4', '--vus', '5', '-u', '6'])).toEqual(
      [2, 3, 4, 5, 6].map((n) => ['--vus', String(n)]),
    );
    expect(values(['-qvu', '7'])).toEqual([
      ['--quiet', 'true'],
      ['--verbose', 'true'],
      ['--vus', '7'],
    ]);
    expect(values(['--no-setup=false', '-e', '--vus=1'])).toEqual([
      ['--no-setup', 'false'],
      ['--env', '--vus=1'],
    ]);
  });

  it('keeps a boolean bare, as k6 does: a following word is a positional', () => {
    expect(parseK6Args(['--no-setup', 'false', 's.js']).positionals).toEqual(['false', 's.js']);
    expect(() => k6FlagsAndScript(['--no-setup', 'false', 's.js'])).toThrow(
      'accepts 1 arg(s), received 2',
    );
  });

  it('ends the flags at --', () => {
    expect(k6FlagsAndScript(['-u', '1', '--', '-odd-name.js'])).toEqual({
      flags: ['-u', '1'],
      script: '-odd-name.js',
    });
  });

  it("fails as k6 does on an unknown flag or a missing value: pflag's message, exit 255", () => {
    const cases: [string[], string][] = [
      [['--bogus', 's.js'], 'unknown flag: --bogus'],
      [['-qx', 's.js'], "unknown shorthand flag: 'x' in -x"],
      [['s.js', '--vus'], 'flag needs an argument: --vus'],
      [['s.js', '-u'], "flag needs an argument: 'u' in -u"],
    ];
    for (const [args, message] of cases) {
      let error: unknown;
      try {
        k6FlagsAndScript(args);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'K6_TEST_INVALID', data: { exitCode: 255 } });
      expect((error as Error).message.startsWith(message)).toBe(true);
    }
  });

  it('refuses words among the flags the action passes, naming them', () => {
    expect(() => parseRunFlags(['--vus', '2', 'oops'])).toThrow(/"oops" is not a k6 flag/);
  });
});
