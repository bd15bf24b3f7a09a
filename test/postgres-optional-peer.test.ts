import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// `pg` is an optional peer dependency: an app without it installed imports shard-session, and only building a
// 'postgres' provider from a connection string asks for it. Checked on the build, in a copy of the package
// whose node_modules holds everything but pg.
const root = fileURLToPath(new URL('..', import.meta.url));
const built = existsSync(join(root, 'dist/src/index.js'));
const run = promisify(execFile);
let app: string | undefined;

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

function appWithoutPg(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shard-session-no-pg-'));
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  cpSync(join(root, 'dist/src'), join(dir, 'dist/src'), { recursive: true });
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === 'pg' || name === '.bin') continue;
    symlinkSync(join(root, 'node_modules', name), join(modules, name));
  }
  writeFileSync(
    join(dir, 'probe.mjs'),
    `import { createSessionManager, postgresSchemaSql } from 'shard-session';
const out = { schema: postgresSchemaSql().includes('CREATE TABLE IF NOT EXISTS "shard_sessions"') };
try {
  createSessionManager({ provider: 'postgres', providerOptions: { connectionString: 'postgres://127.0.0.1/x' } });
} catch (error) {
  out.code = error.code;
  out.message = error.message;
}
console.log(JSON.stringify(out));`,
  );
  return dir;
}

describe("without the 'pg' package", () => {
  it.skipIf(!built)("imports shard-session, and a 'postgres' provider says what to install", async () => {
    app = appWithoutPg();
    const { stdout } = await run(process.execPath, ['probe.mjs'], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({
      schema: true,
      code: 'ERR_INVALID_OPTION',
      message: "the 'postgres' provider needs the 'pg' package (node-postgres): npm install pg",
    });
  });
});
