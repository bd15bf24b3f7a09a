import { randomBytes } from 'node:crypto';
import { createSessionManager, type SessionManager, withSession } from '../../src/index.js';
import { DATABASE_URL, freshSchemaName } from '../support/postgres.js';
import type { Clock } from '../support/session-helpers.js';

/** The schema the 'postgres' cases work in (users.test.ts drops it); each manager has tables of its own there. */
export const POSTGRES_SCHEMA = freshSchemaName('user_sessions');

/** The providers the user-session tests run on: one table, or two and four shards (a user's sessions spread). */
export const PROVIDERS = [
  { name: 'memory', provider: 'memory' as const, providerOptions: { gcIntervalMs: 0 } },
  {
    name: 'sharded (2 shards)',
    provider: 'sharded' as const,
    providerOptions: { shards: 2, gcIntervalMs: 0 },
  },
  {
    name: 'sharded (4 shards)',
    provider: 'sharded' as const,
    providerOptions: { shards: 4, gcIntervalMs: 0 },
  },
  {
    name: 'postgres',
    provider: 'postgres' as const,
    providerOptions: { connectionString: DATABASE_URL, schemaName: POSTGRES_SCHEMA, gcIntervalMs: 0 },
  },
];
export type ProviderCase = (typeof PROVIDERS)[number];

/** A manager on `clock`, with the manager's default timeouts (30m idle, 24h absolute). */
export function userManager(choice: ProviderCase, clock: Clock): SessionManager {
  return createSessionManager({
    provider: choice.provider,
    providerOptions:
      choice.provider === 'postgres'
        ? { ...choice.providerOptions, tableName: `t_${randomBytes(6).toString('hex')}` }
        : choice.providerOptions,
    now: clock.now,
    maxTimeouts: { idle: '30d', absolute: '30d' },
  } as Parameters<typeof createSessionManager>[0]);
}

/**
 * A node:http app: /login?user=&remember=1 (regenerate, setUser, flash), /me (who, handle, the flash once),
 * /logout-everywhere?keep=1 (revokeUser, maybe but this device).
 */
export function userApp(manager: SessionManager) {
  return withSession(manager, async (req, res, session) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const json = (body: unknown) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    switch (url.pathname) {
      case '/login': {
        await session.regenerate();
        await session.setUser(url.searchParams.get('user') ?? 'ann', {
          label: req.headers['user-agent'] ?? '',
        });
        if (url.searchParams.get('remember') === '1')
          await session.setTimeouts({ idle: '30d', absolute: '30d' });
        session.flash('notice', 'welcome');
        return json({ handle: session.handle, userId: session.userId, id: session.id });
      }
      case '/me':
        return json({
          userId: session.userId ?? null,
          handle: session.handle ?? null,
          notice: session.takeFlash('notice') ?? null,
          keys: session.keys(),
        });
      case '/logout-everywhere': {
        const userId = session.userId;
        if (userId === undefined) return json({ revoked: 0 });
        const except = url.searchParams.get('keep') === '1' ? session.handle : undefined;
        return json({ revoked: await manager.revokeUser(userId, { except }) });
      }
      default:
        res.statusCode = 404;
        res.end();
    }
  });
}
