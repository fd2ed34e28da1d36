/**
 * The PostgreSQL event store's less travelled paths on a real server: an empty group, a storage of another
 * kind, a failure the fast statement cannot fall back from, inline projections that skip idempotent requests
 * or throw, checkpoints that are not checkpoints, `resolveFrom` on an empty log, a read that fails for its
 * SQL, a transaction whose connection dies inside it, and the LISTEN connection's removal functions.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { classifyPgError, Storage } from '../../src/storage/index.js';
import type { StoredEvent } from '../../src/events/model/types.js';
import type { InlineProjector } from '../../src/events/projections/inline-hook.js';
import { pgRows, pgTransaction } from '../../src/events/stores/postgres-client.js';
import { eventsChannel, PgEventsListener } from '../../src/events/stores/postgres-listener.js';
import { PostgresEventStore } from '../../src/events/stores/postgres-store.js';
import { rejection } from '../../src/testing/capture.js';
import { createTestSchema, describePg, type TestSchema } from '../helpers/postgres.js';
import {
  appendRequest,
  openPgStore,
  preparedEvent,
  storedEvents,
  type OpenStore,
} from './postgres-fixtures.js';

describePg('PostgresEventStore (more)', () => {
  let schema: TestSchema;
  let opened: OpenStore;

  beforeAll(async () => {
    schema = await createTestSchema();
    opened = await openPgStore(schema.url);
  });
  afterAll(async () => {
    await opened.close();
    await schema.drop();
  });
  afterEach(async () => {
    opened.store.setInlineProjector(undefined);
    await exec('DROP TRIGGER IF EXISTS refuse_inserts ON foundation_events');
    await exec('TRUNCATE foundation_events, foundation_streams');
  });

  function pool() {
    const handle = opened.storage.handle();
    if (handle.kind !== 'postgres') throw new Error('not postgres');
    return handle.pool;
  }

  async function exec(sql: string): Promise<void> {
    await pool().query(sql);
  }

  async function allIds(): Promise<string[]> {
    return (await opened.store.readAll({ afterPosition: 0, limit: 100 })).map((e) => e.id);
  }

  it('an empty group appends nothing', async () => {
    expect(await opened.store.append([])).toEqual([]);
    expect(await allIds()).toEqual([]);
  });

  it('refuses a storage of another kind with FND_STORAGE_UNAVAILABLE (no retry)', async () => {
    const memory = new Storage('memory:');
    await memory.open();
    try {
      const error = await rejection(new PostgresEventStore(memory).open());
      expect(error).toMatchObject({
        code: 'FND_STORAGE_UNAVAILABLE',
        context: { kind: 'memory' },
        retryStrategy: 'no_retry',
      });
    } finally {
      await memory.close();
    }
  });

  it('a failure of the fast statement that is no refusal rejects with FND_STORAGE_QUERY_FAILED; nothing is written', async () => {
    const kept = preparedEvent('s', 1);
    storedEvents((await opened.store.append([appendRequest([kept])]))[0]);
    await exec(`CREATE OR REPLACE FUNCTION refuse_inserts() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'inserts refused by the operator'; END $$`);
    await exec(
      'CREATE TRIGGER refuse_inserts BEFORE INSERT ON foundation_events FOR EACH ROW EXECUTE FUNCTION refuse_inserts()',
    );
    const error = await rejection(opened.store.append([appendRequest([preparedEvent('s', 2)])]));
    expect(error).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED', context: { sqlState: 'P0001' } });
    expect(await allIds()).toEqual([kept.id]);
    expect(await opened.store.streamVersion('s')).toBe(1);
  });

  it('inline projections are handed no events for an idempotent retry in the group', async () => {
    const first = preparedEvent('s', 1);
    storedEvents((await opened.store.append([appendRequest([first])]))[0]);
    const seen: (readonly string[] | undefined)[][] = [];
    const projector: InlineProjector = {
      active: true,
      projectSync() {
        throw new Error('not on PostgreSQL');
      },
      projectGroup(_client, requests) {
        seen.push(requests.map((events) => events?.map((e: StoredEvent) => e.id)));
        return Promise.resolve(requests.map(() => undefined));
      },
    };
    opened.store.setInlineProjector(projector);
    const second = preparedEvent('s', 2);
    const outcomes = await opened.store.append([appendRequest([first]), appendRequest([second])]);
    expect(outcomes.map((o) => (o.ok ? o.idempotent : o.error.code))).toEqual([true, false]);
    expect(seen).toEqual([[undefined, [second.id]]]);
    expect(await allIds()).toEqual([first.id, second.id]);
  });

  it('an inline projection throwing a plain error rejects the group; nothing of it is written', async () => {
    const kept = preparedEvent('s', 1);
    storedEvents((await opened.store.append([appendRequest([kept])]))[0]);
    const bug = new Error('projection bug');
    opened.store.setInlineProjector({
      active: true,
      projectSync() {
        throw new Error('not on PostgreSQL');
      },
      projectGroup() {
        return Promise.reject(bug);
      },
    });
    const error = await rejection(
      opened.store.append([appendRequest([preparedEvent('s', 2)]), appendRequest([preparedEvent(null, 3)])]),
    );
    expect(error).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED', cause: bug });
    expect(await allIds()).toEqual([kept.id]);
    expect(await opened.store.streamVersion('s')).toBe(1);
  });

  /**
   * An inline projection writing a key into its own table with a unique index, inside the append's
   * transaction: the key of call n is `keyOf(n)`; 'taken' is already stored (a unique violation, 23505).
   */
  async function keyProjector(keyOf: (call: number) => string): Promise<{ calls: () => number }> {
    await exec('CREATE TABLE IF NOT EXISTS projection_keys (k text PRIMARY KEY)');
    await exec(`TRUNCATE projection_keys; INSERT INTO projection_keys VALUES ('taken')`);
    let calls = 0;
    opened.store.setInlineProjector({
      active: true,
      projectSync() {
        throw new Error('not on PostgreSQL');
      },
      async projectGroup(client, requests) {
        calls++;
        await client.query('INSERT INTO projection_keys VALUES ($1)', [keyOf(calls)]);
        return requests.map(() => undefined);
      },
    });
    return { calls: () => calls };
  }

  async function keys(): Promise<string[]> {
    return (await pool().query<{ k: string }>('SELECT k FROM projection_keys ORDER BY k')).rows.map(
      (r) => r.k,
    );
  }

  it('a unique violation inside the append transaction is retried once, then the group commits', async () => {
    const projector = await keyProjector((call) => (call === 1 ? 'taken' : `key-${String(call)}`));
    const event = preparedEvent('s', 1);
    const [outcome] = await opened.store.append([appendRequest([event], 'no_stream')]);
    expect(storedEvents(outcome).map((e) => [e.id, e.streamVersion])).toEqual([[event.id, 1]]);
    expect(projector.calls()).toBe(2);
    expect(await keys()).toEqual(['key-2', 'taken']);
    expect(await allIds()).toEqual([event.id]);
  });

  it('a unique violation on the retry too rejects with FND_STORAGE_QUERY_FAILED; nothing is written', async () => {
    const kept = preparedEvent('s', 1);
    storedEvents((await opened.store.append([appendRequest([kept])]))[0]);
    const projector = await keyProjector(() => 'taken');
    const error = await rejection(opened.store.append([appendRequest([preparedEvent('s', 2)])]));
    expect(error).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED', context: { sqlState: '23505' } });
    expect(projector.calls()).toBe(2);
    expect(await keys()).toEqual(['taken']);
    expect(await allIds()).toEqual([kept.id]);
    expect(await opened.store.streamVersion('s')).toBe(1);
  });

  it('readCommitted reads from the start when the checkpoint is not one', async () => {
    const events = storedEvents(
      (await opened.store.append([appendRequest([preparedEvent(null, 1), preparedEvent(null, 2)])]))[0],
    );
    const page = await opened.store.readCommitted({}, 'not-a-checkpoint', 10);
    expect(page.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(page.lastPosition).toBe(events[1]?.position);
    expect(opened.store.checkpointPosition('not-a-checkpoint')).toBeUndefined();
  });

  it('resolveFrom a position on an empty log is transaction 0 at that position', async () => {
    expect(await opened.store.resolveFrom(5)).toBe('0.5');
    expect(await opened.store.resolveFrom(0)).toBe('0.0');
  });

  it('a read that fails for its SQL rejects at once with FND_STORAGE_QUERY_FAILED (no second try)', async () => {
    const error = await rejection(pgRows(pool(), 'SELECT no_such_column FROM foundation_events', []));
    expect(error).toMatchObject({ code: 'FND_STORAGE_QUERY_FAILED', context: { sqlState: '42703' } });
    // The pool still answers.
    expect(await pgRows<{ one: number }>(pool(), 'SELECT 1 AS one', [])).toEqual([{ one: 1 }]);
  });

  it('a transaction whose connection dies inside its body rejects with the loss (no ROLLBACK on a dead connection)', async () => {
    const kept = preparedEvent('s', 1);
    storedEvents((await opened.store.append([appendRequest([kept])]))[0]);
    let runs = 0;
    const error = await rejection(
      pgTransaction(pool(), async (client) => {
        runs++;
        await client.query('DELETE FROM foundation_events');
        await client.query('SELECT pg_terminate_backend(pg_backend_pid())');
        return { value: undefined, commit: true };
      }),
    );
    expect(classifyPgError(error)).toMatchObject({ code: 'FND_STORAGE_UNAVAILABLE' });
    // Begun, so never tried again; the delete died with its transaction.
    expect(runs).toBe(1);
    expect(await allIds()).toEqual([kept.id]);
  });

  it('a listener removal is idempotent: removing one twice leaves the other listening', async () => {
    const handle = opened.storage.handle();
    if (handle.kind !== 'postgres') throw new Error('not postgres');
    const channel = eventsChannel(handle.schema);
    const listener = new PgEventsListener(handle.pool, channel);
    try {
      let a = 0;
      let b = 0;
      const removeA = listener.add(() => {
        a++;
      });
      const removeB = listener.add(() => {
        b++;
      });
      await expect.poll(() => listener.connected, { timeout: 5000 }).toBe(true);
      removeA();
      removeA();
      expect(listener.connected).toBe(true);
      const aBefore = a;
      const bBefore = b;
      await exec(`SELECT pg_notify('${channel}', '')`);
      await expect.poll(() => b, { timeout: 5000 }).toBeGreaterThan(bBefore);
      expect(a).toBe(aBefore);
      removeB();
      await expect.poll(() => listener.connected, { timeout: 5000 }).toBe(false);
    } finally {
      listener.close();
    }
  });
});
