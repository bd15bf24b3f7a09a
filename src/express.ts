/**
 * `shard-session/express`: the Express/Connect middleware. Its own subpath so that an app that uses only
 * node:http or Fastify never loads it; it needs no peer (its types are node:http's).
 * @packageDocumentation
 */

export {
  createExpressMiddleware,
  getSession,
  type RequestWithSession,
  type SessionMiddleware,
} from './http/express.js';
