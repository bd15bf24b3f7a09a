import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { encodeValue } from '../../src/codec.js';
import { createMemoryProvider } from '../../src/providers/memory.js';
import type { SessionProvider } from '../../src/providers/provider.js';
import { createShardedProvider } from '../../src/providers/sharded/provider.js';
import { generateSid } from '../../src/sid.js';
import { FrameBatcher } from './frame-batcher.js';

/** Something the engine bench drives: `op(caller)` is one operation, awaited before the caller's next. */
export interface Target {
  readonly provider: string;
  readonly shards: number;
  prepare(callers: number): Promise<void>;
  op(caller: number): Promise<unknown>;
  close(): Promise<void>;
}

const policy = { idleTimeoutMs: 30 * 60_000, absoluteTimeoutMs: 24 * 3600_000 };

/** A provider doing `incr` on one session per caller: a read-modify-write at the owner, one answer. */
export function providerTarget(name: string, shards: number, make: () => SessionProvider): Target {
  let provider: SessionProvider | undefined;
  let sids: string[] = [];
  return {
    provider: name,
    shards,
    async prepare(callers) {
      provider = make();
      sids = Array.from({ length: callers }, () => generateSid());
      await Promise.all(sids.map((sid) => provider?.init(sid, policy, { set: [['n', encodeValue(0)]] })));
    },
    op: (caller) => (provider as SessionProvider).incr(sids[caller] as string, 'n', 1),
    close: async () => provider?.close(),
  };
}

export const memoryTarget = () => providerTarget('memory', 1, () => createMemoryProvider());
export const shardedTarget = (shards: number) =>
  providerTarget('sharded', shards, () => createShardedProvider({ shards }));

/** The floor: a bare MessagePort to one worker, batched like the router, no session work at all. */
export function rawPortTarget(): Target {
  let worker: Worker | undefined;
  let batcher: FrameBatcher | undefined;
  return {
    provider: 'raw-port',
    shards: 1,
    async prepare() {
      const w = new Worker(fileURLToPath(new URL('./raw-port-worker.js', import.meta.url)));
      worker = w;
      // Answers come back in order, one per frame, so a FIFO of resolvers is all the routing needed.
      const answers: ((buffer: ArrayBuffer) => void)[] = [];
      w.on('message', (buffer: ArrayBuffer) => answers.shift()?.(buffer));
      batcher = new FrameBatcher(
        (frame) =>
          new Promise((resolve) => {
            answers.push(resolve);
            w.postMessage(frame, [frame]);
          }),
      );
      await new Promise((resolve) => w.once('online', resolve));
    },
    op: (caller) => (batcher as FrameBatcher).call(caller),
    close: async () => {
      await worker?.terminate();
    },
  };
}

/** The other floor: the same frames, each as one piscina task on a one-thread pool. */
export function rawPiscinaTarget(): Target {
  let pool: Piscina | undefined;
  let batcher: FrameBatcher | undefined;
  return {
    provider: 'raw-piscina',
    shards: 1,
    async prepare() {
      const p = new Piscina({
        filename: fileURLToPath(new URL('./raw-piscina-worker.js', import.meta.url)),
        minThreads: 1,
        maxThreads: 1,
        atomics: 'disabled',
      });
      pool = p;
      batcher = new FrameBatcher((frame) => p.run(frame, { transferList: [frame] }));
      await batcher.call(0); // the thread is up
    },
    op: (caller) => (batcher as FrameBatcher).call(caller),
    close: async () => {
      await pool?.destroy();
    },
  };
}
