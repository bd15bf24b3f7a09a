import { getHeapStatistics } from 'node:v8';
import { type MessagePort, threadId } from 'node:worker_threads';
import { SessionError } from '../../errors.js';
import { GcTick } from '../gc-tick.js';
import type { ResolvedLimits } from '../provider-options.js';
import { SessionTable } from '../session-table.js';
import {
  decodeDelta,
  decodeFrame,
  decodeRecord,
  encodeFrame,
  encodeMeta,
  encodeRecord,
  encodeSnapshot,
  FAILED,
  OK,
  Op,
} from './protocol.js';

/** What the router hands a shard thread when it starts it (as piscina's task). */
export interface ShardSetup {
  readonly port: MessagePort;
  readonly shard: number;
  readonly limits: ResolvedLimits;
  readonly gcIntervalMs: number;
  readonly gcSliceMs: number;
}

/**
 * A shard: the only owner of its table. It applies each frame's operations in order, answers with one
 * frame, and runs its own GC tick. It knows nothing of HTTP, cookies or other shards.
 */
class Shard {
  readonly #table: SessionTable;
  readonly #gcTick: GcTick;
  /** The router's clock minus ours, from the last frame: the GC tick follows the router's (maybe fake) time. */
  #clockSkew = 0;
  #frames = 0;

  constructor(setup: ShardSetup) {
    this.#table = new SessionTable(setup.limits);
    this.#gcTick = new GcTick(
      this.#table,
      () => Date.now() + this.#clockSkew,
      setup.gcIntervalMs,
      setup.gcSliceMs,
    );
    this.#gcTick.start();
  }

  handle(buffer: ArrayBuffer): ArrayBuffer {
    this.#frames++;
    const frame = decodeFrame(buffer);
    const now = frame[0] as number;
    this.#clockSkew = now - Date.now();
    const answers: unknown[] = [];
    for (let i = 1; i < frame.length; i++) {
      try {
        answers.push(OK, this.#apply(frame[i] as unknown[], now));
      } catch (error) {
        // A SessionError goes back typed; anything else is a bug, but still an answer, never a dead shard.
        const code = error instanceof SessionError ? error.code : 'ERR_SHARD_INTERNAL';
        answers.push(FAILED, [code, error instanceof Error ? error.message : String(error)]);
      }
    }
    return encodeFrame(answers);
  }

  stop(): void {
    this.#gcTick.stop();
  }

  #apply(op: unknown[], now: number): unknown {
    if (!Array.isArray(op)) throw new SessionError('ERR_MALFORMED_FRAME', 'malformed operation');
    const table = this.#table;
    switch (op[0]) {
      case Op.Init: {
        const policy = { idleTimeoutMs: op[2] as number, absoluteTimeoutMs: op[3] as number };
        return encodeMeta(table.init(op[1] as string, policy, decodeDelta(op[4], op[5]), now));
      }
      case Op.Read: {
        const record = table.read(op[1] as string, now);
        return record ? encodeSnapshot(record) : null;
      }
      case Op.Commit: {
        const meta = table.commit(op[1] as string, decodeDelta(op[2], op[3]), now);
        return meta ? encodeMeta(meta) : null;
      }
      case Op.Incr:
        return table.incr(op[1] as string, op[2] as string, op[3] as number, now);
      case Op.Rename: {
        const meta = table.rename(op[1] as string, op[2] as string, now);
        return meta ? encodeMeta(meta) : null;
      }
      case Op.Take: {
        const record = table.take(op[1] as string, now);
        return record ? encodeRecord(record) : null;
      }
      case Op.Put:
        return encodeMeta(table.put(op[1] as string, decodeRecord(op[2] as unknown[]), now, op[3] !== false));
      case Op.Destroy:
        return table.destroy(op[1] as string, now);
      case Op.Gc:
        return table.sweep(op[1] as number).removed;
      case Op.Count:
        return table.count(now);
      case Op.Stats: {
        const { ops, expired, evicted, gcSweeps, gcMaxSliceMs } = table.counters;
        return [
          threadId,
          table.size,
          ops,
          this.#frames,
          gcSweeps,
          gcMaxSliceMs,
          expired,
          evicted,
          heapUsed(),
        ];
      }
      default:
        throw new SessionError('ERR_MALFORMED_FRAME', `unknown operation ${String(op[0])}`);
    }
  }
}

function heapUsed(): number {
  // Per isolate: this thread's heap, not the process's.
  return getHeapStatistics().used_heap_size;
}

/**
 * piscina's task: the shard's whole life. It serves frames on the port until the router closes it, then
 * resolves. If the thread dies instead, piscina rejects this task, which is how the router learns of it.
 */
export default function runShard(setup: ShardSetup): Promise<number> {
  const shard = new Shard(setup);
  const { port } = setup;
  return new Promise((resolve) => {
    port.on('message', (buffer: ArrayBuffer) => {
      const answer = shard.handle(buffer);
      port.postMessage(answer, [answer]);
    });
    port.once('close', () => {
      shard.stop();
      resolve(setup.shard);
    });
  });
}
