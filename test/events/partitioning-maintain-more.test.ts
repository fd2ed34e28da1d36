/**
 * PostgreSQL partition upkeep on a real server, the paths the retention tests do not take: events newer
 * than the conversion's `now`, * premaking ranges with and without stray rows in DEFAULT or without a DEFAULT partition at all, a partition
 * DDL that cannot get its lock within `lock_timeout` (left for the next tick), and DDL failures that are
 * no lock timeout (rejected, nothing changed).
 */
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import type { PreparedEvent } from '../../src/events/model/port.js';
import { sqlState } from '../../src/events/stores/postgres-client.js';
import {
  dropPartitionsBefore,
  premakePartitions,
} from '../../src/events/stores/postgres-partitioning-maintain.js';
import {
  convertToPartitioned,
  DEFAULT_PARTITION,
  listPartitions,
  partitionName,
} from '../../src/events/stores/postgres-partitioning.js';
import { createTestSchema, describePg, pgTestUrl, type TestSchema } from '../helpers/postgres.js';
import {
  appendRequest,
  openPgStore,
  preparedEvent,
  storedEvents,
  type OpenStore,
} from './postgres-fixtures.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 2, 1); // 2026-03-01 00:00 UTC, a day's start
const DAILY = { interval: 'day', premake: 0 } as const;

describePg('PostgreSQL partition upkeep (more)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  interface Opened {
    readonly schema: TestSchema;
    readonly store: OpenStore;
    readonly pool: pg.Pool;
  }

  async function open(): Promise<Opened> {
    const schema = await createTestSchema();
    const store = await openPgStore(schema.url);
    cleanups.push(async () => {
      await store.close();
      await schema.drop();
    });
    const handle = store.storage.handle();
    if (handle.kind !== 'postgres') throw new Error('not postgres');
    return { schema, store, pool: handle.pool };
  }

  function at(time: number, n: number): PreparedEvent {
    return { ...preparedEvent(null, n), time };
  }

  async function append(o: Opened, ...events: PreparedEvent[]): Promise<void> {
    for (const event of events) storedEvents((await o.store.store.append([appendRequest([event])]))[0]);
  }

  async function ids(o: Opened): Promise<string[]> {
    return (await o.store.store.readAll({ afterPosition: 0, limit: 100 })).map((e) => e.id);
  }

  async function names(o: Opened): Promise<string[]> {
    return (await listPartitions(o.pool)).map((p) => p.name);
  }

  /** A second connection on the schema, holding the parent `foundation_events` (ONLY: not its partitions) ACCESS EXCLUSIVE until released. */
  async function lockEvents(o: Opened): Promise<() => Promise<void>> {
    const client = new pg.Client({ connectionString: pgTestUrl() });
    await client.connect();
    await client.query(`SET search_path TO "${o.schema.schema}"`);
    await client.query('BEGIN');
    await client.query('LOCK TABLE ONLY foundation_events IN ACCESS EXCLUSIVE MODE');
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      await client.query('ROLLBACK');
      await client.end();
    };
    cleanups.push(release);
    return release;
  }

  it('events newer than the conversion land in DEFAULT; premaking moves them and makes empty ranges empty', async () => {
    const o = await open();
    const later = at(START + 3 * DAY + 5, 1);
    await append(o, later);
    const report = await convertToPartitioned(o.pool, o.schema.schema, DAILY, START);
    expect(report.partitions).toEqual([partitionName(START), DEFAULT_PARTITION]);

    const made = await premakePartitions(o.pool, { interval: 'day', premake: 4 }, START);
    expect(made).toEqual(
      [1, 2, 3, 4].map((d) => ({
        name: partitionName(START + d * DAY),
        from: START + d * DAY,
        to: START + (d + 1) * DAY,
        events: d === 3 ? 1 : 0,
      })),
    );
    const [row] = (
      await o.pool.query<{ part: string }>(
        'SELECT tableoid::regclass::text AS part FROM foundation_events WHERE id = $1',
        [later.id],
      )
    ).rows;
    expect(row?.part).toBe(partitionName(START + 3 * DAY));
    expect(await ids(o)).toEqual([later.id]);
  });

  it('premakes partitions on a partitioned table without a DEFAULT partition', async () => {
    const o = await open();
    await convertToPartitioned(o.pool, o.schema.schema, DAILY, START);
    await o.pool.query(`ALTER TABLE foundation_events DETACH PARTITION ${DEFAULT_PARTITION}`);
    await o.pool.query(`DROP TABLE ${DEFAULT_PARTITION}`);
    const made = await premakePartitions(o.pool, { interval: 'day', premake: 1 }, START);
    expect(made).toEqual([
      { name: partitionName(START + DAY), from: START + DAY, to: START + 2 * DAY, events: 0 },
    ]);
    expect(await names(o)).toEqual([partitionName(START), partitionName(START + DAY)]);
  });

  it('leaves a partition it cannot lock within lock_timeout for the next tick, creating and dropping nothing', async () => {
    const o = await open();
    const kept = at(START + 1000, 1);
    await append(o, kept);
    await convertToPartitioned(o.pool, o.schema.schema, DAILY, START);
    const before = await names(o);
    const release = await lockEvents(o);

    expect(await premakePartitions(o.pool, { interval: 'day', premake: 1 }, START)).toEqual([]);
    expect(await dropPartitionsBefore(o.pool, START + 2 * DAY, 100)).toEqual([]);
    await release();

    expect(await names(o)).toEqual(before);
    expect(await ids(o)).toEqual([kept.id]);
    // The next tick does the work.
    const made = await premakePartitions(o.pool, { interval: 'day', premake: 1 }, START);
    expect(made.map((m) => m.name)).toEqual([partitionName(START + DAY)]);
  });

  it('rejects a partition DDL failure that is no lock timeout, changing nothing', async () => {
    const o = await open();
    const kept = at(START + 1000, 1);
    await append(o, kept);
    await convertToPartitioned(o.pool, o.schema.schema, DAILY, START);
    const before = await names(o);

    // A table already holds the next partition's name.
    await o.pool.query(`CREATE TABLE ${partitionName(START + DAY)} (x int)`);
    const premakeError = await premakePartitions(o.pool, { interval: 'day', premake: 1 }, START).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(sqlState(premakeError)).toBe('42P07');

    // A table already holds the name a detached partition is renamed to.
    const detachedName = `foundation_events_detached_${partitionName(START).slice('foundation_events_'.length)}`;
    await o.pool.query(`CREATE TABLE ${detachedName} (x int)`);
    const dropError = await dropPartitionsBefore(o.pool, START + DAY, 100).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(sqlState(dropError)).toBe('42P07');

    expect(await names(o)).toEqual(before);
    expect(await ids(o)).toEqual([kept.id]);
  });
});
