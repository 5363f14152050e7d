import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';

import { tokenizer, type Token } from 'acorn';
import { extract } from 'tar-stream';

/** Modules k6 runs; other archived files (open()ed data) are not code. */
const MODULE = /\.(?:[cm]?js|[cm]?ts)$/;

/** Longest module read whole: past this a file is data, not a script someone wrote. */
const MAX_MODULE_BYTES = 8 * 1024 * 1024;

export const TOKENIZER_OPTIONS = {
  ecmaVersion: 'latest',
  sourceType: 'module',
  allowHashBang: true,
  allowAwaitOutsideFunction: true,
  locations: true,
} as const;

/** One module of a k6 archive, tokenized once for every reader of it. */
export interface ArchivedModule {
  source: string;
  /** As the user knows it: their path for the entry script, `/tmp/x/lib.js`, `https://…`. */
  name: string;
  /** acorn's tokens; undefined when acorn cannot read the source (TypeScript). */
  tokens: Token[] | undefined;
}

/** The tokens of `source`, or undefined when acorn cannot read it. */
export function tokensOf(source: string): Token[] | undefined {
  try {
    return [...tokenizer(source, TOKENIZER_OPTIONS)];
  } catch {
    return undefined;
  }
}

/**
 * Calls `visit` with every module in a k6 archive: the entry script (`data`,
 * named `entry`) and every module it imports, local (`file/…`) or remote
 * (`https/…`), each read and tokenized once.
 */
export async function forEachModule(
  archivePath: string,
  entry: string,
  visit: (module: ArchivedModule) => void,
): Promise<void> {
  const tar = extract();
  const scan = (async () => {
    for await (const file of tar) {
      const path = file.header.name;
      const isModule = path === 'data' || MODULE.test(path);
      if (file.header.type !== 'file' || !isModule || file.header.size > MAX_MODULE_BYTES) {
        file.resume();
        continue;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of file) chunks.push(chunk as Buffer);
      const source = Buffer.concat(chunks).toString('utf8');
      const name = path === 'data' ? entry : archivedModuleName(path);
      visit({ source, name, tokens: tokensOf(source) });
    }
  })();
  await Promise.all([pipeline(createReadStream(archivePath), tar), scan]);
}

/** `file/tmp/x/lib.js` → `/tmp/x/lib.js`; `https/jslib.k6.io/a.js` → `https://jslib.k6.io/a.js`. */
function archivedModuleName(path: string): string {
  const slash = path.indexOf('/');
  const scheme = path.slice(0, slash);
  const rest = path.slice(slash + 1);
  return scheme === 'file' ? `/${rest}` : `${scheme}://${rest}`;
}

/** One thing learnt from every module of an archive: fed each module, asked for the result once. */
export interface ModuleReader<T> {
  visit(module: ArchivedModule): void;
  result(): T;
}
