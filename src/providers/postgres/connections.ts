import { StoreUnavailableError } from '../../errors.js';
import { connectionIsBroken, storeUnavailable } from './failures.js';
import type { PostgresPool, PostgresQuery } from './options.js';

/** What a query resolves: node-postgres's result, the fields the provider reads. */
export interface QueryResult {
  readonly rows: unknown[];
  readonly rowCount: number | null;
}

/**
 * Runs one query at a time on a connection borrowed from the pool, within a time limit. The limit covers
 * waiting for a connection too: a pool that cannot connect (the database is down) or a statement that does
 * not come back (a stuck server, a cut network) rejects `StoreUnavailableError` when it is up. A connection
 * that failed, or that was still busy when its query was given up, is closed rather than given back, so
 * the next query starts on a fresh one: that is how the provider reconnects by itself.
 */
export class Connections {
  readonly #pool: PostgresPool;

  constructor(pool: PostgresPool) {
    this.#pool = pool;
  }

  /** Runs `query`; `doing` names the work in error messages ("applying a batch"). */
  query(query: PostgresQuery, doing: string, timeoutMs: number): Promise<QueryResult> {
    return new Promise((resolve, reject) => {
      let giveUp: ((error: Error) => void) | undefined;
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(new StoreUnavailableError(`postgres: ${doing}: no answer within ${timeoutMs} ms`));
        // The statement may still be running, or the connection may be dead: either way, never reuse it.
        giveUp?.(new Error('shard-session: query given up'));
      }, timeoutMs);
      this.#pool.connect().then(
        (connected) => {
          if (settled) {
            connected.release(); // connected after the query was given up: it never ran anything
            return;
          }
          // While it is ours, the pool does not listen to the connection's errors; the query reports them.
          connected.on('error', ignore);
          const giveBack = (error?: Error) => {
            connected.removeListener('error', ignore);
            connected.release(error);
          };
          // Given up on: closed with our listener still on, so its dying words go unheard.
          giveUp = (error) => connected.release(error);
          let answer: Promise<QueryResult>;
          try {
            answer = connected.query(query);
          } catch (error) {
            answer = Promise.reject(error);
          }
          answer.then(
            (result) => {
              if (settled) return;
              settled = true;
              clearTimeout(timer);
              giveBack();
              resolve(result);
            },
            (error: unknown) => {
              if (settled) return;
              settled = true;
              clearTimeout(timer);
              giveBack(connectionIsBroken(error) ? asError(error) : undefined);
              reject(storeUnavailable(error, doing));
            },
          );
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(storeUnavailable(error, `${doing} (connecting)`));
        },
      );
    });
  }
}

function ignore(): void {}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
