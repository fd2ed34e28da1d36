/**
 * Inline projections on memory, SQLite and PostgreSQL: updated inside the append's transaction (visible when
 * the append resolves), a throwing `evolve` fails only its own append (nothing of it stored, concurrent
 * appends grouped with it still commit), a refused append changes no row, an idempotent retry is not
 * applied twice, bad definitions leave rows intact, and rows always equal a plain fold of the log.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FoundationError } from '../../src/errors/index.js';
import type { StoredEvent } from '../../src/events/model/types.js';
import type { TelemetryMessage } from '../../src/kernel/telemetry.js';
import { describePg } from '../helpers/postgres.js';
import type { Env, Kind } from './projections-fixtures.js';
import { accounts, allRows, openEnv, referenceFold } from './projections-fixtures.js';

/** Throws for events whose data says `poison: true`. */
function poisonHook(event: StoredEvent): void {
  if ((event.data as { poison?: boolean }).poison === true) throw new Error('poisoned');
}

async function codeOf(pending: Promise<unknown>): Promise<string | undefined> {
  return pending.then(
    () => undefined,
    (error: unknown) => (error instanceof FoundationError ? error.code : String(error)),
  );
}

function inlineSuite(kind: Kind): void {
  let env: Env;
  beforeAll(async () => {
    env = await openEnv(kind);
  });
  afterAll(async () => {
    await env.close();
  });

  it('is updated by the append itself: the row is there when append resolves', async () => {
    const projections = env.projections();
    await projections.register(accounts('live', 'inline'));
    await projections.start();
    const first = await env.events.append({ type: 'account.deposited', stream: 'i-1', data: { amount: 5 } });
    expect(await projections.get('live', 'i-1')).toMatchObject({
      state: { count: 1, balance: 5, last: first.position },
      position: first.position,
    });
    await env.events.append([
      { type: 'account.withdrawn', stream: 'i-1', data: { amount: 2 } },
      { type: 'unrelated.event', stream: 'i-1', data: { amount: 100 } },
      { type: 'account.deposited', stream: 'i-2', data: { amount: 1 } },
    ]);
    expect((await projections.get('live', 'i-1'))?.state).toMatchObject({ count: 2, balance: 3 });
    const closed = await env.events.append({ type: 'account.closed', stream: 'i-2', data: {} });
    expect(await projections.get('live', 'i-2')).toBeUndefined();
    const status = await projections.status('live');
    expect(status).toMatchObject({ mode: 'inline', state: 'running', position: closed.position });
    expect(await allRows(projections, 'live')).toEqual(await referenceFold(env.events, accounts('live')));
    // Stopping the service leaves inline projections attached: appends made meanwhile are still projected.
    await projections.stop();
    await env.events.append({ type: 'account.deposited', stream: 'i-1', data: { amount: 7 } });
    expect((await projections.get('live', 'i-1'))?.state).toMatchObject({ count: 3, balance: 10 });
    projections.detachInline();
    await env.events.append({ type: 'account.deposited', stream: 'i-1', data: { amount: 7 } });
    expect((await projections.get('live', 'i-1'))?.state).toMatchObject({ count: 3, balance: 10 });
  });

  it('fails only the append whose evolve throws: nothing of it stored, rows unchanged', async () => {
    const projections = env.projections();
    await projections.register(accounts('strict', 'inline', poisonHook));
    await projections.start();
    await env.events.append({ type: 'account.deposited', stream: 's-1', data: { amount: 10 } });
    const before = await allRows(projections, 'strict');
    const version = await env.events.streamVersion('s-1');
    const poisoned = env.events.append([
      { type: 'account.deposited', stream: 's-1', data: { amount: 1 } },
      { type: 'account.deposited', stream: 's-2', data: { amount: 1, poison: true } },
    ]);
    const error = await poisoned.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FoundationError);
    expect((error as FoundationError).code).toBe('FND_EVENTS_PROJECTION_FAILED');
    expect((error as FoundationError).context).toMatchObject({ projection: 'strict', step: 'evolve' });
    const eventId = (error as FoundationError).context.eventId as string;
    expect(await env.events.get(eventId)).toBeUndefined();
    expect(await env.events.streamVersion('s-1')).toBe(version);
    expect(await env.events.streamVersion('s-2')).toBe(0);
    expect(await allRows(projections, 'strict')).toEqual(before);
    // The store goes on: the next append is stored and projected.
    await env.events.append({ type: 'account.deposited', stream: 's-1', data: { amount: 3 } });
    expect((await projections.get('strict', 's-1'))?.state).toMatchObject({ count: 2, balance: 13 });
    expect(await allRows(projections, 'strict')).toEqual(await referenceFold(env.events, accounts('strict')));
    await projections.stop();
  });

  it('lets concurrent appends grouped with a throwing one commit', async () => {
    const projections = env.projections();
    await projections.register(accounts('grouped', 'inline', poisonHook));
    await projections.start();
    let largestGroup = 0;
    const listener = (message: unknown): void => {
      largestGroup = Math.max(largestGroup, (message as TelemetryMessage).measurements.requests ?? 0);
    };
    diagnosticsChannel.subscribe('foundation:events:group_committed', listener);
    let outcomes: (string | undefined)[];
    try {
      outcomes = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          codeOf(
            env.events.append({
              type: 'account.deposited',
              stream: `g-${i % 3}`,
              data: { amount: i, poison: i % 5 === 2 },
            }),
          ),
        ),
      );
    } finally {
      diagnosticsChannel.unsubscribe('foundation:events:group_committed', listener);
    }
    expect(largestGroup).toBeGreaterThan(1);
    outcomes.forEach((code, i) => {
      expect(code, `append ${i}`).toBe(i % 5 === 2 ? 'FND_EVENTS_PROJECTION_FAILED' : undefined);
    });
    const page = await env.events.query({
      types: ['account.*'],
      where: [{ path: 'data.poison', op: 'eq', value: true }],
    });
    expect(page.events).toEqual([]);
    const rows = await allRows(projections, 'grouped');
    expect(rows).toEqual(await referenceFold(env.events, accounts('grouped')));
    expect([0, 1, 2].map((s) => (rows.get(`g-${s}`) as { count: number }).count)).toEqual([7, 6, 6]);
    await projections.stop();
  });

  it('changes no row when the append is refused (version conflict) and applies an idempotent retry once', async () => {
    const projections = env.projections();
    await projections.register(accounts('checked', 'inline'));
    await projections.start();
    const first = await env.events.append(
      { type: 'account.deposited', stream: 'c-1', data: { amount: 1 } },
      { expectedVersion: 'no_stream' },
    );
    const before = await allRows(projections, 'checked');
    expect(
      await codeOf(
        env.events.append(
          { type: 'account.deposited', stream: 'c-1', data: { amount: 50 } },
          { expectedVersion: 0 },
        ),
      ),
    ).toBe('FND_EVENTS_VERSION_CONFLICT');
    expect(await allRows(projections, 'checked')).toEqual(before);
    const id = first.events[0]?.id as string;
    const retry = await env.events.append({
      id,
      type: 'account.deposited',
      stream: 'c-1',
      data: { amount: 1 },
    });
    expect(retry.idempotent).toBe(true);
    expect((await projections.get('checked', 'c-1'))?.state).toMatchObject({ count: 1, balance: 1 });
    await projections.stop();
  });

  it('refuses bad definitions with FND_EVENTS_INVALID_POLICY, rows intact, appends unaffected', async () => {
    const projections = env.projections();
    const def = accounts('kept', 'inline');
    await projections.register(def);
    await projections.start();
    await env.events.append({ type: 'account.deposited', stream: 'k-1', data: { amount: 4 } });
    const before = await allRows(projections, 'kept');
    for (const input of [
      { ...def, evolve: 'x' },
      { ...def, mode: 'INLINE' },
      { ...def, filter: { stream: '' } },
      def,
    ]) {
      expect(await codeOf(projections.register(input as typeof def))).toBe('FND_EVENTS_INVALID_POLICY');
    }
    expect(await allRows(projections, 'kept')).toEqual(before);
    await env.events.append({ type: 'account.deposited', stream: 'k-1', data: { amount: 1 } });
    expect((await projections.get('kept', 'k-1'))?.state).toMatchObject({ count: 2, balance: 5 });
    await projections.stop();
  });

  it('always equals a plain fold of the log, with concurrent and poisoned appends (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            type: fc.constantFrom('account.deposited', 'account.withdrawn', 'account.closed', 'noise.event'),
            stream: fc.constantFrom('a', 'b', 'c'),
            amount: fc.integer({ min: 0, max: 100 }),
            poison: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        async (sequence) => {
          run++;
          const name = `iprop-${run}`;
          const projections = env.projections();
          await projections.register(accounts(name, 'inline', poisonHook));
          await projections.start();
          const codes = await Promise.all(
            sequence.map((e) =>
              codeOf(
                env.events.append({
                  type: e.type,
                  stream: `${name}-${e.stream}`,
                  data: { amount: e.amount, poison: e.poison },
                }),
              ),
            ),
          );
          sequence.forEach((e, i) => {
            const refused = e.poison && e.type.startsWith('account.');
            expect(codes[i]).toBe(refused ? 'FND_EVENTS_PROJECTION_FAILED' : undefined);
          });
          const rows = await allRows(projections, name);
          const reference = await referenceFold(env.events, accounts(name));
          expect(rows).toEqual(reference);
          await projections.stop();
        },
      ),
      { numRuns: kind === 'postgres' ? 8 : 25 },
    );
  });
}

describe('inline projections on memory', () => {
  inlineSuite('memory');
});

describe('inline projections on SQLite', () => {
  inlineSuite('sqlite');
});

describePg('inline projections on PostgreSQL', () => {
  inlineSuite('postgres');
});

/** Two "nodes" (each its own storage connection, event store and projections) on one database. */
function twoNodeSuite(kind: 'sqlite' | 'postgres'): void {
  it('keeps rows equal to the fold when two nodes append to the same keys concurrently', async () => {
    const a = await openEnv(kind);
    const b = await openEnv(kind, a.url);
    try {
      const pa = a.projections();
      const pb = b.projections();
      // One row for every append, whatever its stream: stream locks do not serialize these appends.
      const total = { ...accounts('shared', 'inline'), key: () => 'total' };
      await pa.register(total);
      await pb.register(total);
      await pa.start();
      await pb.start();
      const writes = Array.from({ length: 240 }, (_, i) =>
        (i % 2 === 0 ? a : b).events.append({
          type: 'account.deposited',
          stream: `n-${i}`,
          data: { amount: i },
        }),
      );
      const positions = new Set((await Promise.all(writes)).map((result) => result.position));
      const rows = await allRows(pa, 'shared');
      const reference = await referenceFold(a.events, total);
      if (kind === 'sqlite') {
        // Appends are serialized by SQLite's write lock: the inline fold is the position-order fold.
        expect(rows).toEqual(reference);
      } else {
        // PostgreSQL folds racing appends in the order they take the projection's lock (commit order):
        // every event once (count and balance commute), `last` is the last one committed.
        const strip = (m: Map<string, unknown>) =>
          new Map([...m].map(([key, state]) => [key, { ...(state as Record<string, unknown>), last: 0 }]));
        expect(strip(rows)).toEqual(strip(reference));
        const last = (rows.get('total') as { last: number } | undefined)?.last;
        expect(positions.has(last ?? -1)).toBe(true);
      }
      expect([...rows.values()].reduce<number>((sum, s) => sum + (s as { count: number }).count, 0)).toBe(
        240,
      );
    } finally {
      await b.close();
      await a.close();
    }
  });
}

describe('inline projections, two nodes on one SQLite file', () => {
  twoNodeSuite('sqlite');
});

describePg('inline projections, two nodes on one PostgreSQL schema', () => {
  twoNodeSuite('postgres');
});
