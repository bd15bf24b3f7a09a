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
import { applyUserOp } from './user-ops.js';

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
  /** Set by the fault-injection op `Hang`: frames are dropped unanswered. */
  #dropping = false;

  constructor(setup: ShardSetup) {
    this.#table = new SessionTable(setup.limits);
    // Events of bound sessions go to the router in batches, beside the answer frames (see shard-link.ts).
    this.#table.users.onEvents((events) => setup.port.postMessage({ events }));
    this.#gcTick = new GcTick(
      this.#table,
      () => Date.now() + this.#clockSkew,
      setup.gcIntervalMs,
      setup.gcSliceMs,
    );
    this.#gcTick.start();
  }

  /** The answer frame, or undefined when the shard is dropping frames (fault injection). */
  handle(buffer: ArrayBuffer): ArrayBuffer | undefined {
    if (this.#dropping) return undefined;
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
    if (this.#dropping) return undefined;
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
      case Op.Put: {
        const meta = table.put(op[1] as string, decodeRecord(op[2] as unknown[]), now, op[3] !== false);
        return meta ? encodeMeta(meta) : null;
      }
      case Op.Destroy:
        return table.destroy(op[1] as string, now);
      case Op.Gc: {
        // One slice of at most the GC budget: the router calls again until done, so an explicit gc() of
        // millions of expired sessions never stalls the operations queued behind it.
        const { removed, done } = table.sweep(op[1] as number, op[2] as number);
        return [removed, done];
      }
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
          table.bytes,
          table.maxBytes,
        ];
      }
      case Op.Hang:
        if (op[1] === 1) for (;;);
        this.#dropping = true;
        return null;
      default:
        return applyUserOp(table, op, now);
    }
  }
}

function heapUsed(): number {
  // Per isolate: this thread's heap, not the process's.
  return getHeapStatistics().used_heap_size;
}

/**
 * piscina's task: starts the shard and returns as soon as it listens on its port. The shard lives on in the
 * thread, served by the port's listener, until the router closes the port. Returning at once leaves piscina
 * with no pending task, so it unrefs the idle thread: a never-closed provider does not keep the process
 * alive (issue 11). The router learns of the thread's death from its own port's 'close' event.
 */
export default function runShard(setup: ShardSetup): number {
  const shard = new Shard(setup);
  const { port } = setup;
  port.on('message', (buffer: ArrayBuffer) => {
    const answer = shard.handle(buffer);
    if (answer) port.postMessage(answer, [answer]);
  });
  port.once('close', () => shard.stop());
  return setup.shard;
}
