import type { Token } from 'acorn';

import { METRIC_LIMITS, type SourceOrder } from '../protocol/messages.js';
import { type ModuleReader, tokensOf } from './archive-modules.js';

/** Longest name kept: longer ones are left unranked (they still sort, by name). */
const MAX_NAME_LENGTH = 1024;

/**
 * The check and group names a k6 archive's modules spell out, in source
 * order: the keys of every literal object passed to `check(value, { … })`
 * and the literal first argument of every `group('name', …)`. k6 lists checks
 * and groups in the order it first sees them, and within a check() call in
 * the order of its keys; the cloud transport only says in which second a
 * series was first seen, so this order breaks ties within that second (issue
 * 18.2). Names built at run time are not found: they sort after, by name.
 * Source the tokenizer cannot read (TypeScript) gives nothing.
 */
export function sourceOrderReader(): ModuleReader<SourceOrder> {
  const checks = new Set<string>();
  const groups = new Set<string>();
  return {
    visit: (module) => {
      const found = namesIn(module.source, module.tokens);
      for (const name of found.checks) addBounded(checks, name, METRIC_LIMITS.maxChecks);
      for (const name of found.groups) addBounded(groups, name, METRIC_LIMITS.maxParts);
    },
    result: () => ({ checks: [...checks], groups: [...groups] }),
  };
}

/** The plan's bounds (protocol/messages.ts SourceOrder): names past them stay unranked. */
function addBounded(names: Set<string>, name: string, limit: number): void {
  if (names.size < limit && name.length <= MAX_NAME_LENGTH) names.add(name);
}

/** The literal check keys and group names of one module, in source order. */
export function namesInSource(source: string): SourceOrder {
  return namesIn(source, tokensOf(source));
}

function namesIn(source: string, tokens: readonly Token[] | undefined): SourceOrder {
  if (!tokens) return { checks: [], groups: [] };
  const text = (t: Token | undefined) => (t ? source.slice(t.start, t.end) : '');
  const checks: string[] = [];
  const groups: string[] = [];
  tokens.forEach((token, i) => {
    if (token.type.label !== 'name' || text(tokens[i + 1]) !== '(') return;
    const name = text(token);
    if (name === 'group' && tokens[i + 2]?.type.label === 'string') {
      groups.push(literal(tokens[i + 2]));
    } else if (name === 'check') {
      checks.push(...objectKeys(tokens, secondArgument(tokens, i + 2)));
    }
  });
  return { checks, groups };
}

const OPEN = new Set(['(', '[', '{', '${']);
const CLOSE = new Set([')', ']', '}']);

/** Index of the token that starts a call's second argument (after `from`, the first's start). */
function secondArgument(tokens: readonly Token[], from: number): number {
  let depth = 0;
  for (let i = from; i < tokens.length; i++) {
    const label = tokens[i]?.type.label ?? '';
    if (OPEN.has(label)) depth++;
    else if (CLOSE.has(label)) {
      if (depth === 0) return -1;
      depth--;
    } else if (label === ',' && depth === 0) return i + 1;
  }
  return -1;
}

/** The literal keys of the object literal starting at `at` (`{`), in order. */
function objectKeys(tokens: readonly Token[], at: number): string[] {
  if (at < 0 || tokens[at]?.type.label !== '{') return [];
  const keys: string[] = [];
  let depth = 0;
  for (let i = at; i < tokens.length; i++) {
    const token = tokens[i];
    const label = token?.type.label ?? '';
    if (OPEN.has(label)) depth++;
    else if (CLOSE.has(label) && --depth === 0) break;
    const before = tokens[i - 1]?.type.label;
    if (!(before === '{' || before === ',') || depth !== (label === '[' ? 2 : 1)) continue;
    const key = label === '[' ? computedKey(tokens, i) : plainKey(tokens, i);
    if (key !== undefined) keys.push(key);
  }
  return keys;
}

const KEY_TOKENS = new Set(['string', 'name', 'num']);

/** `key:` or `'key':`. */
function plainKey(tokens: readonly Token[], i: number): string | undefined {
  const label = tokens[i]?.type.label ?? '';
  return KEY_TOKENS.has(label) && tokens[i + 1]?.type.label === ':'
    ? literal(tokens[i])
    : undefined;
}

/** `['key']:`, a computed key that is a literal (`['__proto__']` names a check, issue 17.11). */
function computedKey(tokens: readonly Token[], i: number): string | undefined {
  const inner = tokens[i + 1]?.type.label ?? '';
  const closed = tokens[i + 2]?.type.label === ']' && tokens[i + 3]?.type.label === ':';
  return (inner === 'string' || inner === 'num') && closed ? literal(tokens[i + 1]) : undefined;
}

/** A string, name or number token's value (acorn's typings leave `value` out). */
function literal(token: Token | undefined): string {
  return token ? String(Reflect.get(token, 'value')) : '';
}
