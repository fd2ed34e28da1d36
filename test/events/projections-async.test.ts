/**
 * Async projections on memory, SQLite and PostgreSQL: follow appends, resume after a restart from the
 * checkpoint without applying an event twice, rebuild from position 0 with progress, stop on a throwing
 * `evolve` (state of the last good batch kept), refuse bad definitions with stored rows intact, stay
 * exactly-once with two runners of one projection, and equal a plain fold of the log for random sequences.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FoundationError } from '../../src/errors/index.js';
import type { TelemetryMessage } from '../../src/kernel/telemetry.js';
import { describePg } from '../helpers/postgres.js';
import type { Env, Kind } from './projections-fixtures.js';
import { accounts, allRows, deposit, openEnv, referenceFold } from './projections-fixtures.js';

function asyncSuite(kind: Kind): void {
  let env: Env;
  beforeAll(async () => {
    env = await openEnv(kind);
  });
  afterAll(async () => {
    await env.close();
  });

  it('follows appends: rows equal the fold of the log, deletes included', async () => {
    const def = accounts('follow');
    const projections = env.projections();
    await projections.register(def);
    await projections.start();
    await deposit(env.events, 20, 4);
    await env.events.append({ type: 'account.withdrawn', stream: 'acc-1', data: { amount: 3 } });
    await env.events.append({ type: 'other.thing', stream: 'acc-2', data: {} });
    const closed = await env.events.append({ type: 'account.closed', stream: 'acc-3', data: {} });
    await projections.waitFor('follow', closed.position);
    const rows = await allRows(projections, 'follow');
    expect(rows).toEqual(await referenceFold(env.events, def));
    expect(rows.has('acc-3')).toBe(false);
    expect(rows.get('acc-1')).toMatchObject({ count: 6 });
    const status = await projections.status('follow');
    expect(status).toMatchObject({
      name: 'follow',
      mode: 'async',
      state: 'running',
      position: closed.position,
    });
    expect(typeof status?.checkpoint).toBe('string');
    const row = await projections.get('follow', 'acc-0');
    expect(row).toMatchObject({ key: 'acc-0', state: { count: 5 } });
    expect(row?.position).toBeGreaterThan(0);
    await projections.stop();
  });

  it('resumes after a restart from its checkpoint, applying no event twice', async () => {
    const def = accounts('resume');
    const applied = new Map<string, number>();
    const counting = accounts('resume', 'async', (event) => {
      applied.set(event.id, (applied.get(event.id) ?? 0) + 1);
    });
    const first = env.projections({ batchSize: 3 });
    await first.register(counting);
    await first.start();
    const mid = await deposit(env.events, 30, 3, 100);
    await first.waitFor('resume', mid - 15);
    // Stopped mid-way: the batch in flight commits or is abandoned, never half.
    await first.stop();
    const stoppedAt = (await first.status('resume'))?.position ?? 0;
    expect(stoppedAt).toBeGreaterThanOrEqual(mid - 15);
    const last = await deposit(env.events, 30, 3, 200);
    const second = env.projections({ batchSize: 7 });
    await second.register(counting);
    await second.start();
    await second.waitFor('resume', last);
    expect(await allRows(second, 'resume')).toEqual(await referenceFold(env.events, def));
    // Events the first runner committed were not handed to evolve again after the restart.
    const page = await env.events.readAll({ afterPosition: stoppedAt, limit: 1000 });
    const after = new Set(page.map((e) => e.id));
    for (const [id, times] of applied) {
      // Events before the stop point were folded by the first runner (once; an abandoned batch may have been
      // folded but not committed, then folded again: evolve is pure, the rows count each event once).
      if (after.has(id)) expect(times).toBe(1);
    }
    await second.stop();
  });

  it('rebuilds from position 0 with progress, reaching the state of a fresh fold', async () => {
    const def = accounts('rebuild');
    const projections = env.projections({ batchSize: 4 });
    await projections.register(def);
    await projections.start();
    const last = await deposit(env.events, 25, 5, 300);
    await projections.waitFor('rebuild', last);
    const before = await allRows(projections, 'rebuild');
    const progress: { position: number; target: number; ratio: number }[] = [];
    const listener = (message: unknown): void => {
      const m = message as TelemetryMessage;
      if (m.metadata.projection === 'rebuild') progress.push(m.measurements as (typeof progress)[number]);
    };
    diagnosticsChannel.subscribe('foundation:events:projection_rebuild_progress', listener);
    try {
      const reset = await projections.rebuild('rebuild');
      expect(reset.state).toBe('rebuilding');
      expect(reset.rebuild).toEqual({ position: 0, target: last, ratio: 0 });
      await projections.waitFor('rebuild', last);
    } finally {
      diagnosticsChannel.unsubscribe('foundation:events:projection_rebuild_progress', listener);
    }
    const status = await projections.status('rebuild');
    expect(status?.state).toBe('running');
    expect(status?.rebuild).toBeUndefined();
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((p) => p.target === last)).toBe(true);
    for (let i = 1; i < progress.length; i++) {
      expect((progress[i] as { ratio: number }).ratio).toBeGreaterThanOrEqual(
        (progress[i - 1] as { ratio: number }).ratio,
      );
    }
    expect(progress[progress.length - 1]).toEqual({ position: last, target: last, ratio: 1 });
    const after = await allRows(projections, 'rebuild');
    expect(after).toEqual(before);
    expect(after).toEqual(await referenceFold(env.events, def));
    await projections.stop();
  });

  it('stops on a throwing evolve with FND_EVENTS_PROJECTION_FAILED, keeping the last good batch', async () => {
    const broken = { id: '' };
    const def = accounts('fails', 'async', (event) => {
      if (event.id === broken.id) throw new Error('boom');
    });
    const start = await deposit(env.events, 3, 3, 400);
    const bad = await env.events.append({
      type: 'account.deposited',
      stream: 'acc-bad',
      data: { amount: 1 },
    });
    broken.id = bad.events[0]?.id ?? '';
    await deposit(env.events, 3, 3, 410);
    const projections = env.projections({ batchSize: 1 });
    await projections.register(def);
    await projections.start();
    const failure = await projections.waitFor('fails', bad.position + 3).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(FoundationError);
    expect((failure as FoundationError).code).toBe('FND_EVENTS_PROJECTION_FAILED');
    expect((failure as FoundationError).context).toMatchObject({ eventId: broken.id, projection: 'fails' });
    const status = await projections.status('fails');
    expect(status?.state).toBe('failed');
    expect(status?.error).toMatchObject({ code: 'FND_EVENTS_PROJECTION_FAILED', eventId: broken.id });
    expect(status?.position).toBe(start);
    // Rows hold every event before the bad one, nothing after.
    const rows = await allRows(projections, 'fails');
    expect(rows.has('acc-bad')).toBe(false);
    const folded = [...rows.values()].reduce<number>((sum, s) => sum + (s as { count: number }).count, 0);
    expect(folded).toBeGreaterThan(0);
    // Retry by restart once the cause is gone: it continues from the last good batch.
    broken.id = 'fixed';
    await projections.restart('fails');
    await projections.waitFor('fails', bad.position + 3);
    expect((await projections.status('fails'))?.state).toBe('running');
    expect(await allRows(projections, 'fails')).toEqual(await referenceFold(env.events, def));
    await projections.stop();
  });

  it('refuses bad definitions with FND_EVENTS_INVALID_POLICY and leaves stored rows intact', async () => {
    const projections = env.projections();
    const def = accounts('intact');
    await projections.register(def);
    await projections.start();
    const last = await deposit(env.events, 5, 2, 500);
    await projections.waitFor('intact', last);
    const before = await allRows(projections, 'intact');
    const garbage: unknown[] = [
      null,
      'projection',
      { ...def, name: '' },
      { ...def, name: 'bad name!' },
      { ...def, name: 'x'.repeat(101) },
      { ...def, key: 'stream' },
      { ...def, evolve: undefined },
      { ...def, initial: 42 },
      { ...def, mode: 'sometimes' },
      { ...def, filter: { types: 'not-a-list-of-valid-types!' } },
      { ...def, filter: { from: 5 } },
      { ...def, filter: [] },
      { ...def, extra: true },
      def, // already registered
    ];
    for (const input of garbage) {
      const error = await projections.register(input as typeof def).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as FoundationError | undefined)?.code, JSON.stringify(input)).toBe(
        'FND_EVENTS_INVALID_POLICY',
      );
    }
    expect(await allRows(projections, 'intact')).toEqual(before);
    expect((await projections.statuses()).map((s) => s.name)).not.toContain('bad name!');
    await projections.stop();
  });

  it('stays exactly-once with two runners of one projection (checkpoint compare-and-set)', async () => {
    const def = accounts('twice');
    const a = env.projections({ batchSize: 2 });
    const b = env.projections({ batchSize: 3 });
    await a.register(def);
    await b.register(def);
    await a.start();
    await b.start();
    const last = await deposit(env.events, 40, 4, 600);
    // Whichever runner commits a batch, the other one's next commit meets a moved checkpoint, and it resumes
    // from the stored one: both end at the last event, each event folded into the rows once.
    await Promise.all([a.waitFor('twice', last), b.waitFor('twice', last)]);
    expect(await allRows(a, 'twice')).toEqual(await referenceFold(env.events, def));
    await a.stop();
    await b.stop();
  });

  it('equals a plain fold of readAll for random event sequences (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            type: fc.constantFrom('account.deposited', 'account.withdrawn', 'account.closed', 'noise.event'),
            stream: fc.constantFrom('p-a', 'p-b', 'p-c', 'p-d'),
            amount: fc.integer({ min: 0, max: 1000 }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.integer({ min: 1, max: 8 }),
        async (sequence, batchSize) => {
          run++;
          const name = `prop-${run}`;
          const def = accounts(name);
          const projections = env.projections({ batchSize });
          await projections.register(def);
          await projections.start();
          for (const e of sequence) {
            await env.events.append({
              type: e.type,
              stream: `${name}-${e.stream}`,
              data: { amount: e.amount },
            });
          }
          // The projection folds the whole log (earlier tests' events too): wait for its last matching event.
          const head = await env.events.query({ types: ['account.*'], order: 'desc', limit: 1 });
          const last = head.events[0]?.position ?? 0;
          if (last > 0) await projections.waitFor(name, last);
          const folded = await referenceFold(env.events, def);
          expect(await allRows(projections, name)).toEqual(folded);
          if (last > 0) {
            await projections.rebuild(name);
            await projections.waitFor(name, last);
            expect(await allRows(projections, name)).toEqual(folded);
          }
          await projections.stop();
        },
      ),
      { numRuns: kind === 'postgres' ? 8 : 20 },
    );
  });
}

describe('async projections on memory', () => {
  asyncSuite('memory');
});

describe('async projections on SQLite', () => {
  asyncSuite('sqlite');
});

describePg('async projections on PostgreSQL', () => {
  asyncSuite('postgres');
});
