import { existsSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SessionError } from '../../errors.js';

/**
 * The shard worker's file: `worker-entry.cjs`, which loads `worker.js` with `import()` (see there why).
 * Worker threads load JavaScript: from the build this is the sibling file;
 * when this module runs from TypeScript sources (vitest), the same file in the build output (dist/) is
 * used, so `npm run build` must have run first.
 */
export function workerFilename(): string {
  const sibling = fileURLToPath(new URL('./worker-entry.cjs', import.meta.url));
  if (existsSync(sibling)) return sibling;
  const marker = `${sep}src${sep}`;
  const at = sibling.lastIndexOf(marker);
  const built = at < 0 ? '' : `${sibling.slice(0, at)}${sep}dist${sibling.slice(at)}`;
  if (built && existsSync(built)) return built;
  throw new SessionError(
    'ERR_WORKER_NOT_BUILT',
    `shard worker not found at ${sibling}: run \`npm run build\``,
  );
}
