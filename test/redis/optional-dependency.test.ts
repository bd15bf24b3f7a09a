import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// ioredis is an optional peer dependency: an app installs shard-session without it, imports it, type-checks
// against its declarations with skipLibCheck off, and only a 'redis' provider asks for it. Checked on an app
// of its own in a temp directory: the package as built (dist/, package.json) and every installed package
// but ioredis.
const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
let app: string;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'shard-session-no-ioredis-'));
  const modules = join(app, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === 'ioredis' || name === '.bin' || name.startsWith('.')) continue;
    symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
  const own = join(modules, 'shard-session');
  mkdirSync(own);
  cpSync(join(root, 'package.json'), join(own, 'package.json'));
  cpSync(join(root, 'dist/src'), join(own, 'dist/src'), { recursive: true });
  writeFileSync(
    join(app, 'app.ts'),
    [
      "import { createSessionManager, type RedisProviderOptions } from 'shard-session';",
      "const options: RedisProviderOptions = { url: 'redis://127.0.0.1:6379', prefix: 'app:' };",
      "export const make = () => createSessionManager({ provider: 'redis', providerOptions: options });",
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        // A Node app's lib (as @tsconfig/node20 sets it): without DOM, whose declarations alone take 7 s to check.
        lib: ['ES2023'],
        types: ['node'],
        skipLibCheck: false,
        noEmit: true,
      },
      files: ['app.ts'],
    }),
  );
  writeFileSync(join(app, 'package.json'), JSON.stringify({ type: 'module', private: true }));
});

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('an app without ioredis', () => {
  it('imports shard-session, and a redis provider asks for ioredis with an InvalidOptionError', async () => {
    const script = [
      "const m = await import('shard-session');",
      "try { m.createSessionManager({ provider: 'redis' }); console.log('built'); }",
      'catch (e) { console.log(JSON.stringify({ code: e.code, name: e.name, message: e.message })); }',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: app });
    const outcome = JSON.parse(stdout);
    expect(outcome).toMatchObject({ code: 'ERR_INVALID_OPTION', name: 'InvalidOptionError' });
    expect(outcome.message).toContain('npm install ioredis');
  });

  it('type-checks against the published declarations with skipLibCheck off', async () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', app]).catch((error: { stdout: string }) => error);
    expect(result.stdout).toBe('');
    // A whole tsc run without skipLibCheck: ~17 s alone on this 2-core machine, over 30 s while the rest of the
    // suite runs beside it.
  }, 90_000);
});
