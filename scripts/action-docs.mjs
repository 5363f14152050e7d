#!/usr/bin/env node
// Writes the README's action inputs and outputs tables from action.yml, their
// single source, formatted as prettier keeps them. `--check` exits 1 instead when
// the README is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { URL } from 'node:url';

import { format, resolveConfig } from 'prettier';
import { parse } from 'yaml';

const root = new URL('../', import.meta.url);
const START = '<!-- action-io:start (generated from action.yml by `npm run docs`) -->';
const END = '<!-- action-io:end -->';

/** One table cell: single line, pipes escaped. */
const cell = (text) =>
  String(text ?? '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\|/g, '\\|');

export function renderActionTables(action) {
  const inputs = Object.entries(action.inputs ?? {}).map(
    ([name, i]) =>
      `| \`${name}\` | ${i.required ? 'yes' : 'no'} | ${
        i.default === undefined || i.default === '' ? '' : `\`${cell(i.default)}\``
      } | ${cell(i.description)} |`,
  );
  const outputs = Object.entries(action.outputs ?? {}).map(
    ([name, o]) => `| \`${name}\` | ${cell(o.description)} |`,
  );
  return [
    START,
    '',
    '| Input | Required | Default | Description |',
    '| --- | --- | --- | --- |',
    ...inputs,
    '',
    '| Output | Description |',
    '| --- | --- |',
    ...outputs,
    '',
    END,
  ].join('\n');
}

async function main() {
  const action = parse(await readFile(new URL('action.yml', root), 'utf8'));
  const readmeUrl = new URL('README.md', root);
  const readme = await readFile(readmeUrl, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) {
    console.error(`README.md lacks the markers ${START} … ${END}`);
    process.exit(1);
  }
  const updated = await format(
    readme.slice(0, start) + renderActionTables(action) + readme.slice(end + END.length),
    { ...(await resolveConfig(readmeUrl)), parser: 'markdown' },
  );
  if (process.argv.includes('--check')) {
    if (updated !== readme) {
      console.error('README.md action tables are stale: run `npm run docs`');
      process.exit(1);
    }
    return;
  }
  await writeFile(readmeUrl, updated);
}

await main();
