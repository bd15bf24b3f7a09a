import { StoreUnavailableError } from '../../errors.js';

/**
 * What a failure of the database means for the provider. Every failure reaches the caller as a
 * `StoreUnavailableError` (503 with Retry-After through the HTTP adapters); the question here is whether the
 * connection it happened on can be used again.
 */

/** SQLSTATEs after which the connection is gone or going: shut down, crashed, restarting. */
const CONNECTION_ENDING = new Set(['57P01', '57P02', '57P03']);

/** The SQLSTATE of a server error, or undefined for a client-side one (socket, timeout, pool). */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * True when the connection must be closed rather than given back: every client-side failure (refused, reset,
 * timed out) and the server's "connection exception" class and shutdown codes. A statement the server
 * refused (a lock timeout, say) leaves a healthy connection.
 */
export function connectionIsBroken(error: unknown): boolean {
  const state = sqlState(error);
  return state === undefined || state.startsWith('08') || CONNECTION_ENDING.has(state);
}

/**
 * The typed error for a failed batch. The message names the failure and its SQLSTATE, never the
 * statement's parameters (they hold session ids): only the server's primary message is kept.
 */
export function storeUnavailable(error: unknown, doing: string): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  const state = sqlState(error);
  const message = error instanceof Error ? error.message : String(error);
  if (state === '42P01' || state === '42883' || state === '3F000') {
    return new StoreUnavailableError(
      `postgres: ${doing}: the provider's tables or functions are missing (${message}); create them with createSchema: true or the SQL of postgresSchemaSql()`,
    );
  }
  return new StoreUnavailableError(
    `postgres: ${doing} failed: ${message}${state ? ` (SQLSTATE ${state})` : ''}`,
  );
}
