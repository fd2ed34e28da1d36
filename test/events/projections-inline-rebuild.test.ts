/**
 * Rebuild and backfill of inline projections on memory, SQLite and PostgreSQL: a projection registered over
 * an existing log is backfilled, `rebuild` replaces hand-corrupted rows by the pure fold, appends made while
 * a rebuild runs (this process, and a second node on the same database) are each in the rows exactly once
 * and in order, and a throwing `evolve` leaves the previous rows untouched with FND_EVENTS_PROJECTION_FAILED.
 */
import { spawn } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FoundationError } from '../../src/errors/index.js';
import type { StoredEvent } from '../../src/events/model/types.js';
import type { MemoryProjectionStore } from '../../src/events/projections/memory-projection-store.js';
import { Projections } from '../../src/events/projections/projections.js';
import type { TelemetryMessage } from '../../src/kernel/telemetry.js';
import { describePg } from '../helpers/postgres.js';
import type { Env, Kind } from './projections-fixtures.js';
import { accounts, allRows, deposit, openEnv, referenceFold } from './projections-fixtures.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./projections-inline-rebuild-child.ts', import.meta.url));

/** Collects the telemetry of one projection on `events:<event>` while `body` runs. */
async function collect<T>(
  event: string,
  projection: string,
  body: () => Promise<T>,
): Promise<{ value: T; seen: Record<string, number>[] }> {
  const seen: Record<string, number>[] = [];
  const channel = `foundation:events:${event}`;
  const listener = (message: unknown): void => {
    const m = message as TelemetryMessage;
    if (m.metadata.projection === projection) seen.push({ ...m.measurements });
  };
  diagnosticsChannel.subscribe(channel, listener);
  try {
    return { value: await body(), seen };
  } finally {
    diagnosticsChannel.unsubscribe(channel, listener);
  }
}

async function failureOf(pending: Promise<unknown>): Promise<FoundationError> {
  return pending.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => {
      if (error instanceof FoundationError) return error;
      throw error;
    },
  );
}

/** Changes one row's state, deletes another and adds a row no event made, behind the projection's back. */
async function corrupt(env: Env, name: string, [changed, deleted]: readonly [string, string]): Promise<void> {
  const bogus = JSON.stringify({ count: -1, balance: -1, last: -1 });
  if (env.kind === 'memory') {
    const store = env.store as unknown as Pick<MemoryProjectionStore, 'writeSync'>;
    store.writeSync(
      name,
      [
        { key: changed, state: JSON.parse(bogus) as never, json: bogus, position: 1 },
        { key: deleted, state: undefined, json: null, position: 1 },
        { key: 'ghost', state: JSON.parse(bogus) as never, json: bogus, position: 1 },
      ],
      0,
    );
    return;
  }
  const handle = env.storage.handle();
  const statements: [string, unknown[]][] = [
    [
      'UPDATE foundation_projection_states SET state = $3 WHERE projection = $1 AND key = $2',
      [name, changed, bogus],
    ],
    ['DELETE FROM foundation_projection_states WHERE projection = $1 AND key = $2', [name, deleted]],
    [
      'INSERT INTO foundation_projection_states (projection, key, state, position, updated) VALUES ($1, $2, $3, 1, 0)',
      [name, 'ghost', bogus],
    ],
  ];
  for (const [sql, params] of statements) {
    if (handle.kind === 'sqlite') handle.db.prepare(sql.replace(/\$\d/g, '?')).run(...params);
    else if (handle.kind === 'postgres') await handle.pool.query(sql, params);
  }
}

function rebuildSuite(kind: Kind): void {
  let env: Env;
  /** SQLite / PostgreSQL: a second node (its own storage connection, event store, projections) on the same database. */
  let other: Env | undefined;
  beforeAll(async () => {
    env = await openEnv(kind);
    if (kind !== 'memory') other = await openEnv(kind, env.url);
  });
  afterAll(async () => {
    await other?.close();
    await env.close();
  });

  it('backfills a projection registered for the first time over existing events', async () => {
    await deposit(env.events, 40, 4);
    await env.events.append({ type: 'account.closed', stream: 'acc-3', data: {} });
    const head = await deposit(env.events, 3, 2, 100);
    const projections = env.projections();
    await projections.start();
    const { value: status, seen } = await collect('projection_rebuild_progress', 'backfill', async () => {
      await projections.register(accounts('backfill', 'inline'));
      return projections.status('backfill');
    });
    const reference = await referenceFold(env.events, accounts('backfill'));
    expect(reference.size).toBeGreaterThan(0);
    expect(await allRows(projections, 'backfill')).toEqual(reference);
    expect(status).toMatchObject({ state: 'running', mode: 'inline', position: head, rebuild: undefined });
    expect(seen.at(-1)).toEqual({ position: head, target: head, ratio: 1 });
    // Later appends keep the rows exact.
    await deposit(env.events, 5, 3, 200);
    expect(await allRows(projections, 'backfill')).toEqual(
      await referenceFold(env.events, accounts('backfill')),
    );
    // A second registration (record exists, rows trusted) does not rebuild.
    const again = env.projections();
    await again.start();
    const { seen: second } = await collect('projection_rebuild_started', 'backfill', () =>
      again.register(accounts('backfill', 'inline')),
    );
    expect(second).toEqual([]);
    await again.stop();
    await projections.stop();
  });

  it('rebuild replaces corrupted rows by the pure fold and reports progress', async () => {
    await deposit(env.events, 30, 3, 300);
    const projections = env.projections();
    await projections.register(accounts('fixme', 'inline'));
    await projections.start();
    await deposit(env.events, 12, 3, 400);
    const reference = await referenceFold(env.events, accounts('fixme'));
    expect(await allRows(projections, 'fixme')).toEqual(reference);
    await corrupt(env, 'fixme', ['acc-0', 'acc-1']);
    expect(await allRows(projections, 'fixme')).not.toEqual(reference);
    const events: Record<string, Record<string, number>[]> = {};
    const rebuilt = await collect('projection_rebuilt', 'fixme', () =>
      collect('projection_rebuild_started', 'fixme', () =>
        collect('projection_rebuild_progress', 'fixme', () => projections.rebuild('fixme')),
      ),
    );
    events['rebuilt'] = rebuilt.seen;
    events['started'] = rebuilt.value.seen;
    events['progress'] = rebuilt.value.value.seen;
    const status = rebuilt.value.value.value;
    const last = (await env.events.query({ order: 'desc', limit: 1 })).events[0] as StoredEvent;
    expect(status).toMatchObject({ state: 'running', position: last.position, rebuild: undefined });
    expect(await allRows(projections, 'fixme')).toEqual(reference);
    expect(await projections.get('fixme', 'ghost')).toBeUndefined();
    expect(events).toEqual({
      started: [{ target: last.position }],
      progress: [{ position: last.position, target: last.position, ratio: 1 }],
      rebuilt: [{ position: last.position, target: last.position }],
    });
    await projections.stop();
  });

  it('leaves the rows untouched and reports FND_EVENTS_PROJECTION_FAILED when evolve throws', async () => {
    let broken = false;
    const def = accounts('fragile', 'inline', () => {
      if (broken) throw new Error('bad deploy');
    });
    const projections = env.projections();
    await projections.register(def);
    await projections.start();
    await deposit(env.events, 10, 2, 500);
    const before = await allRows(projections, 'fragile');
    const beforeStatus = await projections.status('fragile');
    broken = true;
    const { value: error, seen } = await collect('projection_failed', 'fragile', () =>
      failureOf(projections.rebuild('fragile')),
    );
    expect(error.code).toBe('FND_EVENTS_PROJECTION_FAILED');
    expect(error.context).toMatchObject({ projection: 'fragile', step: 'evolve' });
    expect(seen).toHaveLength(1);
    expect(await allRows(projections, 'fragile')).toEqual(before);
    const failed = await projections.status('fragile');
    expect(failed).toMatchObject({ state: 'failed', position: beforeStatus?.position, rebuild: undefined });
    expect(failed?.error?.code).toBe('FND_EVENTS_PROJECTION_FAILED');
    // Fixed: a rebuild gives the pure fold and clears the failure.
    broken = false;
    expect((await projections.rebuild('fragile')).state).toBe('running');
    expect(await allRows(projections, 'fragile')).toEqual(
      await referenceFold(env.events, accounts('fragile')),
    );
    await projections.stop();
  });

  it('a failed backfill registers nothing; registering the fixed definition backfills', async () => {
    await deposit(env.events, 5, 2, 600);
    const projections = env.projections();
    await projections.start();
    const throwing = accounts('late', 'inline', () => {
      throw new Error('bad deploy');
    });
    const error = await failureOf(projections.register(throwing));
    expect(error.code).toBe('FND_EVENTS_PROJECTION_FAILED');
    expect(await allRows(projections, 'late')).toEqual(new Map());
    expect((await projections.status('late'))?.state).toBe('failed');
    // Not registered: appends are not refused by the broken evolve.
    await deposit(env.events, 2, 2, 700);
    await projections.register(accounts('late', 'inline'));
    expect((await projections.status('late'))?.state).toBe('running');
    expect(await allRows(projections, 'late')).toEqual(await referenceFold(env.events, accounts('late')));
    await projections.stop();
  });

  it('appends started while a rebuild runs are each in the rows once (started from its telemetry)', async () => {
    await deposit(env.events, 25, 5, 800);
    const projections = env.projections();
    await projections.register(accounts('during', 'inline'));
    await projections.start();
    const pending: Promise<unknown>[] = [];
    const channel = 'foundation:events:projection_rebuild_started';
    const listener = (message: unknown): void => {
      if ((message as TelemetryMessage).metadata.projection !== 'during') return;
      for (let i = 0; i < 10; i++) {
        pending.push(
          env.events.append({
            type: 'account.deposited',
            stream: `acc-${i % 3}`,
            data: { amount: 1000 + i },
          }),
        );
      }
    };
    diagnosticsChannel.subscribe(channel, listener);
    try {
      await projections.rebuild('during');
    } finally {
      diagnosticsChannel.unsubscribe(channel, listener);
    }
    expect(pending).toHaveLength(10);
    await Promise.all(pending);
    expect(await allRows(projections, 'during')).toEqual(await referenceFold(env.events, accounts('during')));
    await projections.stop();
  });

  it('equals the pure fold of readAll after random interleavings of appends, backfill and rebuilds (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            type: fc.constantFrom('account.deposited', 'account.withdrawn', 'account.closed', 'noise.event'),
            stream: fc.constantFrom('a', 'b', 'c', 'd'),
            amount: fc.integer({ min: 0, max: 100 }),
            second: fc.boolean(),
          }),
          { minLength: 1, maxLength: 20 },
        ),
        fc.nat(20),
        fc.array(fc.nat(20), { minLength: 1, maxLength: 2 }),
        async (ops, registerAt, rebuildsAt) => {
          run++;
          const name = `rprop-${run}`;
          const def = accounts(name, 'inline');
          const projections = env.projections();
          await projections.start();
          const second = other?.projections();
          await second?.start();
          // The events before `registerAt` are the log the backfill finds; the others are appended (by this
          // node or the second one, each once the projection is registered there: every appender must) while
          // rebuilds run.
          const cut = Math.min(registerAt, ops.length);
          const event = (op: (typeof ops)[number]) => ({
            type: op.type,
            stream: `${name}-${op.stream}`,
            data: { amount: op.amount },
          });
          await Promise.all(ops.slice(0, cut).map((op) => env.events.append(event(op))));
          const registered = projections.register(def);
          const registeredThere = second?.register(def);
          const pending: Promise<unknown>[] = [];
          ops.slice(cut).forEach((op, i) => {
            for (const at of rebuildsAt) {
              if (at % (ops.length - cut) === i)
                pending.push(registered.then(() => projections.rebuild(name)));
            }
            const there = other;
            if (op.second && there !== undefined && registeredThere !== undefined) {
              pending.push(registeredThere.then(() => there.events.append(event(op))));
            } else pending.push(registered.then(() => env.events.append(event(op))));
          });
          if (cut === ops.length) pending.push(registered.then(() => projections.rebuild(name)));
          await Promise.all(pending);
          await registered;
          await registeredThere;
          expect(await allRows(projections, name)).toEqual(await referenceFold(env.events, accounts(name)));
          await projections.stop();
          await second?.stop();
        },
      ),
      { numRuns: kind === 'postgres' ? 10 : 25 },
    );
  });
}

/**
 * Another process appends (with the projection registered) while this one rebuilds again and again and
 * appends too: every event of both ends up in the rows exactly once, in order (rows = the pure fold).
 */
function twoProcessSuite(kind: 'sqlite' | 'postgres'): void {
  it('keeps rows equal to the fold while another process appends during repeated rebuilds', async () => {
    const env = await openEnv(kind);
    try {
      await deposit(env.events, 3000, 7);
      const name = 'procs';
      const projections = env.projections();
      await projections.start();
      await projections.register(accounts(name, 'inline'));
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, env.url, name, '150'], {
        cwd: ROOT,
        stdio: 'pipe',
      });
      let stdout = '';
      let stderr = '';
      let appended = 0;
      const life = { exited: false };
      let wake: () => void = () => undefined;
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        appended = [...stdout.matchAll(/appended (\d+)/g)].length;
        wake();
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exit = new Promise<number | null>((resolve) => {
        child.on('close', (code) => {
          life.exited = true;
          wake();
          resolve(code);
        });
      });
      /** Resolves once `done()` holds, checked on each line or exit of the child. */
      const until = async (done: () => boolean): Promise<void> => {
        while (!done()) await new Promise<void>((resolve) => (wake = resolve));
      };
      await until(() => life.exited || stdout.includes('ready'));
      child.stdin.write('go\n');
      // A rebuild, then wait for the child to append a few more (it waits on SQLite's busy handler or
      // PostgreSQL's lock while a rebuild runs; back-to-back rebuilds would starve it on SQLite).
      let rebuilds = 0;
      let i = 0;
      while (!life.exited) {
        const seen = appended;
        await projections.rebuild(name);
        rebuilds++;
        await env.events.append({
          type: 'account.deposited',
          stream: `${name}-p-${i % 2}`,
          data: { amount: i },
        });
        i++;
        await until(() => life.exited || appended >= seen + 5);
      }
      expect({ code: await exit, stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout).toContain('done');
      expect(rebuilds).toBeGreaterThan(0);
      const rows = await allRows(projections, name);
      expect(rows).toEqual(await referenceFold(env.events, accounts(name)));
      const childRows = [0, 1, 2].map((k) => (rows.get(`${name}-c-${k}`) as { count: number }).count);
      expect(childRows).toEqual([50, 50, 50]);
    } finally {
      await env.close();
    }
  });
}

describe('inline projection rebuild, two processes on one SQLite file', () => {
  twoProcessSuite('sqlite');
});

describePg('inline projection rebuild, two processes on one PostgreSQL schema', () => {
  twoProcessSuite('postgres');
});

describe('inline projection rebuild on memory', () => {
  rebuildSuite('memory');

  it('folds the appends made between the last read of the log and the swap (capture)', async () => {
    const env = await openEnv('memory');
    try {
      await deposit(env.events, 20, 4);
      const events = env.events;
      let reads = 0;
      let injected: Promise<unknown> | undefined;
      // The log reader appends after the last (empty) page was read and before the rebuild sees it, so those
      // events are in no page: the capture must fold them.
      const source = {
        subscribe: events.subscribe.bind(events),
        query: events.query.bind(events),
        setInlineProjector: events.setInlineProjector.bind(events),
        readAll: async (options: { afterPosition: number; limit: number }): Promise<StoredEvent[]> => {
          const page = await events.readAll(options);
          if (page.length > 0) return page;
          reads++;
          injected = Promise.all([
            events.append({ type: 'account.deposited', stream: `acc-${reads % 4}`, data: { amount: 7 } }),
            events.append({ type: 'account.withdrawn', stream: 'acc-9', data: { amount: 1 } }),
          ]);
          await injected;
          return page;
        },
      };
      const projections = new Projections(source, env.store);
      await projections.start();
      await projections.register(accounts('captured', 'inline'));
      const afterBackfill = reads;
      expect(afterBackfill).toBe(1);
      expect(await allRows(projections, 'captured')).toEqual(
        await referenceFold(events, accounts('captured')),
      );
      await projections.rebuild('captured');
      await injected;
      expect(reads).toBeGreaterThan(afterBackfill);
      expect(await allRows(projections, 'captured')).toEqual(
        await referenceFold(events, accounts('captured')),
      );
      await projections.stop();
    } finally {
      await env.close();
    }
  });
});

describe('inline projection rebuild on SQLite', () => {
  rebuildSuite('sqlite');
});

describePg('inline projection rebuild on PostgreSQL', () => {
  rebuildSuite('postgres');

  it('makes appends of this process and of a second node wait, then land on the rebuilt rows', async () => {
    const a = await openEnv('postgres');
    const b = await openEnv('postgres', a.url);
    const handle = a.storage.handle();
    if (handle.kind !== 'postgres') throw new Error('postgres expected');
    const holder = await handle.pool.connect();
    try {
      await deposit(a.events, 30, 3);
      const pa = a.projections();
      const pb = b.projections();
      await pa.start();
      await pb.start();
      await pa.register(accounts('blocked', 'inline'));
      await pb.register(accounts('blocked', 'inline'));
      const head = (await a.events.query({ order: 'desc', limit: 1 })).events[0]?.position ?? 0;
      // Hold one row so the rebuild stops at its DELETE: after its fold, with its locks taken.
      await holder.query('BEGIN');
      await holder.query(
        `SELECT 1 FROM foundation_projection_states WHERE projection = 'blocked' AND key = 'acc-0' FOR UPDATE`,
      );
      const rebuilding = pa.rebuild('blocked');
      const rebuildPid = await waitForBlocked(holder, 'pg_backend_pid()');
      expect(await pa.status('blocked')).toMatchObject({
        state: 'rebuilding',
        rebuild: { position: head, target: head, ratio: 1 },
      });
      const settled: string[] = [];
      const appends = [a, b, a, b].map((node, i) =>
        node.events
          .append({ type: 'account.deposited', stream: `acc-${(i % 2) + 1}`, data: { amount: 50 + i } })
          .then(() => settled.push(`append-${i}`)),
      );
      // Appends wait behind the rebuild's lock.
      await waitForBlocked(holder, String(rebuildPid));
      expect(settled).toEqual([]);
      await holder.query('COMMIT');
      await rebuilding;
      await Promise.all(appends);
      expect(settled).toHaveLength(4);
      const rows = await allRows(pa, 'blocked');
      expect(rows).toEqual(await referenceFold(a.events, accounts('blocked')));
      expect((rows.get('acc-1') as { count: number }).count).toBe(12);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
      await b.close();
      await a.close();
    }
  });
});

/** Waits until a backend is blocked by `blocker` (an SQL expression of a pid); returns its pid (bounded: ~10 s). */
async function waitForBlocked(
  client: { query(sql: string): Promise<{ rows: unknown[] }> },
  blocker: string,
): Promise<number> {
  for (let i = 0; i < 1000; i++) {
    const result = await client.query(
      `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND ${blocker} = ANY(pg_blocking_pids(pid))`,
    );
    const row = result.rows[0] as { pid: number } | undefined;
    if (row !== undefined) return row.pid;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no backend blocked by ${blocker}`);
}
