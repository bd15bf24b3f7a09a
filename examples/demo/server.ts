import type { AddressInfo } from 'node:net';
import { createDemoServer } from './app.js';

// `npm start`: the demo on HOST:PORT (default 127.0.0.1:3000: only this machine can reach it; HOST=0.0.0.0
// to serve the network), with SHARDS shard threads (default: the provider's), or over PostgreSQL with DATABASE_URL.
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
// DATABASE_URL=postgres://…: sessions in PostgreSQL, shared by every demo process given the same URL.
const databaseUrl = process.env.DATABASE_URL || undefined;
const demo = createDemoServer(
  databaseUrl
    ? { manager: { provider: 'postgres', providerOptions: { connectionString: databaseUrl } } }
    : shards === undefined
      ? {}
      : { shards },
);

demo.server.listen(port, host, () => {
  const { port: actual } = demo.server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  if (databaseUrl) {
    // Never the URL itself: it may hold a password.
    console.log(`shard-session demo on http://${shown}:${actual}/ (sessions in PostgreSQL)`);
    return;
  }
  const stats = demo.manager.stats();
  stats.then(
    (s) => console.log(`shard-session demo on http://${shown}:${actual}/ (${s.length} shard(s))`),
    () => console.log(`shard-session demo on http://${shown}:${actual}/`),
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
