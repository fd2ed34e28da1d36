/**
 * Retention cases every store passes (memory, SQLite, PostgreSQL): age and count limits, most specific
 * pattern wins, bounded batches, stream versions kept, the report event, garbage policies.
 *
 * @module
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFoundationError } from '../../src/errors/index.js';
import type { EventStore } from '../../src/events/event-store.js';
import type { StoredEvent } from '../../src/events/model/types.js';
import {
  EventRetention,
  RETENTION_COMPLETED_TYPE,
  type RetentionReport,
  type RetentionTarget,
} from '../../src/events/retention/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';

/** A started, empty store whose events carry `clock`'s time, and its retention target. */
export interface RetentionFixture {
  readonly events: EventStore;
  readonly target: RetentionTarget;
  readonly cleanup: () => Promise<void>;
}

/** Makes a fixture on a fake clock. */
export type MakeRetentionFixture = (clock: FakeClock) => Promise<RetentionFixture>;

const DAY = 86_400_000;

async function all(events: EventStore): Promise<StoredEvent[]> {
  return events.readAll({ limit: 10_000 });
}

/** Stored events minus the retention reports. */
async function userEvents(events: EventStore): Promise<StoredEvent[]> {
  return (await all(events)).filter((e) => e.type !== RETENTION_COMPLETED_TYPE);
}

async function appendMany(
  events: EventStore,
  type: string,
  n: number,
  stream?: string,
): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (let i = 0; i < n; i++) {
    const r = await events.append({ type, data: { i }, ...(stream === undefined ? {} : { stream }) });
    out.push(...r.events);
  }
  return out;
}

/** Registers the shared retention cases for one store. */
export function retentionCases(name: string, make: MakeRetentionFixture): void {
  describe(`retention: ${name}`, () => {
    let clock: FakeClock;
    let fixture: RetentionFixture;
    beforeEach(async () => {
      clock = new FakeClock({ now: Date.UTC(2026, 0, 10) });
      fixture = await make(clock);
    });
    afterEach(async () => {
      await fixture.cleanup();
    });
    const retention = (policies: unknown, batchSize?: number): EventRetention =>
      new EventRetention({
        events: fixture.events,
        target: fixture.target,
        policies,
        clock,
        ...(batchSize === undefined ? {} : { batchSize }),
      });

    it('deletes events older than maxAgeMs and keeps the newer ones', async () => {
      await appendMany(fixture.events, 'order.created', 5);
      clock.setWallTime(clock.now() + 10 * DAY);
      const fresh = await appendMany(fixture.events, 'order.created', 3);
      const report = await retention([{ types: '*', maxAgeMs: 5 * DAY }]).runRetention();
      expect(report.deleted).toBe(5);
      expect(report.policies).toEqual([
        { types: '*', maxAgeMs: 5 * DAY, maxCount: null, deletedByAge: 5, deletedByCount: 0 },
      ]);
      expect((await userEvents(fixture.events)).map((e) => e.id)).toEqual(fresh.map((e) => e.id));
    });

    it('keeps only the newest maxCount events, and positions keep increasing after it', async () => {
      const appended = await appendMany(fixture.events, 'order.created', 10);
      const report = await retention([{ types: 'order.created', maxCount: 3 }]).runRetention();
      expect(report.policies[0]?.deletedByCount).toBe(7);
      const left = await userEvents(fixture.events);
      expect(left.map((e) => e.id)).toEqual(appended.slice(7).map((e) => e.id));
      const next = await fixture.events.append({ type: 'order.created' });
      expect(next.position).toBeGreaterThan((appended[9] as StoredEvent).position);
    });

    it('lets the most specific pattern govern an event: exact, then longer prefix, then *', async () => {
      await appendMany(fixture.events, 'cart.viewed', 2);
      await appendMany(fixture.events, 'audit.change', 2);
      const logins = await appendMany(fixture.events, 'audit.login', 4);
      clock.setWallTime(clock.now() + 10 * DAY);
      const report = await retention([
        { types: '*', maxAgeMs: DAY },
        { types: 'audit.*', maxAgeMs: 30 * DAY },
        { types: 'audit.login', maxCount: 2 },
      ]).runRetention();
      const left = await userEvents(fixture.events);
      expect(left.map((e) => e.type)).toEqual(['audit.change', 'audit.change', 'audit.login', 'audit.login']);
      expect(left.slice(2).map((e) => e.id)).toEqual(logins.slice(2).map((e) => e.id));
      expect(report.policies.map((p) => [p.types, p.deletedByAge, p.deletedByCount])).toEqual([
        ['*', 2, 0],
        ['audit.*', 0, 0],
        ['audit.login', 0, 2],
      ]);
    });

    it('a prefix pattern matches its dotted children only', async () => {
      await appendMany(fixture.events, 'order', 1);
      await appendMany(fixture.events, 'order.created', 1);
      await appendMany(fixture.events, 'orders.created', 1);
      await appendMany(fixture.events, 'order.line.added', 1);
      clock.setWallTime(clock.now() + 2 * DAY);
      await retention([{ types: 'order.*', maxAgeMs: DAY }]).runRetention();
      expect((await userEvents(fixture.events)).map((e) => e.type)).toEqual(['order', 'orders.created']);
    });

    it('deletes in bounded batches, each its own statement', async () => {
      await appendMany(fixture.events, 'log.line', 7);
      await appendMany(fixture.events, 'keep.me', 1);
      clock.setWallTime(clock.now() + 2 * DAY);
      const report = await retention([{ types: 'log.*', maxAgeMs: DAY }], 2).runRetention();
      expect(report.deleted).toBe(7);
      expect(report.batches).toBe(4); // 2 + 2 + 2 + 1
      expect((await userEvents(fixture.events)).map((e) => e.type)).toEqual(['keep.me']);
    });

    it('never touches stream versions: expected versions and reads of a truncated stream stay right', async () => {
      await appendMany(fixture.events, 'account.credited', 5, 'acct-1');
      clock.setWallTime(clock.now() + 2 * DAY);
      await appendMany(fixture.events, 'account.credited', 2, 'acct-1');
      await retention([{ types: 'account.*', maxAgeMs: DAY }]).runRetention();
      expect(await fixture.events.streamVersion('acct-1')).toBe(7);
      const forward = await fixture.events.readStream('acct-1');
      expect(forward.map((e) => e.streamVersion)).toEqual([6, 7]);
      expect(
        (await fixture.events.readStream('acct-1', { from: 2, limit: 1 })).map((e) => e.streamVersion),
      ).toEqual([6]);
      const backward = await fixture.events.readStream('acct-1', { direction: 'backward' });
      expect(backward.map((e) => e.streamVersion)).toEqual([7, 6]);
      expect(await fixture.events.readStream('acct-1', { direction: 'backward', from: 5 })).toEqual([]);
      const conflict = await fixture.events
        .append({ type: 'account.credited', stream: 'acct-1' }, { expectedVersion: 'no_stream' })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isFoundationError(conflict) && conflict.code).toBe('FND_EVENTS_VERSION_CONFLICT');
      const next = await fixture.events.append(
        { type: 'account.credited', stream: 'acct-1' },
        { expectedVersion: 7 },
      );
      expect(next.streamVersion).toBe(8);
    });

    it('reads after deletions page through the log by position', async () => {
      const appended: StoredEvent[] = [];
      for (let i = 0; i < 12; i++)
        appended.push(...(await appendMany(fixture.events, i % 3 === 0 ? 'noise.x' : 'kept.x', 1)));
      await retention([{ types: 'noise.*', maxCount: 1 }]).runRetention();
      const kept = appended.filter((e, i) => e.type === 'kept.x' || i === 9).map((e) => e.id);
      const paged: string[] = [];
      for (let after = 0; ;) {
        const batch = (await fixture.events.readAll({ afterPosition: after, limit: 3 })).filter(
          (e) => e.type !== RETENTION_COMPLETED_TYPE,
        );
        const raw = await fixture.events.readAll({ afterPosition: after, limit: 3 });
        if (raw.length === 0) break;
        paged.push(...batch.map((e) => e.id));
        after = (raw[raw.length - 1] as StoredEvent).position;
      }
      expect(paged).toEqual(kept);
      expect(await fixture.events.get((appended[0] as StoredEvent).id)).toBeUndefined();
      const page = await fixture.events.query({ types: ['noise.*'] });
      expect(page.events.map((e) => e.id)).toEqual([(appended[9] as StoredEvent).id]);
    });

    it('reports every run as a foundation.retention.completed event in the log', async () => {
      await appendMany(fixture.events, 'tick', 3);
      clock.setWallTime(clock.now() + 2 * DAY);
      const service = retention([{ types: 'tick', maxAgeMs: DAY }]);
      const seen: unknown[] = [];
      const listener = (message: unknown): void => {
        seen.push(message);
      };
      diagnosticsChannel.subscribe('foundation:events:retention_completed', listener);
      let first: RetentionReport;
      let second: RetentionReport;
      try {
        first = await service.runRetention();
        second = await service.runRetention();
      } finally {
        diagnosticsChannel.unsubscribe('foundation:events:retention_completed', listener);
      }
      expect(seen).toHaveLength(2);
      expect(seen[0]).toMatchObject({ measurements: { deleted: 3, batches: 1 }, metadata: { policies: 1 } });
      const reports = (await fixture.events.query({ types: [RETENTION_COMPLETED_TYPE] })).events;
      expect(reports).toHaveLength(2);
      expect(reports[0]?.data).toEqual(JSON.parse(JSON.stringify(first)) as RetentionReport);
      expect((reports[1]?.data as unknown as RetentionReport).deleted).toBe(0);
      expect(second.deleted).toBe(0);
      expect(first).toMatchObject({
        startedAt: clock.now(),
        deleted: 3,
        partitions: { created: [], dropped: [] },
      });
    });

    it('refuses garbage policies with FND_EVENTS_INVALID_POLICY and deletes nothing', async () => {
      await appendMany(fixture.events, 'order.created', 4);
      clock.setWallTime(clock.now() + 10 * DAY);
      const garbage: unknown[] = [
        undefined,
        {},
        [{ types: 'Order.created', maxAgeMs: 1 }],
        [{ types: '*' }],
        [{ types: '*', maxAgeMs: -1 }],
        [{ types: '*', maxAgeMs: 1.5 }],
        [{ types: '*', maxCount: 0 }],
        [{ types: '*', maxAgeMs: 1, extra: true }],
        [{ types: 'order.**', maxAgeMs: 1 }],
        [
          { types: '*', maxAgeMs: 1 },
          { types: '*', maxCount: 1 },
        ],
        ['*'],
      ];
      for (const policies of garbage) {
        expect(() => retention(policies)).toThrow(
          expect.objectContaining({ code: 'FND_EVENTS_INVALID_POLICY' }),
        );
      }
      const service = retention([{ types: 'other.*', maxAgeMs: DAY }]);
      expect(() => {
        service.setPolicies([{ types: '*', maxAgeMs: 'soon' }]);
      }).toThrow(expect.objectContaining({ code: 'FND_EVENTS_INVALID_POLICY' }));
      expect(service.policies).toEqual([{ types: 'other.*', maxAgeMs: DAY }]);
      await service.runRetention();
      expect(await userEvents(fixture.events)).toHaveLength(4);
    });
  });
}
