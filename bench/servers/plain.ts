import { createServer } from 'node:http';
import { closeServer, listen, readBody, send } from './http-util.js';
import { type BenchServer, type RouteCounters, routeOf } from './protocol.js';

/** No sessions at all: what node:http does with the same routes, the upper bound for every other server. */
export async function createPlainServer(counters: RouteCounters): Promise<BenchServer> {
  // One process-wide counter stands in for the session's, so hot-session has something to check.
  let count = 0;
  const server = createServer((req, res) => {
    switch (routeOf(req.url)) {
      case 'new':
        return send(res, 200, 'ok');
      case 'read':
      case 'write':
        return send(res, 200, readBody('u', count));
      case 'count':
        return send(res, 200, String(count));
      case 'incr':
        count += 1;
        counters.incrAcks += 1;
        return send(res, 200, String(count));
      default:
        return send(res, 404, 'not found');
    }
  });
  const port = await listen(server);
  return {
    port,
    // No store to fill: answer empty cookies, which the harness sends as no Cookie header at all.
    prefill: async (count, sample) => Array.from({ length: Math.min(count, sample) }, () => ''),
    close: () => closeServer(server),
  };
}
