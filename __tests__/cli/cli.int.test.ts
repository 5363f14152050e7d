/**
 * The CLI as users get it: the committed ncc bundle, copied alone into an
 * empty folder (no node_modules), run by node.
 */
import { beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { tempDir } from '../helpers/fs.js';
import { testK6Path } from '../helpers/k6.js';

const repoDist = fileURLToPath(new URL('../../dist', import.meta.url));
let cli: string;

function runCli(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [cli, ...args], { env }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

beforeEach(async () => {
  const dir = await tempDir();
  await cp(repoDist, join(dir, 'dist'), { recursive: true });
  cli = join(dir, 'dist', 'cli', 'index.js');
});

describe('dist/cli/index.js without node_modules', () => {
  it('--help describes the tool and its commands', async () => {
    const { code, stdout } = await runCli(['--help'], { PATH: process.env.PATH });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: k6-distributed/);
    expect(stdout).toMatch(/install-k6/);
  });

  it("issue 18.1: agents use k6's cloud output unless told --transport json", async () => {
    const { code, stdout } = await runCli(['run', '--help'], { PATH: process.env.PATH });
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /--transport <kind>[^]*\(choices: "json", "cloud", default: "cloud",[^]*K6_DISTRIBUTED_TRANSPORT/,
    );
  });

  it('install-k6 prints the path of the k6 it found', async () => {
    const { code, stdout, stderr } = await runCli(['install-k6'], {
      PATH: process.env.PATH,
      K6_PATH: testK6Path(),
    });
    expect({ code, stdout }).toEqual({ code: 0, stdout: `${testK6Path()}\n` });
    expect(stderr).toBe(`Using k6 v2.2.0 from K6_PATH: ${testK6Path()}\n`);
  });

  it('exits 1 with the fix when k6 cannot be provisioned', async () => {
    const { code, stderr } = await runCli(['install-k6', '--k6-version', 'latest'], {
      PATH: process.env.PATH,
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /error: "latest" is not a k6 version: give an exact release such as 2\.2\.0/,
    );
  });

  it('rejects an unknown command with a non-zero exit', async () => {
    const { code, stderr } = await runCli(['frobnicate'], { PATH: process.env.PATH });
    expect(code).toBe(1);
    expect(stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
