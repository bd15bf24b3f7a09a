import pg from 'pg';
import { createPostgresProvider } from './dist/src/providers/postgres/provider.js';
import { generateSid, encodeValue } from './dist/src/index.js';
const pool = new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 4 });
const p = createPostgresProvider({ pool, schemaName: 'prof', gcIntervalMs: 0 });
const sids = Array.from({ length: 256 }, () => generateSid());
await Promise.all(sids.map((sid) => p.init(sid, { idleTimeoutMs: 1e6, absoluteTimeoutMs: 1e7 }, { set: [['user', encodeValue('u')], ['count', encodeValue(0)]] })));
async function t(name, f, n = 20) { await f(); const s = performance.now(); for (let i = 0; i < n; i++) await f(i); const ms = (performance.now() - s) / n; console.log(name, ms.toFixed(2), 'ms per batch of 256,', (ms * 1000 / 256).toFixed(1), 'µs/op'); }
await t('read x256', () => Promise.all(sids.map((sid) => p.read(sid))));
await t('incr x256', () => Promise.all(sids.map((sid) => p.incr(sid, 'count', 1))));
await t('commit 1 key x256', (i) => Promise.all(sids.map((sid) => p.commit(sid, { set: [['last', encodeValue(i ?? 0)]] }))));
await t('touch x256', () => Promise.all(sids.map((sid) => p.commit(sid, {}))));
await p.close(); await pool.query('DROP SCHEMA prof CASCADE'); await pool.end();
