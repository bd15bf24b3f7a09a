import type { FastifyPluginAsync } from 'fastify';
import { InvalidOptionError } from '../errors.js';
import type { SessionManager } from '../manager.js';
import type { Session, SessionData } from '../session.js';
import { isRetryable } from './errors.js';

/**
 * The shape of `request.session` under Fastify. Augment it to type your data app-wide:
 * `declare module 'shard-session/fastify' { interface FastifySessionData { count: number } }`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: an interface users extend by declaration merging.
export interface FastifySessionData {}

type RequestSessionData = keyof FastifySessionData extends never ? SessionData : FastifySessionData;

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's session, set by `fastifySessionPlugin`. */
    session: Session<RequestSessionData>;
  }
}

/** Options of {@link fastifySessionPlugin}. */
export interface FastifySessionPluginOptions {
  // biome-ignore lint/suspicious/noExplicitAny: any manager's data fits; request.session is typed by FastifySessionData.
  manager: SessionManager<any>;
}

// Fastify hands its own register options (`prefix`, `logLevel`, `logSerializers`) to the plugin beside ours.
const OPTION_NAMES = new Set(['manager', 'prefix', 'logLevel', 'logSerializers']);

const plugin: FastifyPluginAsync<FastifySessionPluginOptions> = async (app, options) => {
  const manager = options?.manager;
  if (!manager || typeof manager.start !== 'function') {
    throw new InvalidOptionError('fastifySessionPlugin needs { manager } (from createSessionManager)');
  }
  // @fastify/session's options (secret, cookieName, cookie …) are the manager's here: refused, not ignored.
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) {
      throw new InvalidOptionError(
        `unknown option '${name}' of fastifySessionPlugin: cookie, secrets and timeouts are options of createSessionManager`,
      );
    }
  }
  app.decorateRequest('session', null as unknown as Session<RequestSessionData>);
  app.addHook('onRequest', async (request, reply) => {
    try {
      request.session = await manager.start(request.raw, reply.raw);
    } catch (error) {
      if (!isRetryable(error)) throw error;
      reply.code(error.statusCode).headers(error.headers);
      return reply.send({ error: 'Service Unavailable', message: 'session store unavailable' });
    }
  });
};

// What fastify-plugin does: skip encapsulation, so that request.session exists in every route of the context
// that registered the plugin and of its children (registered at the root: every route), and name the plugin
// for Fastify's dependency checks.
const meta = plugin as unknown as Record<symbol, unknown>;
meta[Symbol.for('skip-override')] = true;
meta[Symbol.for('fastify.display-name')] = 'shard-session';
meta[Symbol.for('plugin-meta')] = { name: 'shard-session', fastify: '5.x' };

/**
 * Fastify plugin that sets `request.session` in every route of the context that registers it and its children,
 * as a plugin wrapped in fastify-plugin does: register it at the root for every route (inside a plugin, routes
 * outside that plugin get no session). A failure that passes by itself (overload, a shard restarting, an
 * unreachable store) is answered 503 with Retry-After while the session loads; thrown later by the handler, it
 * reaches Fastify's error handler carrying `statusCode` 503 and that header, which the default handler sends.
 * Other failures go to Fastify's error handler. Options other than `manager` (and Fastify's `prefix`,
 * `logLevel`, `logSerializers`) are refused with `InvalidOptionError`.
 *
 * ```ts
 * await app.register(fastifySessionPlugin, { manager });
 * app.get('/', async (request) => String(await request.session.incr('count')));
 * ```
 */
export const fastifySessionPlugin: FastifyPluginAsync<FastifySessionPluginOptions> = plugin;
