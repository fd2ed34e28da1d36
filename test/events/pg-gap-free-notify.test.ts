/**
 * Every PostgreSQL append path records its transaction id (`tx`, filled by the column DEFAULT) and notifies the
 * schema's channel at commit: the one-statement path for one event and for a group, and the transactional
 * fallback. A refused append notifies nobody.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AppendRequest } from '../../src/events/model/port.js';
import { eventsChannel } from '../../src/events/stores/postgres-listener.js';
import { createTestSchema, describePg, pgTestUrl, type TestSchema } from '../helpers/postgres.js';
import {
  appendRequest,
  openPgStore,
  preparedEvent,
  storedEvents,
  type OpenStore,
} from './postgres-fixtures.js';

describePg('PostgreSQL appends record tx and notify', () => {
  let schema: TestSchema;
  let open: OpenStore;
  let listener: pg.Client;
  const received: string[] = [];

  beforeAll(async () => {
    schema = await createTestSchema();
    open = await openPgStore(schema.url);
    listener = new pg.Client({ connectionString: pgTestUrl() });
    await listener.connect();
    listener.on('notification', (message) => received.push(message.channel));
    await listener.query(`LISTEN "${eventsChannel(schema.schema)}"`);
  });

  afterAll(async () => {
    await listener.end();
    await open.close();
    await schema.drop();
  });

  /** Appends, then waits for the next notification; returns the rows' tx per position. */
  async function appendAndHear(requests: AppendRequest[]): Promise<Map<number, string>> {
    const before = received.length;
    const heard = new Promise<void>((resolve) => {
      const check = (): void => {
        if (received.length > before) {
          listener.off('notification', check);
          resolve();
        }
      };
      listener.on('notification', check);
    });
    const outcomes = await open.store.append(requests);
    await heard;
    const positions = outcomes.flatMap((o) => storedEvents(o).map((e) => e.position));
    const handle = open.storage.handle();
    if (handle.kind !== 'postgres') throw new Error('unreachable');
    const result = await handle.pool.query<{ position: number | string; tx: string }>(
      'SELECT position, tx::text AS tx FROM foundation_events WHERE position = ANY($1::bigint[]) ORDER BY position',
      [positions],
    );
    return new Map(result.rows.map((r) => [Number(r.position), r.tx]));
  }

  it('fills tx on the fast path (one event, a group) and the fallback, and notifies once per commit', async () => {
    const one = await appendAndHear([appendRequest([preparedEvent('s-1', 1)])]);
    const group = await appendAndHear([
      appendRequest([preparedEvent('s-2', 1), preparedEvent('s-2', 2)]),
      appendRequest([preparedEvent(null, 3)]),
    ]);
    // The same event twice in a group cannot take the fast path: the transactional path stores it once.
    const repeated = preparedEvent('s-3', 1);
    const fallback = await appendAndHear([appendRequest([repeated]), appendRequest([repeated])]);
    expect(one.size).toBe(1);
    expect(group.size).toBe(3);
    expect(fallback.size).toBe(1);
    // One transaction per commit: one tx for the group, increasing from commit to commit.
    expect(new Set(group.values()).size).toBe(1);
    const txs = [...one.values(), ...group.values(), ...fallback.values()].map(BigInt);
    expect(txs.every((tx) => tx > 0n)).toBe(true);
    expect(txs[0]! < txs[1]! && txs[1]! < txs[4]!).toBe(true);
    expect(received.every((channel) => channel === eventsChannel(schema.schema))).toBe(true);
  });

  it('a refused append (expected version not met) stores nothing and notifies nobody', async () => {
    const before = received.length;
    const outcomes = await open.store.append([appendRequest([preparedEvent('s-1', 9)], 'no_stream')]);
    expect(outcomes[0]?.ok).toBe(false);
    // A later append's notification is the next one heard: nothing came in between.
    const next = await appendAndHear([appendRequest([preparedEvent('s-9', 1)])]);
    expect(next.size).toBe(1);
    expect(received.length).toBe(before + 1);
  });
});
