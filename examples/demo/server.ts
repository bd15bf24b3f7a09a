import type { AddressInfo } from 'node:net';
import { type SessionManagerOptions, StorageError } from '../../src/index.js';
import { createDemoServer, type DemoOptions } from './app.js';

// `npm start`: the demo on HOST:PORT (default 127.0.0.1:3000: only this machine can reach it; HOST=0.0.0.0
// to serve the network), with SHARDS shard threads (default: the provider's). With REDIS_URL
// (redis://127.0.0.1:6379) or REDIS_CLUSTER (host:port,host:port,…) the sessions live in Redis instead, and
// with DATABASE_URL (postgres://…) in PostgreSQL, so several demo processes, on one machine or many, share them.
// Otherwise the shard threads keep them in LMDB files in SESSION_DIR (default `.sessions` under the working
// directory), so a restart of the demo keeps everyone logged in; `SESSION_DIR=` (empty) keeps them in memory.
function integerFromEnv(name: string, fallback: number | undefined, min: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    console.error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

const port = integerFromEnv('PORT', 3000, 0) as number;
const host = process.env.HOST || '127.0.0.1';
const shards = integerFromEnv('SHARDS', undefined, 1);
const sessionDir = process.env.SESSION_DIR ?? '.sessions';
const demo = startDemo();

/** The demo, or a clear line and exit 2 if its session files cannot be used (another demo holds them, say). */
function startDemo() {
  try {
    return createDemoServer(demoOptions());
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    console.error(
      `${error.message}\n(SESSION_DIR=/another/dir moves the session files; SESSION_DIR= runs in memory)`,
    );
    process.exit(2);
  }
}

function demoOptions(): DemoOptions {
  const cluster = process.env.REDIS_CLUSTER;
  const url = process.env.REDIS_URL;
  const databaseUrl = process.env.DATABASE_URL;
  let manager: SessionManagerOptions | undefined;
  if (cluster) manager = { provider: 'redis', providerOptions: { cluster: cluster.split(',') } };
  else if (url) manager = { provider: 'redis', providerOptions: { url } };
  else if (databaseUrl)
    manager = { provider: 'postgres', providerOptions: { connectionString: databaseUrl } };
  if (manager) return { manager };
  return { ...(shards !== undefined && { shards }), ...(sessionDir && { dir: sessionDir }) };
}

function storeName(): string {
  if (process.env.REDIS_CLUSTER) return 'Redis Cluster';
  if (process.env.REDIS_URL) return 'Redis';
  return sessionDir ? `shard threads, LMDB in ${sessionDir}` : 'shard threads, in memory';
}

demo.server.listen(port, host, () => {
  const { port: actual } = demo.server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  if (process.env.DATABASE_URL) {
    // Never the URL itself: it may hold a password. (And no stats: they count the table's rows.)
    console.log(`shard-session demo on http://${shown}:${actual}/ (sessions in PostgreSQL)`);
    return;
  }
  const stats = demo.manager.stats();
  stats.then(
    (s) =>
      console.log(
        `shard-session demo on http://${shown}:${actual}/ (${storeName()}: ${s.length} partition(s))`,
      ),
    () => console.log(`shard-session demo on http://${shown}:${actual}/ (${storeName()})`),
  );
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: closing`);
  // In-flight requests finish; if something hangs, do not wait forever.
  setTimeout(() => process.exit(1), 5000).unref();
  await demo.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
