/**
 * Shared fixtures of the projection tests: an event store and a projection store per kind (memory, SQLite,
 * PostgreSQL), sample definitions, and an independent reference fold over `readAll`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventStore } from '../../src/events/create-event-store.js';
import { EventStore } from '../../src/events/event-store.js';
import type { JsonValue, StoredEvent } from '../../src/events/model/types.js';
import { compileMatcher } from '../../src/events/model/query-memory.js';
import { createProjectionStore } from '../../src/events/projections/create-projection-store.js';
import type { ProjectionStore } from '../../src/events/projections/projection-store.js';
import { Projections, type ProjectionsOptions } from '../../src/events/projections/projections.js';
import type { ProjectionDefinition } from '../../src/events/projections/types.js';
import { MemoryEventStore } from '../../src/events/stores/memory-store.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, type TestSchema } from '../helpers/postgres.js';

/** Store kinds under test. */
export type Kind = 'memory' | 'sqlite' | 'postgres';

/** One store: the event store, the projection store, and how to build more `Projections` on them. */
export interface Env {
  readonly kind: Kind;
  /** The storage URL (pass it to `openEnv` for a second node on the same database). */
  readonly url: string;
  readonly events: EventStore;
  readonly store: ProjectionStore;
  readonly storage: Storage;
  /** A new `Projections` service on the same stores (a "process restart" when the previous one stopped). */
  projections(options?: ProjectionsOptions): Projections;
  close(): Promise<void>;
}

/** Opens a fresh environment of `kind`, or a second node on the database at `shared` (not dropped on close). */
export async function openEnv(kind: Kind, shared?: string): Promise<Env> {
  let dir: string | undefined;
  let schema: TestSchema | undefined;
  let url = shared ?? 'memory:';
  if (shared !== undefined) {
    // A second node: same database, its own connection.
  } else if (kind === 'sqlite') {
    dir = await mkdtemp(join(tmpdir(), 'projections-'));
    url = `sqlite:${join(dir, 'p.db')}`;
  } else if (kind === 'postgres') {
    schema = await createTestSchema();
    url = schema.url;
  }
  const storage = new Storage(url);
  await storage.open();
  const events = kind === 'memory' ? new EventStore(new MemoryEventStore()) : createEventStore(storage);
  await events.start();
  const store = await createProjectionStore(storage);
  const services: Projections[] = [];
  return {
    kind,
    url,
    events,
    store,
    storage,
    projections(options: ProjectionsOptions = {}): Projections {
      const service = new Projections(events, store, { retryMs: 5, ...options });
      services.push(service);
      return service;
    },
    async close(): Promise<void> {
      for (const service of services) await service.stop();
      await events.stop();
      await storage.close();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      await schema?.drop();
    },
  };
}

/** Per-account totals: `account.deposited` / `account.withdrawn` (data.amount), `account.closed` deletes. */
export interface Account extends Record<string, JsonValue> {
  count: number;
  balance: number;
  last: number;
}

/** The account projection (async unless `mode` says otherwise). */
export function accounts(
  name: string,
  mode: 'async' | 'inline' = 'async',
  evolveHook?: (event: StoredEvent) => void,
): ProjectionDefinition<Account> {
  return {
    name,
    mode,
    filter: { types: ['account.*'] },
    key: (event) => event.stream ?? undefined,
    initial: () => ({ count: 0, balance: 0, last: 0 }),
    evolve: (state, event) => {
      evolveHook?.(event);
      if (event.type === 'account.closed') return null;
      const amount = (event.data as { amount?: number }).amount ?? 0;
      const sign = event.type === 'account.withdrawn' ? -1 : 1;
      return { count: state.count + 1, balance: state.balance + sign * amount, last: event.position };
    },
  };
}

/**
 * The reference: a plain fold of every event of the log (read with `readAll`) through the definition,
 * written independently of the projection code. Returns key → state, keys sorted.
 */
export async function referenceFold<S extends JsonValue>(
  events: EventStore,
  def: ProjectionDefinition<S>,
): Promise<Map<string, S>> {
  const log: StoredEvent[] = [];
  for (let after = 0; ;) {
    const page = await events.readAll({ afterPosition: after, limit: 1000 });
    if (page.length === 0) break;
    log.push(...page);
    after = (page[page.length - 1] as StoredEvent).position;
  }
  const match = compileMatcher(def.filter ?? {});
  const states = new Map<string, S>();
  for (const event of log) {
    if (!match(event)) continue;
    const key = def.key(event);
    if (key === undefined) continue;
    const next = def.evolve(states.get(key) ?? def.initial(key), event);
    if (next === null) states.delete(key);
    else states.set(key, next);
  }
  return new Map([...states.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every row of a projection as key → state, keys sorted (pages of 1000). */
export async function allRows(projections: Projections, name: string): Promise<Map<string, JsonValue>> {
  const out = new Map<string, JsonValue>();
  let after: string | undefined;
  for (;;) {
    const rows = await projections.list(name, after === undefined ? { limit: 1000 } : { after, limit: 1000 });
    for (const row of rows) out.set(row.key, row.state);
    if (rows.length < 1000) return out;
    after = rows[rows.length - 1]?.key;
  }
}

/** Appends `n` deposits spread over `streams` accounts; returns the last position. */
export async function deposit(events: EventStore, n: number, streams = 5, offset = 0): Promise<number> {
  let position = 0;
  for (let i = 0; i < n; i++) {
    const result = await events.append({
      type: 'account.deposited',
      stream: `acc-${(offset + i) % streams}`,
      data: { amount: offset + i + 1 },
    });
    position = result.position;
  }
  return position;
}
