import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from './types.js';

/** The repository root: the nearest directory above this module whose package.json is shard-session's. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).name === 'shard-session') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the shard-session package root');
    dir = parent;
  }
}

/** What the numbers were measured on. */
export function describeMachine(): BenchReport['machine'] {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    totalMemoryBytes: totalmem(),
    platform: process.platform,
    release: release(),
    loadAverage: loadavg(),
  };
}

const MEASURED_PACKAGES = [
  'autocannon',
  'express-session',
  '@fastify/session',
  '@fastify/cookie',
  'fastify',
  'piscina',
  'msgpackr',
];

/** Node's and every measured package's version, as installed. */
export function describeVersions(): Record<string, string> {
  const root = projectRoot();
  const versionOf = (file: string) => {
    try {
      return String(JSON.parse(readFileSync(file, 'utf8')).version);
    } catch {
      return 'unknown';
    }
  };
  const versions: Record<string, string> = {
    node: process.versions.node,
    'shard-session': versionOf(join(root, 'package.json')),
  };
  for (const name of MEASURED_PACKAGES)
    versions[name] = versionOf(join(root, 'node_modules', name, 'package.json'));
  return versions;
}
