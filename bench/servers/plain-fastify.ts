import Fastify from 'fastify';
import { closeFastify, listenFastify, registerRoutes } from './fastify-util.js';
import { noPrefill, plainRoutes } from './plain.js';
import type { BenchServer, ServerContext } from './protocol.js';

/**
 * Fastify 5 with the same routes and no sessions: the upper bound of a Fastify app on this machine, so the
 * Fastify-based session servers are compared with what Fastify itself costs, not with node:http.
 */
export async function createPlainFastifyServer({ counters }: ServerContext): Promise<BenchServer> {
  const app = Fastify({ logger: false });
  const answer = plainRoutes(counters);
  registerRoutes(app, (route) => answer(route));
  const port = await listenFastify(app);
  return { port, prefill: noPrefill, close: () => closeFastify(app) };
}
