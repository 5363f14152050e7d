/**
 * Issue 20.6: with many agents the CLI's output stays readable (the
 * committed bundle, 21 local agents, real k6).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { CLI, exec } from '../helpers/cli-process.js';
import { tempDir } from '../helpers/fs.js';
import { TargetServer } from '../helpers/target-server.js';

describe('many agents (issue 20.6)', () => {
  it('21 local agents: joins by the tenth, no line per agent, the table lists only agents worth a look', async () => {
    const target = await TargetServer.start();
    const dir = await tempDir();
    await writeFile(
      join(dir, 'many.js'),
      `import http from 'k6/http';\nexport default function () { http.get(__ENV.TARGET + '/iteration'); }\n`,
    );
    const ran = await exec(
      process.execPath,
      [
        CLI,
        'run',
        '--agents',
        '21',
        '-u',
        '21',
        '-i',
        '21',
        '-e',
        `TARGET=${target.url}`,
        'many.js',
      ],
      dir,
    );

    expect(ran.code).toBe(0);
    expect(target.count('/iteration')).toBe(21);
    // Before: a join, register, segment and release line per agent (84 lines).
    expect(ran.stderr).not.toMatch(/\[local-\d+\] (registered|segment|released)/);
    expect(ran.stderr).not.toMatch(/ joined \(/);
    expect(ran.stderr).toMatch(/^all 21 agents joined in \d+\.\d s \(the last: agent 21 /m);
    expect(ran.stderr).toMatch(/^every k6 is paused and ready \(21 agents: 4\.76% of the test/m);
    // Beside the progress (a running line and the scenario's, every second of the run).
    const said = ran.stderr.split('\n').filter((l) => !/^running \(|^default +\[ *\d+% \]/.test(l));
    expect(said.length).toBeLessThan(25);
    const table = ran.stdout.split('\n').filter((l) => /^ {4}\d+\*? /.test(l));
    expect(table.length).toBeLessThanOrEqual(4);
    expect(ran.stdout).toMatch(
      /… \d+ more agents, not listed: each ran its share and its k6 exited 0/,
    );
  }, 120_000);
});
