/**
 * `shard-session/fastify`: the Fastify plugin. Its own subpath because its types import `fastify` (an
 * optional peer): the main entry's types must type-check in an app that never installed Fastify.
 * @packageDocumentation
 */

export {
  type FastifySessionData,
  type FastifySessionPluginOptions,
  fastifySessionPlugin,
} from './http/fastify.js';
