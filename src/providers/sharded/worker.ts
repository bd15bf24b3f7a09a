import type { MessagePort } from 'node:worker_threads';
import { SessionError, StorageError } from '../../errors.js';
import { GcTick } from '../gc-tick.js';
import { idleExpiresAt } from '../packed-record.js';
import type { ResolvedLimits } from '../provider-options.js';
import { SessionTable } from '../session-table.js';
import type { DurableSetup } from './durable/lmdb-options.js';
import { readThroughFor } from './durable/read-through.js';
import type { ShardStore } from './durable/shard-store.js';
import { ownedSid } from './owned-string.js';
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
import { statsOf } from './shard-stats.js';
import { applyUserOp } from './user-ops.js';

/** What the router hands a shard thread when it starts it (as piscina's task). */
export interface ShardSetup {
  readonly port: MessagePort;
  readonly shard: number;
  readonly limits: ResolvedLimits;
  readonly gcIntervalMs: number;
  readonly gcSliceMs: number;
  /** Shards in this run: a durable shard loads the stored ids that hash to it. */
  readonly shards: number;
  /** The router's clock when it started this thread: a durable shard skips what was dead by then. */
  readonly startedAt: number;
  /** With `dir`: where and how the shard's sessions persist. */
  readonly durable?: DurableSetup;
  /** The router keeps a read cache: answers list the sessions removed, an incr's is `[sum, idleExpiresAt]`. */
  readonly reportRemovals?: boolean;
}

/** Operations that add data: refused while the store is at its `mapSize` (those that remove data still run). */
function addsData(op: unknown[]): boolean {
  return op[0] === Op.Init || op[0] === Op.Incr || (op[0] === Op.Commit && (op[2] as unknown[]).length > 0);
}

/**
 * A shard: the only owner of its table. It applies each frame's operations in order, answers with one
 * frame, and runs its own GC tick. It knows nothing of HTTP, cookies or other shards.
 */
class Shard {
  readonly #table: SessionTable;
  readonly #gcTick: GcTick;
  /** With `dir`: the shard's durable store, written at the end of every frame, before the answer. */
  readonly #store: ShardStore | undefined;
  /** Why this shard cannot serve (its store would not open or load): every operation gets this error. */
  #failure: StorageError | undefined;
  /** The router's clock minus ours, from the last frame: the GC tick follows the router's (maybe fake) time. */
  #clockSkew = 0;
  #frames = 0;
  /** Changes the table reported: an operation that made some has a write to acknowledge. */
  #changes = 0;
  /** An Op.Exit arrived: the thread ends once the frame is committed. */
  #exiting = false;
  /** Set by the fault-injection op `Hang`: frames are dropped unanswered. */
  #dropping = false;
  /** With `reportRemovals`, while a frame is applied: the sessions it removed (the GC tick's are not needed). */
  #removed: string[] | undefined;
  /** With `reportRemovals`: the record the table wrote last (an incr's, whose new idle deadline it answers). */
  #written: string | undefined;
  readonly #reportRemovals: boolean;

  /** A shard, its store opened and its sessions loaded (lmdb is imported only when `durable` is set). */
  static async create(setup: ShardSetup): Promise<Shard> {
    if (!setup.durable) return new Shard(setup, undefined, undefined);
    const { ShardStore } = await import('./durable/shard-store.js');
    let store: ShardStore;
    try {
      store = await ShardStore.open(setup.durable);
    } catch (error) {
      return new Shard(setup, undefined, StorageError.of(error));
    }
    const shard = new Shard(setup, store, undefined);
    store.startLoad(shard.#table, setup.shard, setup.shards);
    shard.#clockSkew = setup.startedAt - Date.now();
    shard.#loadInBackground();
    shard.#gcTick.start();
    return shard;
  }

  private constructor(setup: ShardSetup, store: ShardStore | undefined, failure: StorageError | undefined) {
    this.#store = store;
    this.#failure = failure;
    const track = store?.track;
    this.#reportRemovals = setup.reportRemovals === true;
    this.#table = new SessionTable(
      setup.limits,
      undefined,
      track || this.#reportRemovals
        ? (sid, record) => {
            if (record === undefined) this.#removed?.push(sid);
            else this.#written = record.packed;
            this.#changes++; // read only with a store (a frame's writers)
            track?.(sid, record);
          }
        : undefined,
    );
    // Events of bound sessions go to the router in batches, beside the answer frames (see shard-link.ts).
    this.#table.users.onEvents((events) => setup.port.postMessage({ events }));
    this.#gcTick = new GcTick(
      this.#table,
      () => Date.now() + this.#clockSkew,
      setup.gcIntervalMs,
      setup.gcSliceMs,
      store && (() => this.#commitSweep()),
    );
    if (!store && !failure) this.#gcTick.start();
  }

  /** The answer frame, or undefined when the shard is dropping frames (fault injection). */
  handle(buffer: ArrayBuffer): ArrayBuffer | undefined {
    if (this.#dropping) return undefined;
    this.#frames++;
    const frame = decodeFrame(buffer);
    const now = frame[0] as number;
    this.#clockSkew = now - Date.now();
    const answers: unknown[] = [];
    const store = this.#store;
    // Answer positions of the operations that changed something: they fail if the frame's commit does.
    const writers: number[] = [];
    if (this.#reportRemovals) this.#removed = [];
    for (let i = 1; i < frame.length; i++) {
      const changesBefore = this.#changes;
      try {
        answers.push(OK, this.#apply(frame[i] as unknown[], now));
      } catch (error) {
        // A SessionError goes back typed; anything else is a bug, but still an answer, never a dead shard.
        const code = error instanceof SessionError ? error.code : 'ERR_SHARD_INTERNAL';
        answers.push(FAILED, [code, error instanceof Error ? error.message : String(error)]);
      }
      if (this.#changes !== changesBefore) writers.push(answers.length - 2);
    }
    if (store?.hasPending) this.#commitFrame(store, answers, writers);
    const removed = this.#removed;
    this.#removed = undefined;
    if (removed !== undefined && removed.length > 0) answers.push(removed);
    // Op.Exit: die now, between transactions, leaving the frame unanswered as a crash would.
    if (this.#exiting) process.exit(1);
    if (this.#dropping) return undefined;
    return encodeFrame(answers);
  }

  /** Loads stored sessions by slices between frames until done (operations read through meanwhile). */
  #loadInBackground(): void {
    const store = this.#store;
    if (!store?.loading || this.#failure) return;
    try {
      if (!store.loadSlice(Date.now() + this.#clockSkew, LOAD_SLICE_MS)) {
        setImmediate(() => this.#loadInBackground());
      }
    } catch (error) {
      this.#failure = StorageError.of(error);
    }
  }

  async stop(): Promise<void> {
    this.#gcTick.stop();
    await this.#store?.close();
  }

  /** Writes the frame's changes in one transaction; if that fails, the operations that changed something fail. */
  #commitFrame(store: ShardStore, answers: unknown[], writers: readonly number[]): void {
    try {
      store.commit();
    } catch (error) {
      const failure = StorageError.of(error);
      if ('sids' in failure) store.revert(this.#table, failure.sids as readonly string[]);
      for (const at of writers) {
        answers[at] = FAILED;
        answers[at + 1] = [failure.code, failure.message];
      }
    }
  }

  /** A GC slice's deletions. If they cannot be written, the records stay on disk, dead: a restart skips them. */
  #commitSweep(): void {
    try {
      this.#store?.commit();
    } catch {}
  }

  #apply(op: unknown[], now: number): unknown {
    if (!Array.isArray(op)) throw new SessionError('ERR_MALFORMED_FRAME', 'malformed operation');
    if (this.#failure && op[0] !== Op.Stats) throw this.#failure;
    if (this.#store?.isFull() && addsData(op)) {
      throw new StorageError(
        'the session store is full (mapSize reached): sessions can be read, destroyed and expire, not grow',
        'ERR_STORAGE_FULL',
      );
    }
    if (this.#store?.loading) {
      readThroughFor(this.#store, op, now, (error) => {
        this.#failure = StorageError.of(error);
        return this.#failure;
      });
    }
    const table = this.#table;
    switch (op[0]) {
      case Op.Init: {
        const policy = { idleTimeoutMs: op[2] as number, absoluteTimeoutMs: op[3] as number };
        return encodeMeta(table.init(ownedSid(op[1] as string), policy, decodeDelta(op[4], op[5]), now));
      }
      case Op.Read: {
        const packed = table.read(op[1] as string, now);
        return packed === undefined ? null : encodeSnapshot(packed, table.extras(op[1] as string));
      }
      case Op.Commit: {
        const meta = table.commit(op[1] as string, decodeDelta(op[2], op[3]), now);
        return meta ? encodeMeta(meta) : null;
      }
      case Op.Incr: {
        const sum = table.incr(op[1] as string, op[2] as string, op[3] as number, now);
        // The router's read cache brings its copy of the session up to date with this (read-cache.ts).
        return sum === null || !this.#reportRemovals ? sum : [sum, idleExpiresAt(this.#written as string)];
      }
      case Op.Rename: {
        const meta = table.rename(op[1] as string, ownedSid(op[2] as string), now);
        return meta ? encodeMeta(meta) : null;
      }
      case Op.Take: {
        const record = table.take(op[1] as string, now);
        return record ? encodeRecord(record) : null;
      }
      case Op.Put: {
        const meta = table.put(
          ownedSid(op[1] as string),
          decodeRecord(op[2] as unknown[]),
          now,
          op[3] !== false,
        );
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
      case Op.Exit:
        this.#exiting = true;
        return null;
      case Op.Stats:
        return statsOf(table, this.#frames);
      case Op.Hang:
        if (op[1] === 1) for (;;);
        this.#dropping = true;
        return null;
      default:
        return applyUserOp(table, op, now);
    }
  }
}

/** Time a background load slice may take before the shard turns to waiting frames. */
const LOAD_SLICE_MS = 8;

/**
 * piscina's task: starts the shard (a durable one opens its store first) and returns as soon as it listens
 * on its port. The shard lives on in the thread, served by the port's listener, until the router closes
 * the port. Returning at once leaves piscina with no pending task, so it unrefs the idle thread: a
 * never-closed provider does not keep the process alive (issue 11). The router learns of the thread's death
 * from its own port's 'close' event. When the port closes, a durable shard closes its store and then ends
 * its thread itself: the router must not terminate it inside an LMDB transaction.
 */
export default async function runShard(setup: ShardSetup): Promise<number> {
  // Frames that arrive while a durable shard opens wait in the port: it answers none before it is ready.
  const shard = await Shard.create(setup);
  const { port } = setup;
  port.on('message', (buffer: ArrayBuffer) => {
    const answer = shard.handle(buffer);
    if (answer) port.postMessage(answer, [answer]);
  });
  port.once('close', () => {
    const stopped = shard.stop();
    if (setup.durable) void stopped.finally(() => process.exit(0));
  });
  return setup.shard;
}
