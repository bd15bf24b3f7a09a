import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a server on 127.0.0.1, for tests of what crosses the network:
 * - it counts the chunks clients send (`chunks`): each `write` that reaches the proxy as a separate chunk is
 *   a separate trip, so commands issued in one event-loop turn are seen leaving together;
 * - a test can cut it the way a network partition does (`cut()`): bytes stop flowing both ways but no
 *   connection is closed, so neither side learns anything until its own timeout; `heal()` drops the stalled
 *   connections and lets new ones through again.
 */
export class TcpProxy {
  /** Chunks received from clients since the last `reset()`. */
  chunks = 0;
  readonly port: number;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    server.on('connection', (client) => proxy.#relay(client, targetPort));
    return proxy;
  }

  /** A Redis URL through the proxy. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  reset(): void {
    this.chunks = 0;
  }

  /** From now on, nothing gets through, and nothing is closed. */
  cut(): void {
    this.#cut = true;
  }

  /** Drops every stalled connection and lets new ones through. */
  heal(): void {
    this.#cut = false;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  async close(): Promise<void> {
    this.heal();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #relay(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        this.#sockets.delete(socket);
        (socket === client ? upstream : client).destroy();
      });
    }
    client.on('data', (chunk) => {
      this.chunks++;
      if (!this.#cut) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!this.#cut) client.write(chunk);
    });
  }
}
