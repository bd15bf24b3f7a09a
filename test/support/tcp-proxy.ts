import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy to a server, that a test can cut the way a network partition does: bytes stop flowing both
 * ways, but no connection is closed, so neither side learns anything until its own timeout. `heal()` drops
 * the stalled connections and lets new ones through again.
 */
export class CuttableProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #cut = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(targetPort: number): Promise<{ proxy: CuttableProxy; port: number }> {
    const server = createServer();
    const proxy = new CuttableProxy(server);
    server.on('connection', (client) => proxy.#relay(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { proxy, port: (server.address() as { port: number }).port };
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
      if (!this.#cut) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!this.#cut) client.write(chunk);
    });
  }
}
