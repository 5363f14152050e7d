import { codeSpan, markdownText } from './markdown-text.js';

export interface VerifiedMarkdownInput {
  /** The script's path. */
  title: string;
  agents: number;
  /** k6's execution plan, as a run prints it. */
  plan: string | undefined;
  warnings: readonly string[];
}

/**
 * The job summary of a test checked without load (issue 20.4, `verify-only`):
 * k6 archived and inspected it, here is the plan it would run, and what the
 * run would warn about. Pure; the plan is k6's text, shown in a code block.
 */
export function renderVerifiedMarkdown(input: VerifiedMarkdownInput): string {
  const plan = (input.plan ?? '').replaceAll('```', "'''").trimEnd();
  const lines = [
    `### ✅ k6-distributed: ${codeSpan(input.title)} verified, no load made`,
    '',
    `k6 archived and inspected the test for ${String(input.agents)} agents: its options, ` +
      'scenarios and thresholds are valid. Step outputs: `result` is `verified`, `exit-code` is `0`.',
    ...input.warnings.flatMap((w) => ['', `⚠️ ${markdownText(w)}`]),
    ...(plan === '' ? [] : ['', '```text', plan, '```']),
  ];
  return `${lines.join('\n')}\n`;
}
