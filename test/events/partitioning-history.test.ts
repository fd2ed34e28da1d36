/**
 * A conversion to partitions on a real server whose oldest events are past the backfill window: they go to
 * one history partition from MINVALUE (the conversion makes the most partitions it ever makes, about 400,
 * hence a file of its own), which retention later detaches and drops whole.
 */
import { afterEach, expect, it } from 'vitest';
import type { PreparedEvent } from '../../src/events/model/port.js';
import { dropPartitionsBefore } from '../../src/events/stores/postgres-partitioning-maintain.js';
import {
  convertToPartitioned,
  DEFAULT_PARTITION,
  listPartitions,
  MAX_BACKFILL_PARTITIONS,
  partitionName,
} from '../../src/events/stores/postgres-partitioning.js';
import { createTestSchema, describePg } from '../helpers/postgres.js';
import { appendRequest, openPgStore, preparedEvent, storedEvents } from './postgres-fixtures.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 2, 1); // 2026-03-01 00:00 UTC, a day's start
const DAILY = { interval: 'day', premake: 0 } as const;

describePg('PostgreSQL partitioning: the history partition', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function at(time: number, n: number): PreparedEvent {
    return { ...preparedEvent(null, n), time };
  }

  it('puts events older than the backfill window in a history partition from MINVALUE, which retention drops whole', async () => {
    const schema = await createTestSchema();
    const store = await openPgStore(schema.url);
    cleanups.push(async () => {
      await store.close();
      await schema.drop();
    });
    const handle = store.storage.handle();
    if (handle.kind !== 'postgres') throw new Error('not postgres');
    const o = { pool: handle.pool, schema };
    const old = at(START - 500 * DAY, 1);
    const recent = at(START + 1000, 2);
    for (const event of [old, recent]) storedEvents((await store.store.append([appendRequest([event])]))[0]);
    const ids = async () => (await store.store.readAll({ afterPosition: 0, limit: 100 })).map((e) => e.id);
    const names = async () => (await listPartitions(o.pool)).map((p) => p.name);
    const report = await convertToPartitioned(o.pool, o.schema.schema, DAILY, START);
    const firstDay = START - MAX_BACKFILL_PARTITIONS * DAY;
    expect(report.converted).toBe(true);
    expect(report.events).toBe(2);
    expect(report.partitions).toHaveLength(MAX_BACKFILL_PARTITIONS + 3);
    expect(report.partitions.slice(0, 2)).toEqual(['foundation_events_p_history', partitionName(firstDay)]);
    expect(report.partitions.slice(-2)).toEqual([partitionName(START), DEFAULT_PARTITION]);
    const history = (await listPartitions(o.pool)).find((p) => p.name === 'foundation_events_p_history');
    expect(history).toEqual({
      name: 'foundation_events_p_history',
      isDefault: false,
      from: null,
      to: firstDay,
    });

    const dropped = await dropPartitionsBefore(o.pool, firstDay, 100);
    expect(dropped).toEqual([{ name: 'foundation_events_p_history', from: 0, to: firstDay, events: 1 }]);
    expect(await ids()).toEqual([recent.id]);
    expect(await names()).not.toContain('foundation_events_p_history');
    expect(await names()).toHaveLength(MAX_BACKFILL_PARTITIONS + 2);
  });
});
