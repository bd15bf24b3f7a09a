import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ROUTES, type Route } from './protocol.js';

/** Registers every shared route on `app`, each answering `answer`'s text as text/plain. */
export function registerRoutes(
  app: FastifyInstance,
  answer: (route: Route, request: FastifyRequest) => string | Promise<string>,
): void {
  for (const route of ROUTES) {
    app.get(`/${route}`, async (request, reply) => {
      reply.type('text/plain');
      return answer(route, request);
    });
  }
}

/** Listens on an ephemeral port of 127.0.0.1 and resolves the port. */
export async function listenFastify(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('Fastify did not listen on TCP');
  return address.port;
}

/** Closes the app and every connection it still holds (autocannon's sockets may linger). */
export async function closeFastify(app: FastifyInstance): Promise<void> {
  app.server.closeAllConnections();
  await app.close();
}
