import { exitName } from './format.js';
import { codeSpan, markdownText } from './markdown-text.js';

export interface FailureMarkdownInput {
  /** Which job ended: the coordinator's, an agent's, or the reusable workflow's plan. */
  role: 'coordinator' | 'agent' | 'plan';
  /** What it was for: the script's path (coordinator) or the agent's name; may be unknown. */
  title?: string;
  /** `error`: it never ran to a verdict; `aborted`: it was cancelled. */
  result: 'error' | 'aborted';
  exitCode: number;
  /** The error: what went wrong and what to do, maybe over several lines. */
  message: string;
}

/** Lines of a message shown at most; the log has them all. */
const MAX_LINES = 60;
const MAX_LINE = 2_000;

/**
 * The job summary of a job that ended before a run could report (issue
 * 20.1): what ended, k6's exit code and the error, whose first line says
 * what went wrong and whose last says what to do. Pure. Every line of the
 * message is escaped as the run's report escapes text: it can quote the
 * script (k6's syntax error) or the coordinator's words.
 */
export function renderFailureMarkdown(input: FailureMarkdownInput): string {
  const what = {
    coordinator: 'k6-distributed',
    agent: 'k6-distributed agent',
    plan: "k6-distributed's plan",
  }[input.role];
  const title = input.title === undefined ? '' : ` ${codeSpan(input.title)}`;
  const ended = input.result === 'aborted' ? 'was cancelled' : 'could not run';
  const [first = '', ...rest] = input.message
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const shown = rest.slice(0, MAX_LINES);
  const lines = [
    `### ${input.result === 'aborted' ? '⛔' : '❌'} ${what}${title} ${ended}`,
    '',
    `**exit code ${String(input.exitCode)}** (${exitName(input.exitCode)}): ${text(first)}`,
    ...(shown.length > 0 ? ['', ...shown.map((line) => `- ${text(line.replace(/^- /, ''))}`)] : []),
    ...(rest.length > shown.length
      ? ['', `${String(rest.length - shown.length)} more lines are in the job's log.`]
      : []),
    '',
    `Step outputs: \`result\` is \`${input.result}\`, \`exit-code\` is \`${String(input.exitCode)}\`.` +
      (input.role === 'agent' ? " The coordinator job's summary has the run's verdict." : ''),
  ];
  return `${lines.join('\n')}\n`;
}

function text(line: string): string {
  return markdownText(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line);
}
