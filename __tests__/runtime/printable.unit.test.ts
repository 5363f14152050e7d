import { describe, expect, it } from '@jest/globals';

import { printableName, printableText } from '../../src/runtime/printable.js';

/** Every character a line or the screen can be hijacked with (issue 17.9). */
const HOSTILE = [
  ...Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(c)),
  '\u007f',
  ...Array.from({ length: 0x20 }, (_, c) => String.fromCharCode(0x80 + c)),
  '\u2028',
  '\u2029',
  '\u202e',
  '\u2066',
  '\ufeff',
];

describe('issue 17.9: printable names and texts', () => {
  it('puts a name on one line, with every control and separator character escaped', () => {
    expect(printableName('x\n::add-mask::secret')).toBe('x\\n::add-mask::secret');
    expect(printableName('a\r\nb\tc\u001b[31mred')).toBe('a\\r\\nb\\tc\\e[31mred');
    expect(printableName('line\u2028sep\u0085nel\u202ertl')).toBe(
      'line\\u{2028}sep\\u{85}nel\\u{202e}rtl',
    );
    for (const char of HOSTILE) {
      const out = printableName(`a${char}b`);
      expect(HOSTILE.filter((c) => out.includes(c))).toEqual([]);
      expect(out).toMatch(/^a\\.+b$/);
    }
  });

  it('keeps printable text, emoji and other scripts as they are', () => {
    const name = 'status is 200 ✓ 😀 日本語 [x](y) `code` @org/team #12';
    expect(printableName(name)).toBe(name);
    expect(printableText(name)).toBe(name);
  });

  it("keeps the lines and tabs of k6's multi-line errors, escaping the rest", () => {
    const stack = 'Error: boom\n\tat default (file:///s.js:5:9(3))\r\n\tat x\rfake\u001b[2K';
    expect(printableText(stack)).toBe(
      'Error: boom\n\tat default (file:///s.js:5:9(3))\n\tat x\nfake\\e[2K',
    );
    for (const char of HOSTILE.filter((c) => c !== '\n' && c !== '\t' && c !== '\r')) {
      expect(printableText(`a${char}b`)).not.toContain(char);
    }
  });
});
