/**
 * PostgreSQL plumbing of the event store: pooled queries and transactions whose failures are classified, and
 * whose clients go back to the pool only when clean (a client that lost its connection, or whose ROLLBACK
 * failed, is destroyed with `release(err)`).
 *
 * @module
 */
import type pg from 'pg';
import type { FoundationError } from '../../errors/index.js';
import { classifyPgError } from '../../storage/index.js';

/**
 * Runs one parameterized read on a pooled client; failures become `FoundationError`s. A read that fails for a
 * lost connection is tried once more: a pooled connection may have died while idle (server restarted,
 * backend terminated) before the pool noticed, and a read has no effect to repeat. When the server is really
 * gone the second try fails just as fast (connection refused).
 */
export async function pgRows<R extends pg.QueryResultRow>(
  pool: pg.Pool,
  text: string,
  values: readonly unknown[],
): Promise<R[]> {
  try {
    return (await pool.query<R>(text, values as unknown[])).rows;
  } catch (error) {
    // pool.query already released the client with the error (destroyed it).
    if (!isRetryableLoss(classifyPgError(error))) throw classifyPgError(error);
  }
  try {
    return (await pool.query<R>(text, values as unknown[])).rows;
  } catch (error) {
    throw classifyPgError(error);
  }
}

/** What a transaction body returns: its value, and whether to COMMIT (else ROLLBACK: nothing to keep). */
export interface TransactionEnd<T> {
  readonly value: T;
  readonly commit: boolean;
}

/**
 * Runs `body` in `BEGIN … COMMIT` (or ROLLBACK when the body asks) on one pooled client. Rejects with the
 * driver's own error (so callers can look at its SQLSTATE); use {@link classifyPgError} to report it. After a
 * failure the transaction is rolled back and the client returned; when the connection is gone or the ROLLBACK
 * fails too, the client is destroyed instead.
 */
export async function pgTransaction<T>(
  pool: pg.Pool,
  body: (client: pg.PoolClient) => Promise<TransactionEnd<T>>,
): Promise<T> {
  const client = await begin(pool);
  try {
    const end = await body(client);
    await client.query(end.commit ? 'COMMIT' : 'ROLLBACK');
    client.off('error', ignore);
    client.release();
    return end.value;
  } catch (error) {
    await abandon(client, error);
    throw error;
  }
}

/**
 * A pooled client inside `BEGIN`. When BEGIN fails for a lost connection (a pooled connection that died while
 * idle), the client is destroyed and a fresh one tried once: nothing was done yet, so nothing can be doubled.
 */
async function begin(pool: pg.Pool): Promise<pg.PoolClient> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    // A checked-out client has no pool listener: a connection that dies between two statements (terminated
    // backend, server gone) would emit an unhandled 'error'. The statement that follows fails anyway.
    client.on('error', ignore);
    try {
      await client.query('BEGIN');
      return client;
    } catch (error) {
      client.off('error', ignore);
      client.release(asError(error));
      if (attempt >= 2 || !isRetryableLoss(classifyPgError(error))) throw error;
    }
  }
}

function ignore(): void {
  // The failure surfaces through the client's next query (it is no longer queryable).
}

async function abandon(client: pg.PoolClient, error: unknown): Promise<void> {
  if (isUnavailable(classifyPgError(error))) {
    client.off('error', ignore);
    client.release(asError(error));
    return;
  }
  try {
    await client.query('ROLLBACK');
    client.off('error', ignore);
    client.release();
  } catch (rollbackError) {
    client.off('error', ignore);
    client.release(asError(rollbackError));
  }
}

function isUnavailable(error: FoundationError): boolean {
  return error.code === 'FND_STORAGE_UNAVAILABLE';
}

/** A lost connection worth one more try (not a refused login or a missing database). */
export function isRetryableLoss(error: FoundationError): boolean {
  return isUnavailable(error) && error.retryStrategy !== 'no_retry';
}

function asError(error: unknown): Error | boolean {
  return error instanceof Error ? error : true;
}

/** The SQLSTATE of a driver error (`23505` unique violation…), if it has one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
