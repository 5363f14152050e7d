import { randomBytes } from 'node:crypto';

/**
 * GitHub's runner reads every line of a step's output for workflow commands
 * (actions/runner ActionCommand.cs): `::name …::data` at the start of a line
 * (after leading whitespace), and the legacy `##[name …]data` anywhere in a
 * line. Text that carries names from a script or an agent (issue 17.9) is
 * printed between `::stop-commands::<token>` and `::<token>::`, with a random
 * token the text cannot know, so nothing in it runs as a command.
 */

/** Where the runner splits a step's output into lines (.NET ReadLine), and more. */
const LINE_BREAK = /\r\n|[\r\n\u0085\u2028\u2029]/;

/** True when the runner could read a workflow command somewhere in `text`. */
export function mayHoldCommand(text: string): boolean {
  return text.includes('##[') || text.split(LINE_BREAK).some((l) => l.trimStart().startsWith('::'));
}

/** A fresh token for one stop-commands block: 128 random bits, hex (a valid command name). */
export function stopToken(): string {
  return randomBytes(16).toString('hex');
}

/** `text` as one block the runner does not read commands in; unchanged when it holds none. */
export function withoutCommands(text: string): string {
  if (!mayHoldCommand(text)) return text;
  const token = stopToken();
  return `::stop-commands::${token}\n${text}\n::${token}::`;
}

/**
 * A step's stdout whose writes can be framed: `around(print)` stops command
 * processing for everything written while `print` runs (the end-of-test
 * summary and handleSummary()'s output). The closing line always starts a
 * line of its own, or the runner would not see it.
 */
export class CommandFreeOutput {
  readonly #out: (text: string | Buffer) => void;
  #atLineStart = true;

  constructor(out: (text: string | Buffer) => void) {
    this.#out = out;
  }

  readonly write = (text: string | Buffer): void => {
    if (text.length === 0) return;
    this.#out(text);
    this.#atLineStart = text.at(-1) === (typeof text === 'string' ? '\n' : 0x0a);
  };

  async around<T>(print: () => Promise<T>): Promise<T> {
    const token = stopToken();
    this.write(`${this.#atLineStart ? '' : '\n'}::stop-commands::${token}\n`);
    try {
      return await print();
    } finally {
      this.write(`${this.#atLineStart ? '' : '\n'}::${token}::\n`);
    }
  }
}

/**
 * The coordinator's end-of-test output in the job log: k6's summary and
 * handleSummary()'s output print check, group and tag names an agent or the
 * script chose, so workflow commands are stopped around them (issue 17.9).
 * Their stderr joins stdout, so no line of it reaches the runner after the
 * block has ended (the runner reads the two pipes apart).
 */
export function endOfTestOutput(write: (text: string | Buffer) => void) {
  const out = new CommandFreeOutput(write);
  return {
    stdout: out.write,
    stderr: out.write,
    isTTY: false,
    around: <T>(print: () => Promise<T>) => out.around(print),
  };
}
