/**
 * The config version store contract: one suite every `ConfigVersionStore` passes (memory, SQLite,
 * PostgreSQL). Empty store, append / get / latest / list / since, gaps and concurrent writers refused with
 * `FND_CONFIG_VERSION_CONFLICT`, garbage refused with `FND_CONFIG_INVALID_STRUCTURE` and the store intact,
 * watchers across store objects (and, where the store has them, across Storage objects and after a lost
 * LISTEN connection), and persistence across a close and reopen of the storage.
 *
 * @example
 * ```ts
 * configStoreContract('memory', async () => {
 *   const storage = new Storage('memory:');
 *   await storage.open();
 *   const hub = new ConfigWatchHub();
 *   return { store: () => createConfigVersionStore(storage, { hub }), cleanup: () => storage.close() };
 * });
 * ```
 *
 * @module
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ConfigChange,
  ConfigVersionRecord,
  ConfigVersionStore,
  JsonValue,
} from '../../src/config/types.js';
import { isFoundationError } from '../../src/errors/index.js';
import { expectCode } from './event-store/fixture.js';

const T = 30_000;
/** How long to wait for a notification that travels through real I/O. */
const WAIT = { timeout: 15_000, interval: 20 } as const;

/**
 * A storage under test, fresh and empty. `store()` makes a new store object on that storage (sharing its
 * in-process state, as every caller in one process would). `reopen` closes the storage and opens it again,
 * returning an opened store on it (absent for memory). `remote` returns an opened store on a second Storage
 * object at the same location, as another process would have (PostgreSQL). `killListeners` terminates the
 * LISTEN connections of the first storage's stores (PostgreSQL).
 */
export interface ConfigStoreFixture {
  readonly store: () => ConfigVersionStore;
  readonly reopen?: () => Promise<ConfigVersionStore>;
  readonly remote?: () => Promise<ConfigVersionStore>;
  readonly killListeners?: () => Promise<void>;
  readonly cleanup: () => Promise<void>;
}

/** Makes a fresh fixture for one test. */
export type MakeConfigStoreFixture = () => Promise<ConfigStoreFixture>;

/** A valid record of `version`, with a few fields that vary with it. */
export function configRecord(version: number, over: Partial<ConfigVersionRecord> = {}): ConfigVersionRecord {
  return {
    version,
    at: 1_700_000_000_000 + version,
    kind: version === 1 ? 'initial' : 'update',
    node: 'node-a',
    overrides: { limits: { rps: version } },
    config: {
      limits: { rps: version, burst: 10 },
      name: 'svc',
      tags: ['a', 'b'],
      nested: { x: null, y: true },
    },
    changes: version === 1 ? [] : [{ path: 'limits.rps', old: version - 1, new: version }],
    ...over,
  };
}

async function appendRange(
  store: ConfigVersionStore,
  from: number,
  to: number,
): Promise<ConfigVersionRecord[]> {
  const records: ConfigVersionRecord[] = [];
  for (let v = from; v <= to; v++) {
    const record = configRecord(v);
    await store.append(record);
    records.push(record);
  }
  return records;
}

const versions = (records: readonly ConfigVersionRecord[]): number[] => records.map((r) => r.version);

/** Records the stores must refuse with `FND_CONFIG_INVALID_STRUCTURE`, each with what is wrong. */
function garbage(version: number): Array<[string, unknown]> {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const sparse: unknown[] = [1];
  sparse[2] = 3;
  const ok = configRecord(version);
  return [
    ['a fractional version', { ...ok, version: version + 0.5 }],
    ['version 0', { ...ok, version: 0 }],
    ['a negative version', { ...ok, version: -1 }],
    ['a NaN version', { ...ok, version: Number.NaN }],
    ['a string version', { ...ok, version: String(version) }],
    ['a version beyond int4', { ...ok, version: 2 ** 31 }],
    ['a fractional time', { ...ok, at: 1.5 }],
    ['an unknown kind', { ...ok, kind: 'bogus' }],
    ['a missing node', { ...ok, node: undefined }],
    ['an array as config', { ...ok, config: [1, 2] }],
    ['a null overrides', { ...ok, overrides: null }],
    ['a cycle', { ...ok, config: cyclic }],
    ['a bigint', { ...ok, config: { n: 10n } }],
    ['a function', { ...ok, config: { f: () => 1 } }],
    ['a Date', { ...ok, config: { d: new Date(0) } }],
    ['a Map', { ...ok, overrides: { m: new Map() } }],
    ['NaN', { ...ok, config: { n: Number.NaN } }],
    ['Infinity', { ...ok, config: { n: Infinity } }],
    ['undefined in an array', { ...ok, config: { a: [1, undefined] } }],
    ['a hole in an array', { ...ok, config: { a: sparse } }],
    ['a NUL character in a value', { ...ok, config: { s: 'a\u0000b' } }],
    ['a NUL character in a key', { ...ok, config: { 'a\u0000': 1 } }],
    ['a lone surrogate', { ...ok, config: { s: '\ud800' } }],
    ['a NUL character in node', { ...ok, node: 'n\u0000' }],
    ['a lone surrogate in reason', { ...ok, reason: 'x\udc00' }],
    ['changes that are not an array', { ...ok, changes: {} }],
    ['a change without a path', { ...ok, changes: [{ old: 1, new: 2 }] }],
    ['a change with a bigint', { ...ok, changes: [{ path: 'a', old: 1n, new: 2 }] }],
    ['a fractional rolledBackTo', { ...ok, kind: 'rollback', rolledBackTo: 1.5 }],
    ['a numeric actor', { ...ok, actor: 42 }],
  ];
}

const jsonValue: fc.Arbitrary<JsonValue> = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>;
const jsonObject = fc.dictionary(fc.string({ maxLength: 10 }), jsonValue, { maxKeys: 5 });
const change: fc.Arbitrary<ConfigChange> = fc.record({
  path: fc.string({ maxLength: 20 }),
  old: fc.option(jsonValue, { nil: undefined }),
  new: fc.option(jsonValue, { nil: undefined }),
});
const recordBody = fc.record(
  {
    at: fc.integer({ min: 0, max: 4_000_000_000_000 }),
    kind: fc.constantFrom<ConfigVersionRecord['kind']>('initial', 'update', 'rollback', 'file'),
    node: fc.string({ maxLength: 20 }),
    overrides: jsonObject,
    config: jsonObject,
    changes: fc.array(change, { maxLength: 4 }),
    rolledBackTo: fc.integer({ min: 1, max: 1000 }),
    reason: fc.string({ maxLength: 50 }),
    actor: fc.string({ maxLength: 20 }),
    correlationId: fc.uuid(),
  },
  { requiredKeys: ['at', 'kind', 'node', 'overrides', 'config', 'changes'] },
);

/** Expects exactly one fulfilled append and the other refused with `FND_CONFIG_VERSION_CONFLICT`. */
function expectOneWinner(results: readonly PromiseSettledResult<void>[]): void {
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  const loser = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const reason: unknown = loser?.reason;
  expect(isFoundationError(reason) ? reason.code : String(reason)).toBe('FND_CONFIG_VERSION_CONFLICT');
}

/**
 * `value` as JSON carries it: every object rebuilt on `Object.prototype` (fast-check may make null-prototype
 * objects) and `-0` as `0`.
 */
function plain(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}

/** Options of {@link configStoreContract}. */
export interface ConfigStoreContractOptions {
  /** fast-check runs of the round-trip property (default 50). */
  readonly propertyRuns?: number;
  /** The optional cases this store runs; the fixture must provide what each needs. */
  readonly features?: ReadonlyArray<'reopen' | 'remote' | 'killListeners'>;
}

/** Registers the contract for one kind of store. */
export function configStoreContract(
  name: string,
  make: MakeConfigStoreFixture,
  options: ConfigStoreContractOptions = {},
): void {
  const propertyRuns = options.propertyRuns ?? 50;
  const features = new Set(options.features ?? []);
  describe(`config version store contract: ${name}`, () => {
    let fixture: ConfigStoreFixture | undefined;
    const opened: ConfigVersionStore[] = [];
    const f = (): ConfigStoreFixture => {
      if (fixture === undefined) throw new Error('no fixture: used outside a test');
      return fixture;
    };
    /** A new, opened store object on the fixture's storage (closed after the test). */
    const open = async (): Promise<ConfigVersionStore> => {
      const store = f().store();
      opened.push(store);
      await store.open();
      return store;
    };
    const track = (store: ConfigVersionStore): ConfigVersionStore => {
      opened.push(store);
      return store;
    };

    beforeEach(async () => {
      fixture = await make();
    });
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
      const current = fixture;
      fixture = undefined;
      await current?.cleanup();
    });

    it('starts empty', { timeout: T }, async () => {
      const store = await open();
      expect(await store.latest()).toBeUndefined();
      expect(await store.get(1)).toBeUndefined();
      expect(await store.list()).toEqual([]);
      expect(await store.since(0)).toEqual([]);
      expect(typeof store.kind).toBe('string');
    });

    it('appends and reads back records equal to what was appended', { timeout: T }, async () => {
      const store = await open();
      const records: ConfigVersionRecord[] = [
        configRecord(1, { correlationId: 'c-1' }),
        configRecord(2, {
          reason: 'raise the limit',
          actor: 'alice',
          changes: [
            { path: 'limits.rps', old: 1, new: 2 },
            { path: 'added', old: undefined, new: { deep: [1, 'two', null, false] } },
            { path: 'removed', old: 'x', new: undefined },
          ],
        }),
        configRecord(3, { kind: 'rollback', rolledBackTo: 1, reason: '', actor: '', correlationId: '' }),
        configRecord(4, { kind: 'file', overrides: {}, config: {}, changes: [], node: 'node-b' }),
        configRecord(5, {
          config: { unicode: 'żółć ✓ 😀', big: 2 ** 53 - 1, small: -1.5e-7, empty: [], obj: {} },
        }),
      ];
      for (const record of records) await store.append(record);
      for (const record of records) expect(await store.get(record.version)).toStrictEqual(record);
      expect(await store.latest()).toStrictEqual(records[4]);
      expect(await store.list()).toStrictEqual([...records].reverse());
      expect(await store.since(0)).toStrictEqual(records);
      // Absent optional fields stay absent.
      const first = await store.get(1);
      expect(first !== undefined && 'reason' in first).toBe(false);
      expect(first !== undefined && 'rolledBackTo' in first).toBe(false);
    });

    it('get of a version that is not stored (or cannot be one) is undefined', { timeout: T }, async () => {
      const store = await open();
      await appendRange(store, 1, 2);
      for (const v of [0, -1, 3, 1.5, Number.NaN, 2 ** 40]) expect(await store.get(v)).toBeUndefined();
    });

    it('lists newest first with limit and before; since is oldest first', { timeout: T }, async () => {
      const store = await open();
      await appendRange(store, 1, 7);
      expect(versions(await store.list())).toEqual([7, 6, 5, 4, 3, 2, 1]);
      expect(versions(await store.list({ limit: 3 }))).toEqual([7, 6, 5]);
      expect(versions(await store.list({ before: 4 }))).toEqual([3, 2, 1]);
      expect(versions(await store.list({ before: 6, limit: 2 }))).toEqual([5, 4]);
      expect(versions(await store.list({ before: 1 }))).toEqual([]);
      expect(versions(await store.list({ before: 100, limit: 1 }))).toEqual([7]);
      expect(versions(await store.list({ limit: 0 }))).toEqual([]);
      expect(versions(await store.list({ limit: -5 }))).toEqual([]);
      expect(versions(await store.list({ limit: 2.9 }))).toEqual([7, 6]);
      expect(versions(await store.list({ before: 4.5, limit: 1 }))).toEqual([4]);
      expect(versions(await store.since(4))).toEqual([5, 6, 7]);
      expect(versions(await store.since(7))).toEqual([]);
      expect(versions(await store.since(-3))).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(versions(await store.since(5.5))).toEqual([6, 7]);
      await expectCode(store.list({ limit: Number.NaN }), 'FND_CONFIG_INVALID_VALUE');
      await expectCode(store.since(Number.NaN), 'FND_CONFIG_INVALID_VALUE');
    });

    it('clamps list to 50 by default and 1000 at most', { timeout: 120_000 }, async () => {
      const store = await open();
      for (let v = 1; v <= 1003; v++) {
        await store.append({
          version: v,
          at: v,
          kind: 'update',
          node: 'n',
          overrides: {},
          config: {},
          changes: [],
        });
      }
      const page = await store.list();
      expect(versions(page)).toEqual(Array.from({ length: 50 }, (_, i) => 1003 - i));
      const most = await store.list({ limit: 5000 });
      expect(most).toHaveLength(1000);
      expect(most[0]?.version).toBe(1003);
      expect(most[999]?.version).toBe(4);
      expect(await store.since(0)).toHaveLength(1003);
    });

    it('refuses a version that is not the latest + 1, storing nothing', { timeout: T }, async () => {
      const store = await open();
      await expectCode(store.append(configRecord(2)), 'FND_CONFIG_VERSION_CONFLICT');
      expect(await store.latest()).toBeUndefined();
      await appendRange(store, 1, 2);
      const gap = await expectCode(store.append(configRecord(4)), 'FND_CONFIG_VERSION_CONFLICT');
      expect(gap.context).toMatchObject({ version: 4, expected: 3 });
      await expectCode(store.append(configRecord(2, { node: 'other' })), 'FND_CONFIG_VERSION_CONFLICT');
      await expectCode(store.append(configRecord(1)), 'FND_CONFIG_VERSION_CONFLICT');
      expect(versions(await store.since(0))).toEqual([1, 2]);
      expect((await store.get(2))?.node).toBe('node-a');
      await store.append(configRecord(3));
      expect((await store.latest())?.version).toBe(3);
    });

    it(
      'lets exactly one of two store objects take a version; the other gets a conflict',
      { timeout: T },
      async () => {
        const a = await open();
        const b = await open();
        for (let v = 1; v <= 10; v++) {
          const fromA = configRecord(v, { node: 'a' });
          const fromB = configRecord(v, { node: 'b', reason: 'from b' });
          const [ra, rb] = await Promise.allSettled([a.append(fromA), b.append(fromB)]);
          expectOneWinner([ra, rb]);
          const winner = ra.status === 'fulfilled' ? fromA : fromB;
          expect(await a.get(v)).toStrictEqual(winner);
          expect(await b.latest()).toStrictEqual(winner);
        }
        expect(versions(await a.since(0))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      },
    );

    it('refuses garbage with a catalog error and leaves the store intact', { timeout: T }, async () => {
      const store = await open();
      const stored = await appendRange(store, 1, 2);
      for (const [what, record] of garbage(3)) {
        const error = await expectCode(
          store.append(record as ConfigVersionRecord),
          'FND_CONFIG_INVALID_STRUCTURE',
        ).catch((e: unknown) => {
          throw new Error(`${what}: ${String(e)}`);
        });
        expect(error.message.includes('a\u0000b')).toBe(false);
      }
      expect(await store.since(0)).toStrictEqual(stored);
      const next = configRecord(3);
      await store.append(next);
      expect(await store.latest()).toStrictEqual(next);
    });

    it('drops undefined object properties as JSON does', { timeout: T }, async () => {
      const store = await open();
      await store.append(
        configRecord(1, { config: { a: 1, b: undefined } as unknown as ConfigVersionRecord['config'] }),
      );
      const read = await store.get(1);
      expect(read?.config).toStrictEqual({ a: 1 });
    });

    it(
      'keeps what was appended even when the caller mutates its objects afterwards',
      { timeout: T },
      async () => {
        const store = await open();
        const config = { limits: { rps: 1 } };
        await store.append(configRecord(1, { config }));
        config.limits.rps = 99;
        expect((await store.get(1))?.config).toStrictEqual({ limits: { rps: 1 } });
      },
    );

    it('round-trips any valid record (property)', { timeout: 120_000 }, async () => {
      const store = await open();
      let next = 1;
      await fc.assert(
        fc.asyncProperty(recordBody, async (body) => {
          const record = { version: next, ...body } as ConfigVersionRecord;
          await store.append(record);
          next++;
          const read = await store.get(record.version);
          expect(read).toStrictEqual(plain(record));
        }),
        { numRuns: propertyRuns },
      );
    });

    it(
      'notifies watchers of every store object on the storage, its own appends included',
      { timeout: T },
      async () => {
        const a = await open();
        const b = await open();
        const seenA: number[] = [];
        const seenB: number[] = [];
        a.watch((v) => seenA.push(v));
        b.watch((v) => seenB.push(v));
        await a.append(configRecord(1));
        await expect.poll(() => seenB.includes(1), WAIT).toBe(true);
        await expect.poll(() => seenA.includes(1), WAIT).toBe(true);
        await b.append(configRecord(2));
        await expect.poll(() => seenA.includes(2), WAIT).toBe(true);
        await expect.poll(() => seenB.includes(2), WAIT).toBe(true);
        // A refused append notifies nobody.
        await expectCode(a.append(configRecord(5)), 'FND_CONFIG_VERSION_CONFLICT');
        await a.append(configRecord(3));
        await expect.poll(() => seenB.includes(3), WAIT).toBe(true);
        expect(seenB).not.toContain(5);
        expect(Math.max(...seenB)).toBe(3);
      },
    );

    it('isolates a watcher that throws', { timeout: T }, async () => {
      const a = await open();
      const seen: number[] = [];
      a.watch(() => {
        throw new Error('watcher bug');
      });
      a.watch((v) => seen.push(v));
      await a.append(configRecord(1));
      await expect.poll(() => seen.includes(1), WAIT).toBe(true);
      expect((await a.latest())?.version).toBe(1);
    });

    it('stops calling a watcher after unwatch, and all of a store after close', { timeout: T }, async () => {
      const a = await open();
      const b = await open();
      const stopped: number[] = [];
      const kept: number[] = [];
      const closedSeen: number[] = [];
      const unwatch = b.watch((v) => stopped.push(v));
      b.watch((v) => kept.push(v));
      const c = await open();
      c.watch((v) => closedSeen.push(v));
      await a.append(configRecord(1));
      await expect
        .poll(() => stopped.includes(1) && kept.includes(1) && closedSeen.includes(1), WAIT)
        .toBe(true);
      unwatch();
      unwatch(); // harmless twice
      await c.close();
      const stoppedBefore = stopped.length;
      const closedBefore = closedSeen.length;
      await a.append(configRecord(2));
      // `kept` hears version 2 through the same channel as `stopped`; once it has, `stopped` would have too.
      await expect.poll(() => kept.includes(2), WAIT).toBe(true);
      expect(stopped).toHaveLength(stoppedBefore);
      expect(stopped).not.toContain(2);
      expect(closedSeen).toHaveLength(closedBefore);
    });

    if (features.has('reopen'))
      it('keeps its versions across a close and reopen of the storage', { timeout: T }, async () => {
        const reopen = f().reopen;
        if (reopen === undefined) throw new Error('the fixture has no reopen');
        const store = await open();
        const stored = await appendRange(store, 1, 4);
        await store.close();
        const again = track(await reopen());
        expect(await again.since(0)).toStrictEqual(stored);
        expect(await again.latest()).toStrictEqual(stored[3]);
        await expectCode(again.append(configRecord(4)), 'FND_CONFIG_VERSION_CONFLICT');
        await again.append(configRecord(5));
        expect((await again.latest())?.version).toBe(5);
      });

    if (features.has('remote'))
      it(
        'shares versions and notifications with another Storage object (another process)',
        { timeout: T },
        async () => {
          const remote = f().remote;
          if (remote === undefined) throw new Error('the fixture has no remote');
          const local = await open();
          const other = track(await remote());
          const seenRemote: number[] = [];
          const seenLocal: number[] = [];
          other.watch((v) => seenRemote.push(v));
          local.watch((v) => seenLocal.push(v));
          await local.append(configRecord(1));
          await expect.poll(() => seenRemote.includes(1), WAIT).toBe(true);
          await other.append(configRecord(2, { node: 'remote' }));
          await expect.poll(() => seenLocal.includes(2), WAIT).toBe(true);
          expect((await local.get(2))?.node).toBe('remote');
          // Two Storage objects racing for the same version: one wins, nothing half-written.
          const [ra, rb] = await Promise.allSettled([
            local.append(configRecord(3, { node: 'local' })),
            other.append(configRecord(3, { node: 'remote' })),
          ]);
          expectOneWinner([ra, rb]);
          expect(versions(await other.since(0))).toEqual([1, 2, 3]);
          expect((await other.get(3))?.node).toBe(ra.status === 'fulfilled' ? 'local' : 'remote');
        },
      );

    if (features.has('killListeners'))
      it(
        'after a lost LISTEN connection reconnects and reports the latest version',
        { timeout: T },
        async () => {
          const kill = f().killListeners;
          if (kill === undefined) throw new Error('the fixture has no killListeners');
          const writer = await open();
          const watcher = await open();
          await appendRange(writer, 1, 2);
          const seen: number[] = [];
          watcher.watch((v) => seen.push(v));
          // The first connection reports the latest version (2) once it listens.
          await expect.poll(() => seen.filter((v) => v === 2).length, WAIT).toBe(1);
          await kill();
          // Reconnected: reports the latest version again.
          await expect.poll(() => seen.filter((v) => v === 2).length, WAIT).toBe(2);
          await writer.append(configRecord(3));
          await expect.poll(() => seen.includes(3), WAIT).toBe(true);
          // A version committed while the connection is down is reported after the reconnection.
          await kill();
          await writer.append(configRecord(4));
          await expect.poll(() => seen.includes(4), WAIT).toBe(true);
          await writer.append(configRecord(5));
          await expect.poll(() => seen.includes(5), WAIT).toBe(true);
        },
      );
  });
}
