import type { FastifyPluginAsync } from 'fastify';
import { InvalidOptionError } from '../errors.js';
import type { SessionManager } from '../manager.js';
import type { Session, SessionData } from '../session.js';
import { isRetryable, RETRY_AFTER_SECONDS } from './errors.js';

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

const plugin: FastifyPluginAsync<FastifySessionPluginOptions> = async (app, options) => {
  const manager = options?.manager;
  if (!manager || typeof manager.start !== 'function') {
    throw new InvalidOptionError('fastifySessionPlugin needs { manager } (from createSessionManager)');
  }
  app.decorateRequest('session', null as unknown as Session<RequestSessionData>);
  app.addHook('onRequest', async (request, reply) => {
    try {
      request.session = await manager.start(request.raw, reply.raw);
    } catch (error) {
      if (!isRetryable(error)) throw error;
      reply.code(503).header('Retry-After', String(RETRY_AFTER_SECONDS));
      return reply.send({ error: 'Service Unavailable', message: 'session store unavailable' });
    }
  });
};

// What fastify-plugin does: skip encapsulation so request.session exists in every route, whatever
// context registered the plugin, and name the plugin for Fastify's dependency checks.
const meta = plugin as unknown as Record<symbol, unknown>;
meta[Symbol.for('skip-override')] = true;
meta[Symbol.for('fastify.display-name')] = 'shard-session';
meta[Symbol.for('plugin-meta')] = { name: 'shard-session', fastify: '5.x' };

/**
 * Fastify plugin that sets `request.session` in every route (it applies across encapsulation, like a plugin
 * wrapped in fastify-plugin). A failure that passes by itself (overload, a shard restarting, an unreachable store) is
 * answered 503 with Retry-After; other failures go to Fastify's error handler.
 *
 * ```ts
 * await app.register(fastifySessionPlugin, { manager });
 * app.get('/', async (request) => String(await request.session.incr('count')));
 * ```
 */
export const fastifySessionPlugin: FastifyPluginAsync<FastifySessionPluginOptions> = plugin;
