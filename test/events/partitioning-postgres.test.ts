/**
 * PostgreSQL time partitioning on a real server: the conversion keeps every event and the table's layout,
 * appends after it keep the event store's guarantees (ids unique across partitions, idempotent retries, id
 * conflicts, stream versions, increasing positions), the DEFAULT partition catches what no partition
 * covers, and retention detaches and drops whole old partitions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isFoundationError } from '../../src/errors/index.js';
import type { StoredEvent } from '../../src/events/model/types.js';
import { EventRetention, PostgresRetentionTarget } from '../../src/events/retention/index.js';
import {
  dropPartitionsBefore,
  premakePartitions,
} from '../../src/events/stores/postgres-partitioning-maintain.js';
import {
  convertToPartitioned,
  DEFAULT_PARTITION,
  isPartitioned,
  listPartitions,
} from '../../src/events/stores/postgres-partitioning.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { describePg } from '../helpers/postgres.js';
import { openPgEvents, partitionOf, rawEvents, rows, type PgEvents } from './partitioning-fixtures.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 2, 1, 12); // 2026-03-01 12:00 UTC

describePg('PostgreSQL time partitioning', () => {
  let opened: PgEvents | undefined;
  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });
  const open = async (clock: FakeClock, convert: boolean): Promise<PgEvents> => {
    opened = await openPgEvents({
      clock,
      ...(convert ? { partitioning: { interval: 'day', premake: 2 } } : {}),
    });
    return opened;
  };

  /** Three days of events: streams, a correlation chain, stream-less events. */
  async function seed(t: PgEvents, clock: FakeClock): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for (let day = 0; day < 3; day++) {
      for (let i = 0; i < 4; i++) {
        const r = await t.events.append([
          { type: 'order.created', stream: `order-${i}`, data: { day, i }, correlationId: `c-${i}` },
          { type: 'audit.logged', data: { day, i }, metadata: { who: 'x' } },
        ]);
        out.push(...r.events);
      }
      clock.setWallTime(clock.now() + DAY);
    }
    return out;
  }

  it('converts a table with data: every row, position, tx and stream version kept; partitions per day + DEFAULT', async () => {
    const clock = new FakeClock({ now: START });
    const t = await open(clock, false);
    const seeded = await seed(t, clock);
    const before = await rawEvents(t.pool);
    const versions = await rows(t.pool, 'SELECT * FROM foundation_streams ORDER BY stream');
    const report = await convertToPartitioned(
      t.pool,
      t.schema.schema,
      { interval: 'day', premake: 2 },
      clock.now(),
    );
    expect(report.converted).toBe(true);
    expect(report.events).toBe(seeded.length);
    expect(await isPartitioned(t.pool)).toBe(true);
    expect(await rawEvents(t.pool)).toEqual(before);
    expect(await rows(t.pool, 'SELECT * FROM foundation_streams ORDER BY stream')).toEqual(versions);
    expect((await listPartitions(t.pool)).map((p) => p.name)).toEqual([
      DEFAULT_PARTITION,
      'foundation_events_p20260301',
      'foundation_events_p20260302',
      'foundation_events_p20260303',
      'foundation_events_p20260304', // today (the clock moved on after the seed)
      'foundation_events_p20260305',
      'foundation_events_p20260306',
    ]);
    expect(await partitionOf(t.pool, (seeded[0] as StoredEvent).id)).toBe('foundation_events_p20260301');
    expect(await rows(t.pool, 'SELECT count(*)::int AS n FROM foundation_event_ids')).toEqual([
      { n: seeded.length },
    ]);
    // Reads through the store answer as before.
    expect(await t.events.readAll({ limit: 100 })).toEqual(seeded);
    expect(await t.events.readStream('order-1')).toEqual(seeded.filter((e) => e.stream === 'order-1'));
    expect((await t.events.query({ types: ['audit.*'], limit: 100 })).events).toHaveLength(12);
    expect(await t.events.get((seeded[5] as StoredEvent).id)).toEqual(seeded[5]);
    // A second conversion finds the work done.
    const again = await convertToPartitioned(t.pool, t.schema.schema, { interval: 'day' }, clock.now());
    expect(again).toEqual({ converted: false, events: 0, partitions: [] });
  });

  it('after conversion: positions continue, retries are idempotent and id conflicts refused across partitions', async () => {
    const clock = new FakeClock({ now: START });
    const t = await open(clock, false);
    const seeded = await seed(t, clock);
    await convertToPartitioned(t.pool, t.schema.schema, { interval: 'day', premake: 2 }, clock.now());
    const last = (seeded[seeded.length - 1] as StoredEvent).position;
    const fresh = await t.events.append({ type: 'order.created', stream: 'order-0', data: { later: true } });
    expect(fresh.position).toBeGreaterThan(last);
    expect(fresh.streamVersion).toBe(4);
    // A retry of a day-1 event now (its time would land in another partition): idempotent, not a second row.
    const old = seeded[0] as StoredEvent;
    const retry = await t.events.append({
      id: old.id,
      type: old.type,
      stream: old.stream as string,
      data: old.data,
      correlationId: old.correlationId as string,
    });
    expect(retry.idempotent).toBe(true);
    expect(retry.position).toBe(old.position);
    const conflict = await t.events.append({ id: old.id, type: old.type, data: { other: 1 } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isFoundationError(conflict) && conflict.code).toBe('FND_EVENTS_ID_CONFLICT');
    // A batch whose first event is new and second an old id with other content: nothing of it is stored.
    const mixed = await t.events
      .append([{ type: 'x.y' }, { id: (seeded[3] as StoredEvent).id, type: 'x.y' }])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isFoundationError(mixed) && mixed.code).toBe('FND_EVENTS_ID_CONFLICT');
    const count = await rows<{ n: number; ids: number }>(
      t.pool,
      'SELECT (SELECT count(*)::int FROM foundation_events) AS n, (SELECT count(*)::int FROM foundation_event_ids) AS ids',
    );
    expect(count).toEqual([{ n: seeded.length + 1, ids: seeded.length + 1 }]);
  });

  it('two processes appending the same ids at once store each id once; stream versions stay unique', async () => {
    const clock = new FakeClock({ now: START });
    const t = await open(clock, true);
    const other = await t.another();
    const ids = Array.from(
      { length: 20 },
      (_, i) => `0190a000-0000-7000-8000-${String(i).padStart(12, '0')}`,
    );
    const attempts = ids.flatMap((id, i) =>
      [t.events, other].map((store) =>
        store.append({ id, type: 'pay.made', stream: `pay-${i % 3}`, data: { i } }).then(
          (r) => r.idempotent,
          (e: unknown) => (isFoundationError(e) ? e.code : String(e)),
        ),
      ),
    );
    const outcomes = await Promise.all(attempts);
    expect(outcomes.filter((o) => o === false)).toHaveLength(20);
    expect(outcomes.filter((o) => o === true)).toHaveLength(20);
    const stored = await rows<{ id: string; n: number }>(
      t.pool,
      'SELECT id, count(*)::int AS n FROM foundation_events GROUP BY id HAVING count(*) > 1',
    );
    expect(stored).toEqual([]);
    const versions = await rows<{ stream: string; versions: string[] }>(
      t.pool,
      `SELECT stream, array_agg(stream_version::text ORDER BY stream_version) AS versions FROM foundation_events
       GROUP BY stream ORDER BY stream`,
    );
    for (const v of versions) {
      expect(v.versions).toEqual(Array.from({ length: v.versions.length }, (_, i) => String(i + 1)));
    }
    expect(versions.reduce((sum, v) => sum + v.versions.length, 0)).toBe(20);
  });

  it('an event no partition covers lands in DEFAULT, and premaking its interval moves it out', async () => {
    const clock = new FakeClock({ now: START });
    const t = await open(clock, true);
    clock.setWallTime(START + 10 * DAY); // beyond today + premake 2
    const far = await t.events.append({ type: 'late.event', stream: 'late' });
    const id = (far.events[0] as StoredEvent).id;
    expect(await partitionOf(t.pool, id)).toBe(DEFAULT_PARTITION);
    const made = await premakePartitions(t.pool, { interval: 'day', premake: 1 }, clock.now());
    expect(made.map((p) => [p.name, p.events])).toEqual([
      ['foundation_events_p20260311', 1],
      ['foundation_events_p20260312', 0],
    ]);
    expect(await partitionOf(t.pool, id)).toBe('foundation_events_p20260311');
    expect(await t.events.get(id)).toEqual(far.events[0]);
    // The moved row's id still guards: a retry is idempotent, other content conflicts.
    expect((await t.events.append({ id, type: 'late.event', stream: 'late' })).idempotent).toBe(true);
    expect(await premakePartitions(t.pool, { interval: 'day', premake: 1 }, clock.now())).toEqual([]);
  });

  it('retention detaches and drops whole partitions past the * age limit, ids and all', async () => {
    const clock = new FakeClock({ now: START });
    const t = await open(clock, true);
    const seeded = await seed(t, clock); // 03-01 … 03-03 at 12:00
    clock.setWallTime(Date.UTC(2026, 2, 4, 13)); // cutoff of 2 days: 03-02 13:00
    const target = new PostgresRetentionTarget(t.storage, { partitioning: { interval: 'day', premake: 2 } });
    const retention = new EventRetention({
      events: t.events,
      target,
      policies: [{ types: '*', maxAgeMs: 2 * DAY }],
      clock,
    });
    const report = await retention.runRetention();
    // The 03-01 partition ends at 03-02 00:00 ≤ cutoff → dropped; the 03-02 events (12:00) go by DELETE.
    expect(report.partitions.dropped).toEqual([
      {
        name: 'foundation_events_p20260301',
        from: Date.UTC(2026, 2, 1),
        to: Date.UTC(2026, 2, 2),
        events: 8,
      },
    ]);
    expect(report.partitions.created.map((p) => p.name)).toEqual([
      'foundation_events_p20260304',
      'foundation_events_p20260305',
      'foundation_events_p20260306',
    ]);
    expect(report.policies[0]?.deletedByAge).toBe(8); // the 03-02 events, by DELETE
    expect(report.deleted).toBe(16);
    expect((await listPartitions(t.pool)).map((p) => p.name)).not.toContain('foundation_events_p20260301');
    expect(
      await rows(t.pool, `SELECT relname FROM pg_class WHERE relname LIKE 'foundation_events_detached%'`),
    ).toEqual([]);
    const left = await t.events.readAll({ limit: 100 });
    expect(left.filter((e) => e.type !== 'foundation.retention.completed').map((e) => e.id)).toEqual(
      seeded.slice(16).map((e) => e.id),
    );
    expect(await rows(t.pool, 'SELECT count(*)::int AS n FROM foundation_event_ids')).toEqual([
      { n: left.length },
    ]);
    expect(await t.events.streamVersion('order-0')).toBe(3);
    // An id of a dropped event may be appended again (it is gone), as on an unpartitioned table.
    const again = await t.events.append({ id: (seeded[0] as StoredEvent).id, type: 'order.created' });
    expect(again.idempotent).toBe(false);
  });

  it('a policy that outlives * keeps partitions: retention falls back to DELETE inside them', async () => {
    const clock = new FakeClock({ now: START });
    const t = await open(clock, true);
    await seed(t, clock);
    const retention = new EventRetention({
      events: t.events,
      target: new PostgresRetentionTarget(t.storage),
      policies: [
        { types: '*', maxAgeMs: 2 * DAY },
        { types: 'audit.*', maxAgeMs: 30 * DAY },
      ],
      clock,
    });
    const report = await retention.runRetention();
    expect(report.partitions.dropped).toEqual([]);
    expect(report.policies.map((p) => p.deletedByAge)).toEqual([4, 0]); // day 1's order events
    expect((await listPartitions(t.pool)).map((p) => p.name)).toContain('foundation_events_p20260301');
    expect(await rows(t.pool, 'SELECT count(*)::int AS n FROM foundation_events_p20260301')).toEqual([
      { n: 4 },
    ]);
  });

  it('finishes a partition a crashed run detached but did not drop', async () => {
    const clock = new FakeClock({ now: START });
    const t = await open(clock, true);
    await seed(t, clock);
    await t.pool.query('ALTER TABLE foundation_events DETACH PARTITION foundation_events_p20260301');
    await t.pool.query(
      'ALTER TABLE foundation_events_p20260301 RENAME TO foundation_events_detached_p20260301',
    );
    expect(await rows(t.pool, 'SELECT count(*)::int AS n FROM foundation_event_ids')).toEqual([{ n: 24 }]);
    const dropped = await dropPartitionsBefore(t.pool, Date.UTC(2026, 1, 1), 3);
    expect(dropped.map((d) => [d.name, d.events])).toEqual([['foundation_events_p20260301', 8]]);
    expect(await rows(t.pool, 'SELECT count(*)::int AS n FROM foundation_event_ids')).toEqual([{ n: 16 }]);
    expect(
      await rows(t.pool, `SELECT relname FROM pg_class WHERE relname LIKE 'foundation_events_detached%'`),
    ).toEqual([]);
  });

  it('the first retention run converts the table and reports the partitions it made', async () => {
    const clock = new FakeClock({ now: START });
    const t = await open(clock, false);
    await t.events.append({ type: 'order.created' });
    const retention = new EventRetention({
      events: t.events,
      target: new PostgresRetentionTarget(t.storage, { partitioning: { interval: 'week', premake: 1 } }),
      policies: [{ types: '*', maxAgeMs: 365 * DAY }],
      clock,
    });
    const report = await retention.runRetention();
    expect(await isPartitioned(t.pool)).toBe(true);
    expect(report.partitions.created).toEqual([
      {
        name: 'foundation_events_p20260223',
        from: Date.UTC(2026, 1, 23),
        to: Date.UTC(2026, 2, 2),
        events: 0,
      },
      {
        name: 'foundation_events_p20260302',
        from: Date.UTC(2026, 2, 2),
        to: Date.UTC(2026, 2, 9),
        events: 0,
      },
    ]);
    expect((await retention.runRetention()).partitions.created).toEqual([]);
    expect(await t.events.readAll()).toHaveLength(3); // the event and two reports
  });

  it('refuses bad partitioning options with FND_EVENTS_INVALID_POLICY, converting nothing', async () => {
    const clock = new FakeClock({ now: START });
    const t = await open(clock, false);
    for (const bad of [
      { interval: 'hour' },
      { interval: 'day', premake: -1 },
      { interval: 'day', x: 1 },
      null,
    ]) {
      await expect(
        convertToPartitioned(t.pool, t.schema.schema, bad as never, clock.now()),
      ).rejects.toMatchObject({
        code: 'FND_EVENTS_INVALID_POLICY',
      });
      expect(() => new PostgresRetentionTarget(t.storage, { partitioning: bad as never })).toThrow(
        expect.objectContaining({ code: 'FND_EVENTS_INVALID_POLICY' }),
      );
    }
    expect(await isPartitioned(t.pool)).toBe(false);
  });
});

describe('partition intervals', () => {
  it('day, ISO week and month boundaries in UTC', async () => {
    const { intervalStart, nextIntervalStart, partitionName } =
      await import('../../src/events/stores/postgres-partitioning.js');
    const t = Date.UTC(2026, 1, 28, 23, 59); // Saturday 2026-02-28
    expect(intervalStart('day', t)).toBe(Date.UTC(2026, 1, 28));
    expect(intervalStart('week', t)).toBe(Date.UTC(2026, 1, 23)); // Monday
    expect(intervalStart('week', Date.UTC(2026, 1, 23))).toBe(Date.UTC(2026, 1, 23));
    expect(intervalStart('month', t)).toBe(Date.UTC(2026, 1, 1));
    expect(nextIntervalStart('month', Date.UTC(2026, 11, 1))).toBe(Date.UTC(2027, 0, 1));
    expect(nextIntervalStart('week', Date.UTC(2026, 1, 23))).toBe(Date.UTC(2026, 2, 2));
    expect(partitionName(Date.UTC(2026, 1, 23))).toBe('foundation_events_p20260223');
  });
});
