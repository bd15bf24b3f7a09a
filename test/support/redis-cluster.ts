import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RedisServer, waitFor } from './redis-servers.js';

const run = promisify(execFile);

/** One node as `CLUSTER NODES` describes it. */
export interface ClusterNode {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly role: 'master' | 'replica';
  /** For a replica: its master's id. */
  readonly masterId: string | undefined;
  /** For a master: the slot ranges it serves, as [first, last]. */
  readonly slots: readonly (readonly [number, number])[];
  readonly failed: boolean;
}

/**
 * A real Redis Cluster of 3 masters and 3 replicas: six `redis-server --cluster-enabled yes` on free ports,
 * joined by `redis-cli --cluster create … --cluster-replicas 1`. A node is declared failed after
 * `nodeTimeoutMs` without an answer, then its replica is promoted.
 */
export class RedisCluster {
  private constructor(
    readonly servers: readonly RedisServer[],
    readonly nodeTimeoutMs: number,
  ) {}

  static async start(nodeTimeoutMs = 1000): Promise<RedisCluster> {
    const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'];
    args.push('--cluster-node-timeout', String(nodeTimeoutMs));
    // Replicas sync at once (the default waits 5 s for more replicas to share one transfer).
    args.push('--repl-diskless-sync-delay', '0');
    const servers = await Promise.all(Array.from({ length: 6 }, () => RedisServer.start(args)));
    const cluster = new RedisCluster(servers, nodeTimeoutMs);
    try {
      await cluster.#create();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  async #create(): Promise<void> {
    const servers = this.servers;
    await run('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((server) => server.address),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    await this.waitUntilHealthy();
  }

  /** `host:port` of every node: what the provider's `cluster` option takes. */
  get addresses(): string[] {
    return this.servers.map((server) => server.address);
  }

  /** The topology as one live node sees it. */
  async nodes(): Promise<ClusterNode[]> {
    const live = this.servers.find((server) => server.running) as RedisServer;
    return parseClusterNodes(await live.cli('CLUSTER', 'NODES'));
  }

  /** The server of the master serving `slot`. */
  async masterOf(slot: number): Promise<RedisServer> {
    const master = (await this.nodes()).find(
      (node) => node.role === 'master' && !node.failed && node.slots.some(([a, b]) => a <= slot && slot <= b),
    );
    const server = this.servers.find((s) => s.port === master?.port);
    if (!server) throw new Error(`no master serves slot ${slot}`);
    return server;
  }

  /**
   * Waits until every running node says `cluster_state:ok`, three masters serve every slot, and every
   * replica's link to its master is up (so what a master acknowledged has been sent on).
   */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      'a healthy cluster',
      async () => {
        const running = this.servers.filter((server) => server.running);
        for (const server of running) {
          if (!(await server.cli('CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
        }
        const nodes = await this.nodes();
        const masters = nodes.filter(
          (node) => node.role === 'master' && !node.failed && node.slots.length > 0,
        );
        if (masters.length !== 3) return false;
        for (const node of nodes.filter((n) => n.role === 'replica' && !n.failed)) {
          const server = this.servers.find((s) => s.port === node.port);
          if (
            server?.running &&
            !(await server.cli('INFO', 'replication')).includes('master_link_status:up')
          ) {
            return false;
          }
        }
        return true;
      },
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()));
  }
}

/** Parses `CLUSTER NODES`. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.split(' ') as string[];
      const endpoint = (address as string).split('@')[0] as string;
      const flagList = (flags as string).split(',');
      return {
        id: id as string,
        address: endpoint,
        port: Number(endpoint.split(':')[1]),
        role: flagList.includes('master') ? 'master' : 'replica',
        masterId: masterId === '-' ? undefined : masterId,
        slots: slots
          .filter((range) => !range.startsWith('['))
          .map((range) => {
            const [first, last = first] = range.split('-').map(Number) as [number, number?];
            return [first, last] as const;
          }),
        failed: flagList.includes('fail'),
      } satisfies ClusterNode;
    });
}
