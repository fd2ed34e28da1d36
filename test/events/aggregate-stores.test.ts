/**
 * The aggregate helper on the durable stores: concurrent commands on one stream all succeed through
 * conflict retries, stream versions stay 1..n, and the final state is the sum of every command.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregate, type Decider } from '../../src/events/aggregate.js';
import { createEventStore } from '../../src/events/create-event-store.js';
import type { EventStore } from '../../src/events/event-store.js';
import { Storage } from '../../src/storage/index.js';
import { createTestSchema, describePg, type TestSchema } from '../helpers/postgres.js';

/** A counter: `add` appends one `counter.added` event; the state is the running total. */
const counter: Decider<number, number> = {
  initialState: () => 0,
  evolve: (total, event) =>
    event.type === 'counter.added' && typeof event.data === 'number' ? total + event.data : total,
  decide: (amount) => (amount === 0 ? [] : [{ type: 'counter.added', data: amount }]),
};

const COMMANDS = 6;

interface Opened {
  readonly storage: Storage;
  readonly store: EventStore;
}

async function open(url: string): Promise<Opened> {
  const storage = new Storage(url);
  await storage.open();
  const store = createEventStore(storage);
  await store.start();
  return { storage, store };
}

async function close(opened: Opened | undefined): Promise<void> {
  if (opened === undefined) return;
  await opened.store.stop();
  await opened.storage.close();
}

/**
 * Runs COMMANDS concurrent handle() calls on one stream (from `stores`, round robin), checks the outcome and
 * returns how many decisions were made (more than COMMANDS: some commands retried after a conflict).
 */
async function concurrentCommands(stores: readonly EventStore[], stream: string): Promise<number> {
  let decisions = 0;
  const counted: Decider<number, number> = {
    ...counter,
    decide: (amount, total) => {
      decisions++;
      return counter.decide(amount, total);
    },
  };
  const amounts = Array.from({ length: COMMANDS }, (_, i) => i + 1);
  const outcomes = await Promise.all(
    amounts.map((amount, i) =>
      aggregate(stores[i % stores.length] as EventStore, counted, { maxRetries: COMMANDS }).handle(
        stream,
        amount,
      ),
    ),
  );
  expect(outcomes.map((o) => o.version).sort((a, b) => a - b)).toEqual(amounts);
  const sum = amounts.reduce((a, b) => a + b, 0);
  const last = outcomes.find((o) => o.version === COMMANDS);
  expect(last?.state).toBe(sum);
  const reader = stores[0] as EventStore;
  const events = await reader.readStream(stream);
  expect(events.map((e) => e.streamVersion)).toEqual(amounts);
  expect(events.map((e) => e.data).sort((a, b) => Number(a) - Number(b))).toEqual(amounts);
  expect(await aggregate(reader, counter).load(stream)).toEqual({ state: sum, version: COMMANDS });
  return decisions;
}

describe('aggregate on SQLite (temp file)', () => {
  let dir: string;
  let opened: Opened | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'foundation-aggregate-'));
    opened = await open(`sqlite:${join(dir, 'events.db')}`);
  });

  afterAll(async () => {
    await close(opened);
    await rm(dir, { recursive: true, force: true });
  });

  it(`${COMMANDS} concurrent commands on one stream all succeed with versions 1..${COMMANDS}`, async () => {
    // All load version 0 before any append commits, so every command but the first retries at least once.
    const decisions = await concurrentCommands([(opened as Opened).store], 'counter-1');
    expect(decisions).toBeGreaterThan(COMMANDS);
  });
});

describePg('aggregate on PostgreSQL', () => {
  let schema: TestSchema;
  let a: Opened | undefined;
  let b: Opened | undefined;

  beforeAll(async () => {
    schema = await createTestSchema();
    a = await open(schema.url);
    b = await open(schema.url);
  });

  afterAll(async () => {
    await close(a);
    await close(b);
    await schema.drop();
  });

  it(`${COMMANDS} concurrent commands from two stores on one stream all succeed`, async () => {
    const decisions = await concurrentCommands([(a as Opened).store, (b as Opened).store], 'counter-1');
    expect(decisions).toBeGreaterThanOrEqual(COMMANDS);
  });
});
