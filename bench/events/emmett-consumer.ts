/**
 * The peer of the live-delivery cases: an `@event-driven-io/emmett-postgresql` (0.42) store read by
 * `postgreSQLEventStoreMessageBatchPuller`, the polling loop inside emmett's consumers. It polls every
 * `pullingFrequencyInMs` (default 50 ms) while messages keep coming and backs off to one poll a second when
 * idle (a trickle of events, as in the latency case, is mostly seen idle). It starts from the beginning of its
 * (fresh, empty) database: its `'END'` start reads the first position instead of the last; it reads with the same transaction-id visibility rule as
 * ours (`transaction_id < pg_snapshot_xmin(pg_current_snapshot())`). `deliver` appends one event and resolves
 * when the reactor has seen it.
 *
 * @module
 */
import { dumbo } from '@event-driven-io/dumbo';
import { postgreSQLEventStoreMessageBatchPuller } from '@event-driven-io/emmett-postgresql';
import { ORDER_CREATED, type OrderData } from './inputs.js';
import { openEmmettPg, type EmmettPg } from './emmett-pg.js';

/** An emmett store with a running consumer. */
export interface EmmettLive {
  /** Appends one event to `stream` and resolves when the consumer's reactor handled it. */
  deliver(stream: string, data: OrderData): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the store (its own database, see {@link openEmmettPg}) and starts a consumer polling every
 * `pullingFrequencyInMs` (emmett's default: 50).
 */
export async function openEmmettLive(pullingFrequencyInMs = 50): Promise<EmmettLive> {
  const emmett: EmmettPg = await openEmmettPg(4);
  const waiting = new Map<string, () => void>();
  const pool = dumbo({ connectionString: emmett.url });
  const abort = new AbortController();
  const puller = postgreSQLEventStoreMessageBatchPuller({
    executor: pool.execute,
    batchSize: 100,
    pullingFrequencyInMs,
    signal: abort.signal,
    eachBatch: (messages) => {
      for (const message of messages) {
        const stream = (message.metadata as { streamName?: string }).streamName;
        if (stream === undefined) continue;
        waiting.get(stream)?.();
        waiting.delete(stream);
      }
      return Promise.resolve();
    },
  });
  const running = puller.start({ startFrom: 'BEGINNING' });
  running.catch(() => undefined);
  return {
    async deliver(stream, data) {
      const seen = new Promise<void>((resolve) => waiting.set(stream, resolve));
      await emmett.store.appendToStream(stream, [{ type: ORDER_CREATED, data }]);
      await seen;
    },
    async close() {
      abort.abort();
      await puller.stop().catch(() => undefined);
      await pool.close().catch(() => undefined);
      await emmett.close();
    },
  };
}
