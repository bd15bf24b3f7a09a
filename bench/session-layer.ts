/**
 * The session layer's CPU per request without sockets: the bench's `/read` and `/incr` routes run on node:http
 * request and response objects over an unconnected socket, 100 in flight, each request a different session of
 * `sessions` taken in turn (read-modify-write's pattern), with the bench's signed cookie and the 'memory'
 * provider or one shard ('sharded': process CPU, so the shard thread's counts too; 100 in flight make frames
 * of many operations, as saturation does); `map` is the same routes on the map server's plain Map. No client
 * shares the CPU and no kernel write is timed, so the figures hold on a busy machine better than the HTTP
 * bench's: in one run at load ~20, the HTTP bench's map ranged 2x between repeats while these stayed within
 * ~15 %.
 * Run: `npm run build && node dist/bench/session-layer.js [sessions]` (default 10,000; the cost scenario's
 * connections use 5,000 of them).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { encodeValue } from '../src/codec.js';
import { createSessionManager } from '../src/manager.js';
import type { ProviderChoice } from '../src/options.js';
import { generateSid } from '../src/sid.js';
import { createIdSigner } from '../src/transport/signing.js';
import { cookieValue, readBody, send } from './servers/http-util.js';
import { ABSOLUTE_TIMEOUT_MS, BENCH_SECRET, IDLE_TIMEOUT_MS } from './servers/protocol.js';
import type { BenchData } from './servers/shard-common.js';

const SESSIONS = Number(process.argv[2] ?? 10_000);
const IN_FLIGHT = 100;
const REQUESTS = 40_000;
const ROUNDS = 5;

type Route = 'read' | 'incr';
type Handler = (req: IncomingMessage, res: ServerResponse, route: Route) => Promise<void> | void;
interface Server {
  readonly handler: Handler;
  readonly cookies: string[];
  close?(): Promise<void>;
}

/** shard-session with the given provider, as bench/servers/shard.ts configures and answers it. */
async function shardSession(choice: ProviderChoice): Promise<Server> {
  const manager = createSessionManager<BenchData>({
    ...choice,
    cookieName: 'sid',
    idleTimeout: IDLE_TIMEOUT_MS,
    absoluteTimeout: ABSOLUTE_TIMEOUT_MS,
    secrets: BENCH_SECRET,
  });
  const signer = createIdSigner(BENCH_SECRET);
  const initial = { set: [['user', encodeValue('u')] as const, ['count', encodeValue(0)] as const] };
  const cookies: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const sid = generateSid();
    await manager.provider.init(sid, manager.policy, initial);
    cookies.push(`sid=${encodeURIComponent(signer.sign(sid))}`);
  }
  const handler: Handler = async (req, res, route) => {
    const session = await manager.start(req, res);
    const body =
      route === 'incr'
        ? String(await session.incr('count', 1))
        : readBody(session.get('user'), session.get('count') ?? 0);
    send(res, 200, body);
  };
  return { handler, cookies, close: () => manager.close() };
}

/** The map server's store and routes (bench/servers/map.ts), without its Set-Cookie for new sessions. */
function map(): Server {
  const sessions = new Map<string, { user: string; count: number; expiresAt: number }>();
  const cookies: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const sid = generateSid();
    sessions.set(sid, { user: 'u', count: 0, expiresAt: Date.now() + IDLE_TIMEOUT_MS });
    cookies.push(`sid=${sid}`);
  }
  const handler: Handler = (req, res, route) => {
    const session = sessions.get(cookieValue(req, 'sid') ?? '');
    if (session === undefined) throw new Error('a prefilled session is missing');
    session.expiresAt = Date.now() + IDLE_TIMEOUT_MS;
    if (route === 'incr') session.count += 1;
    send(res, 200, route === 'incr' ? String(session.count) : readBody(session.user, session.count));
  };
  return { handler, cookies };
}

/** CPU µs per request of `requests` requests, `IN_FLIGHT` at a time, sessions taken in turn. */
async function cpuPerRequest(server: Server, route: Route, requests: number) {
  const socket = new Socket();
  let next = 0;
  const lane = async () => {
    while (next < requests) {
      const cookie = server.cookies[next++ % server.cookies.length] as string;
      const req = new IncomingMessage(socket);
      req.method = 'GET';
      req.url = `/${route}`;
      req.headers = { host: '127.0.0.1', cookie };
      await server.handler(req, new ServerResponse(req), route);
    }
  };
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / requests;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function main(): Promise<void> {
  const servers: Record<string, Server> = {
    map: map(),
    'shard-memory': await shardSession({ provider: 'memory' }),
    'shard-sharded-1': await shardSession({ provider: 'sharded', providerOptions: { shards: 1 } }),
  };
  for (const route of ['read', 'incr'] as const) {
    // Warm-up: the JIT, and every cookie seen once (a cookie is remembered once it verified).
    for (const server of Object.values(servers)) await cpuPerRequest(server, route, 2 * SESSIONS);
    const figures = new Map<string, number[]>(Object.keys(servers).map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, server] of Object.entries(servers)) {
        figures.get(name)?.push(await cpuPerRequest(server, route, REQUESTS));
      }
    }
    const mapUs = median(figures.get('map') ?? []);
    const spread = (v: number[]) => `[${Math.min(...v).toFixed(1)}–${Math.max(...v).toFixed(1)}]`;
    const rows = [...figures].map(([name, us]) => {
      const ratio = name === 'map' ? '' : ` ${(median(us) / mapUs).toFixed(2)}× map`;
      return `${name} ${median(us).toFixed(1)} µs ${spread(us)}${ratio}`;
    });
    console.log(`/${route}, ${SESSIONS} sessions: ${rows.join(', ')}`);
  }
  for (const server of Object.values(servers)) await server.close?.();
}

await main();
