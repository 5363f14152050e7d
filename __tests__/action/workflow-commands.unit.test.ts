import { describe, expect, it } from '@jest/globals';

import {
  CommandFreeOutput,
  mayHoldCommand,
  withoutCommands,
} from '../../src/action/workflow-commands.js';
import { commandsRun as runnerCommands } from '../helpers/workflow-runner.js';

function commandsRun(output: string): string[] {
  return runnerCommands(output).map((c) => c.name);
}

describe('issue 17.9: workflow commands in the Actions log', () => {
  it.each([
    ['a command on a line of its own', 'check x\n::add-mask::secret', true],
    ['after indentation', '  ✓ x\n   ::error title=t::boom', true],
    ['after a CR', 'x\r::warning::y', true],
    ['after a Unicode line separator', 'x\u2028::warning::y', true],
    ['the legacy form inside a line', '✓ x ##[add-mask]secret', true],
    ['a name alone', 'status is 200', false],
    ['a URL', 'see https://example.com:8080/a::b', false],
  ])('finds %s', (_, text, found) => {
    expect(mayHoldCommand(text)).toBe(found);
  });

  it('stops command processing around text that holds one, with an unguessable token', () => {
    const hostile = 'x\n::add-mask::secret\n✓ y ##[error]fake\n::stop-commands::guess\n::guess::';
    expect(commandsRun(hostile)).toEqual(['add-mask', 'error']);
    const safe = withoutCommands(hostile);
    expect(commandsRun(safe)).toEqual([]);
    expect(safe).toContain(hostile);
    expect(withoutCommands(hostile)).not.toBe(safe);
    expect(withoutCommands('plain text')).toBe('plain text');
  });

  it('frames everything printed during a block; commands after it run again', async () => {
    const written: string[] = [];
    const out = new CommandFreeOutput((text) => written.push(String(text)));
    await out.around(async () => {
      out.write('\n     ✓ x\n::add-mask::secret\n');
      out.write(Buffer.from('##[set-output name=result]passed without newline'));
      await Promise.resolve();
    });
    written.push('::error::after\n');
    expect(commandsRun(written.join(''))).toEqual(['error']);
    expect(written.join('')).toMatch(/passed without newline\n::[0-9a-f]{32}::\n::error::after\n$/);
  });

  it('ends the block when printing fails', async () => {
    const written: string[] = [];
    const out = new CommandFreeOutput((text) => written.push(String(text)));
    await expect(
      out.around(() => {
        out.write('::add-mask::x\n');
        return Promise.reject(new Error('boom'));
      }),
    ).rejects.toThrow('boom');
    written.push('::notice::after\n');
    expect(commandsRun(written.join(''))).toEqual(['notice']);
  });
});
