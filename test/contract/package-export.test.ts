import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// `shard-session/testing` as an app or a provider package loads it: through package.json's `exports`, from
// the build, both as ESM and with CommonJS require() (which needs the `default` condition on Node 20.19+).
const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

async function exportedNames(script: string, type: 'module' | 'commonjs'): Promise<string[]> {
  const { stdout } = await run(process.execPath, [`--input-type=${type}`, '-e', script], { cwd: root });
  return JSON.parse(stdout) as string[];
}

describe("the 'shard-session/testing' subpath", () => {
  it('resolves for import and for require, with its types', async () => {
    const expected = ['CONTRACT_LIMITS', 'ContractClock', 'describeProvider'];
    const imported =
      "const m = await import('shard-session/testing'); console.log(JSON.stringify(Object.keys(m)));";
    const required = "console.log(JSON.stringify(Object.keys(require('shard-session/testing'))));";
    expect((await exportedNames(imported, 'module')).sort()).toEqual(expected);
    expect((await exportedNames(required, 'commonjs')).sort()).toEqual(expected);
    expect(existsSync(`${root}/dist/src/testing/index.d.ts`)).toBe(true);
  });

  it('comes with the main entry, which CommonJS can require too (for the provider under test)', async () => {
    const required = "console.log(JSON.stringify(Object.keys(require('shard-session'))));";
    expect(await exportedNames(required, 'commonjs')).toContain('createMemoryProvider');
  });
});
