import { createServer } from 'node:http';
import { closeServer, listen, readBody, send } from './http-util.js';
import { type BenchServer, type Route, type RouteCounters, routeOf, type ServerContext } from './protocol.js';

/**
 * The answer of a server without sessions. One process-wide counter stands in for the session's, so
 * hot-session has something to check.
 */
export function plainRoutes(counters: RouteCounters): (route: Route) => string {
  let count = 0;
  return (route) => {
    switch (route) {
      case 'new':
        return 'ok';
      case 'read':
      case 'write':
        return readBody('u', count);
      case 'count':
        return String(count);
      case 'incr':
        count += 1;
        counters.incrAcks += 1;
        return String(count);
    }
  };
}

/** No store to fill: empty cookies, which the harness sends as no Cookie header at all. */
export async function noPrefill(count: number, sample: number): Promise<string[]> {
  return Array.from({ length: Math.min(count, sample) }, () => '');
}

/** No sessions at all: what node:http does with the same routes, the upper bound for every other server. */
export async function createPlainServer({ counters }: ServerContext): Promise<BenchServer> {
  const answer = plainRoutes(counters);
  const server = createServer((req, res) => {
    const route = routeOf(req.url);
    if (route === null) return send(res, 404, 'not found');
    send(res, 200, answer(route));
  });
  const port = await listen(server);
  return { port, prefill: noPrefill, close: () => closeServer(server) };
}
