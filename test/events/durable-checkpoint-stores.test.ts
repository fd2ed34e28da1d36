/**
 * The checkpoint stores of durable subscriptions (memory, SQLite, PostgreSQL) against one contract: a name is
 * created once with its partition rows; leases are taken only when free, expired or already held; renewed
 * by heartbeats; released on leave; a checkpoint write needs an unexpired lease (else
 * `FND_EVENTS_CHECKPOINT_CONFLICT`, stored row unchanged); dead members drop out of the view.
 *
 * Expiry: memory and SQLite run on a fake clock; PostgreSQL uses the server's clock, so the test expires a
 * lease by moving its row's expiry into the past.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryCheckpointStore,
  SqliteCheckpointStore,
  createCheckpointStore,
  type CheckpointStore,
} from '../../src/events/subscriptions/durable/index.js';
import { Storage } from '../../src/storage/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { createTestSchema, describePg, pgExec, type TestSchema } from '../helpers/postgres.js';

interface Fixture {
  readonly store: CheckpointStore;
  /** Makes every lease and heartbeat of `name` expire. */
  expire(name: string): Promise<void>;
}

function checkpointStoreContract(setup: () => Fixture): void {
  let f: Fixture;
  beforeAll(() => {
    f = setup();
  });

  it('creates a name once, with one free row per partition; a later ensure keeps the first record', async () => {
    const record = await f.store.ensure('c1', 3, 7);
    expect(record).toMatchObject({ name: 'c1', partitions: 3, startPosition: 7 });
    expect(await f.store.ensure('c1', 5, 0)).toEqual(record);
    const read = await f.store.read('c1');
    expect(read?.partitions.map((p) => [p.partition, p.owner, p.checkpoint, p.position])).toEqual([
      [0, null, null, 0],
      [1, null, null, 0],
      [2, null, null, 0],
    ]);
    expect(await f.store.read('unknown')).toBeUndefined();
  });

  it('leases: taken when free, refused while held by another, renewed by heartbeats, released on leave', async () => {
    await f.store.ensure('c2', 4, 0);
    expect(await f.store.acquire('c2', 'a', [0, 1, 1], 60_000)).toEqual([0, 1]);
    expect(await f.store.acquire('c2', 'b', [1, 2], 60_000)).toEqual([2]);
    expect(await f.store.acquire('c2', 'a', [0], 60_000)).toEqual([0]);
    const view = await f.store.heartbeat('c2', 'a', 60_000);
    await f.store.heartbeat('c2', 'b', 60_000);
    const again = await f.store.heartbeat('c2', 'a', 60_000);
    expect(again.members.map((m) => m.member)).toEqual(['a', 'b']);
    expect(view.partitions.map((p) => p.owner)).toEqual(['a', 'a', 'b', null]);
    expect(again.partitions.every((p) => p.owner === null || p.leaseExpiresAt > again.now)).toBe(true);
    await f.store.release('c2', 'b', [0, 2]);
    expect((await f.store.read('c2'))?.partitions.map((p) => p.owner)).toEqual(['a', 'a', null, null]);
    await f.store.leave('c2', 'a');
    const after = await f.store.heartbeat('c2', 'b', 60_000);
    expect(after.members.map((m) => m.member)).toEqual(['b']);
    expect(after.partitions.map((p) => p.owner)).toEqual([null, null, null, null]);
  });

  it('stores checkpoints only under an unexpired lease; a refused write leaves the row as it was', async () => {
    await f.store.ensure('c3', 2, 0);
    await f.store.acquire('c3', 'a', [0, 1], 60_000);
    await f.store.commit('c3', 0, 'a', 'cp-10', 10);
    await expect(f.store.commit('c3', 0, 'b', 'cp-99', 99)).rejects.toMatchObject({
      code: 'FND_EVENTS_CHECKPOINT_CONFLICT',
      context: { name: 'c3', partition: 0, member: 'b', owner: 'a' },
    });
    await f.expire('c3');
    await expect(f.store.commit('c3', 0, 'a', 'cp-11', 11)).rejects.toMatchObject({
      code: 'FND_EVENTS_CHECKPOINT_CONFLICT',
    });
    // Expired: another member takes over, and sees the last stored checkpoint.
    expect(await f.store.acquire('c3', 'b', [0], 60_000)).toEqual([0]);
    const row = (await f.store.read('c3'))?.partitions[0];
    expect(row).toMatchObject({ owner: 'b', checkpoint: 'cp-10', position: 10 });
    await f.store.commit('c3', 0, 'b', 'cp-12', 12);
    expect((await f.store.read('c3'))?.partitions[0]).toMatchObject({ checkpoint: 'cp-12', position: 12 });
    // The old owner's heartbeat renews nothing it lost.
    const view = await f.store.heartbeat('c3', 'a', 60_000);
    expect(view.partitions.map((p) => p.owner)).toEqual(['b', 'a']);
  });

  it('a member whose heartbeat expired is not live', async () => {
    await f.store.ensure('c4', 1, 0);
    await f.store.heartbeat('c4', 'a', 60_000);
    await f.expire('c4');
    const view = await f.store.heartbeat('c4', 'b', 60_000);
    expect(view.members.map((m) => m.member)).toEqual(['b']);
  });
}

describe('checkpoint store: memory', () => {
  checkpointStoreContract(() => {
    const clock = new FakeClock();
    return {
      store: new MemoryCheckpointStore({ clock }),
      expire: () => {
        clock.advance(60_000);
        return Promise.resolve();
      },
    };
  });
});

describe('checkpoint store: SQLite', () => {
  let dir: string;
  let storage: Storage;
  const clock = new FakeClock();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'durable-cp-'));
    storage = new Storage(`sqlite:${join(dir, 'cp.db')}`);
    await storage.open();
  });
  afterAll(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });
  checkpointStoreContract(() => ({
    store: new SqliteCheckpointStore(storage, { clock }),
    expire: () => {
      clock.advance(60_000);
      return Promise.resolve();
    },
  }));
});

describePg('checkpoint store: PostgreSQL', () => {
  let schema: TestSchema;
  let storage: Storage;
  beforeAll(async () => {
    schema = await createTestSchema();
    storage = new Storage(schema.url);
    await storage.open();
  });
  afterAll(async () => {
    await storage.close();
    await schema.drop();
  });
  checkpointStoreContract(() => ({
    store: createCheckpointStore(storage),
    async expire(name: string): Promise<void> {
      const s = `"${schema.schema}"`;
      await pgExec(
        `UPDATE ${s}.foundation_subscription_checkpoints SET lease_expires_at = lease_expires_at - 3600000 WHERE name = $1 AND owner IS NOT NULL`,
        [name],
      );
      await pgExec(
        `UPDATE ${s}.foundation_subscription_members SET expires_at = expires_at - 3600000 WHERE name = $1`,
        [name],
      );
    },
  }));
});
