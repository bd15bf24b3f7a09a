import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The package as a new user gets it: `npm pack`, installed from the tarball into fresh projects, each with
// only its own peers, type-checked with skipLibCheck off (the compiler's default) and run. Packing or
// installing failing fails every test here: nothing is skipped. Installs reuse the local npm cache
// (--prefer-offline) at the versions this repository's lock file resolved, so they are quick.
const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const fixtures = join(root, 'test/fixtures/packaged-apps');
const tsc = join(root, 'node_modules/typescript/bin/tsc');

/** The version this repository installed, so the install finds it in the npm cache. */
async function pinned(name: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8'));
  return `${name}@${manifest.version}`;
}

interface PackedFile {
  readonly path: string;
}

const apps = {
  'node-http': { peers: [] as string[], expect: ['cjs 1 2', 'esm 1 2'] },
  express: { peers: ['express', '@types/express'], expect: ['express 1 2'] },
  'express-session': {
    peers: ['express', 'express-session', '@types/express-session'],
    expect: ['express-session 1 2 1'],
  },
  // @fastify/session with the store: express-session is installed for the Store class the store extends.
  'fastify-session': {
    peers: ['fastify', '@fastify/cookie', '@fastify/session', 'express-session', '@types/express-session'],
    expect: ['fastify-session 1 2'],
  },
} as const;
type AppName = keyof typeof apps;

/** What one project gave: the peers present in its node_modules, and each compiled app's output. */
interface Outcome {
  readonly peersPresent: string[];
  readonly outputs: string[];
}

let workdir: string;
let packedFiles: string[];
const outcomes = new Map<AppName, Promise<Outcome>>();

beforeAll(async () => {
  workdir = await mkdtemp(join(tmpdir(), 'shard-session-pack-'));
  // dist/ is built by `npm test` before vitest runs; --ignore-scripts: do not rebuild it under other tests' feet.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', workdir], {
    cwd: root,
  });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: PackedFile[] }>;
  if (!packed || !existsSync(join(workdir, packed.filename)))
    throw new Error(`npm pack made no tarball: ${stdout}`);
  packedFiles = packed.files.map((file) => file.path).sort();
  const tarball = join(workdir, packed.filename);
  // Every project goes through install, compile and run at once: installs wait on the cache and the
  // registry, so the compilers overlap them. Each test below awaits its project's outcome.
  for (const name of Object.keys(apps) as AppName[]) {
    const outcome = install(name, tarball).then(compileAndRun);
    outcome.catch(() => undefined); // reported by the project's test, not as an unhandled rejection
    outcomes.set(name, outcome);
  }
}, 60_000);

afterAll(async () => {
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

/** A fresh project with the app's files, the tarball and the app's peers installed. */
async function install(name: AppName, tarball: string): Promise<string> {
  const dir = join(workdir, name);
  await cp(join(fixtures, name), dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `app-${name}`, private: true }));
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'es2022',
        // A server app: no DOM types (they would double the compiler's work), fetch comes from @types/node.
        lib: ['es2022'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        skipLibCheck: false,
        esModuleInterop: true,
        types: ['node'],
        outDir: 'out',
      },
      include: ['*.mts', '*.cts'],
    }),
  );
  const packages = await Promise.all([...apps[name].peers, '@types/node'].map(pinned));
  await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...packages],
    { cwd: dir },
  );
  return dir;
}

describe('the npm tarball', () => {
  it('holds the build, README, LICENSE, CHANGELOG and nothing else', () => {
    const others = packedFiles.filter((path) => !/^dist\/src\/.+\.(js|cjs|d\.ts)$/.test(path));
    expect(others).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
    for (const entry of ['index', 'express', 'fastify', 'express-session']) {
      expect(packedFiles).toContain(`dist/src/${entry}.js`);
      expect(packedFiles).toContain(`dist/src/${entry}.d.ts`);
    }
    expect(packedFiles).toContain('dist/src/providers/sharded/worker.js');
    expect(packedFiles).toContain('dist/src/providers/sharded/worker-entry.cjs');
  });
});

async function compileAndRun(dir: string): Promise<Outcome> {
  const peersPresent = ['fastify', 'express', 'express-session'].filter((peer) =>
    existsSync(join(dir, 'node_modules', peer)),
  );
  await run(process.execPath, [tsc, '-p', dir]); // rejects with the compiler's errors
  const outputs: string[] = [];
  for (const file of ['out/app.cjs', 'out/app.mjs'].filter((f) => existsSync(join(dir, f)))) {
    const { stdout } = await run(process.execPath, [file], { cwd: dir, timeout: 20_000 });
    outputs.push(stdout.trim());
  }
  return { peersPresent, outputs };
}

describe.each(Object.keys(apps) as AppName[])('a new %s project using the installed tarball', (name) => {
  it('installs only its own peers, type-checks with skipLibCheck off, and runs', async () => {
    const { peersPresent, outputs } = await (outcomes.get(name) as Promise<Outcome>);
    const ownPeers = apps[name].peers as readonly string[];
    expect(peersPresent).toEqual(
      ['fastify', 'express', 'express-session'].filter((p) => ownPeers.includes(p)),
    );
    expect(outputs).toEqual(apps[name].expect);
  }, 90_000);
});
