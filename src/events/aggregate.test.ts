import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FoundationError, isFoundationError } from '../errors/index.js';
import { aggregate, type Decider } from './aggregate.js';
import { createEventStore } from './create-event-store.js';
import { EventStore } from './event-store.js';
import type { AppendOptions, AppendResult, EventInput, StoredEvent } from './model/types.js';
import { Storage } from '../storage/index.js';

/** A small bank account: open once, deposit, withdraw without overdraft. */
interface Account {
  readonly open: boolean;
  readonly balance: number;
}
type AccountCommand =
  | { readonly kind: 'open' }
  | { readonly kind: 'deposit'; readonly amount: number }
  | { readonly kind: 'withdraw'; readonly amount: number };

const bankAccount: Decider<Account, AccountCommand> = {
  initialState: () => ({ open: false, balance: 0 }),
  evolve: (state, event) => {
    const amount =
      typeof event.data === 'object' && event.data !== null && 'amount' in event.data
        ? Number(event.data.amount)
        : 0;
    switch (event.type) {
      case 'account.opened':
        return { open: true, balance: 0 };
      case 'account.deposited':
        return { ...state, balance: state.balance + amount };
      case 'account.withdrawn':
        return { ...state, balance: state.balance - amount };
      default:
        return state;
    }
  },
  decide: (command, state) => {
    switch (command.kind) {
      case 'open':
        return state.open ? [] : [{ type: 'account.opened' }];
      case 'deposit':
        if (!state.open) throw new FoundationError('FND_DATA_INVALID_INPUT', { message: 'account closed' });
        return command.amount === 0 ? [] : [{ type: 'account.deposited', data: { amount: command.amount } }];
      case 'withdraw':
        if (!state.open) throw new FoundationError('FND_DATA_INVALID_INPUT', { message: 'account closed' });
        if (command.amount > state.balance) {
          throw new FoundationError('FND_DATA_INVALID_INPUT', {
            message: 'insufficient funds',
            context: { balance: state.balance, amount: command.amount },
          });
        }
        return [{ type: 'account.withdrawn', data: { amount: command.amount } }];
    }
  },
};

/** The model: the same rules computed directly, without events. */
function model(commands: readonly AccountCommand[]): Account {
  let state: Account = { open: false, balance: 0 };
  for (const command of commands) {
    if (command.kind === 'open') state = { open: true, balance: state.balance };
    else if (!state.open) continue;
    else if (command.kind === 'deposit') state = { ...state, balance: state.balance + command.amount };
    else if (command.amount <= state.balance) state = { ...state, balance: state.balance - command.amount };
  }
  return state;
}

async function rejection(pending: Promise<unknown>): Promise<FoundationError> {
  try {
    await pending;
  } catch (error) {
    if (error instanceof FoundationError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

async function memoryStore(): Promise<EventStore> {
  const store = createEventStore(new Storage('memory:'));
  await store.start();
  return store;
}

/** An event store that, once `interfere` is set, appends a foreign event to the stream before each append. */
class InterferingStore extends EventStore {
  appends = 0;
  interfere = false;
  override async append(
    input: EventInput | readonly EventInput[],
    options?: AppendOptions,
  ): Promise<AppendResult> {
    if (!this.interfere) return super.append(input, options);
    const first = (Array.isArray(input) ? input[0] : input) as EventInput;
    this.appends++;
    await super.append({ type: 'account.noise', stream: first.stream ?? 'x' });
    return super.append(input, options);
  }
}

describe('aggregate (memory store)', () => {
  let store: EventStore;
  beforeEach(async () => {
    store = await memoryStore();
  });
  afterEach(async () => {
    await store.stop();
  });

  it('opens, deposits and withdraws, versions counting the appended events', async () => {
    const account = aggregate(store, bankAccount);
    const opened = await account.handle('acc-1', { kind: 'open' });
    expect(opened.state).toEqual({ open: true, balance: 0 });
    expect(opened.version).toBe(1);
    expect(opened.events.map((e) => [e.type, e.stream, e.streamVersion])).toEqual([
      ['account.opened', 'acc-1', 1],
    ]);
    const deposited = await account.handle('acc-1', { kind: 'deposit', amount: 50 });
    expect(deposited).toMatchObject({ state: { open: true, balance: 50 }, version: 2 });
    expect(deposited.events[0]?.data).toEqual({ amount: 50 });
    const withdrawn = await account.handle('acc-1', { kind: 'withdraw', amount: 20 });
    expect(withdrawn).toMatchObject({ state: { open: true, balance: 30 }, version: 3 });
    expect(await store.streamVersion('acc-1')).toBe(3);
  });

  it('an overdraft is rejected with the decider error: state unchanged, nothing appended', async () => {
    const account = aggregate(store, bankAccount);
    await account.handle('acc-1', { kind: 'open' });
    await account.handle('acc-1', { kind: 'deposit', amount: 10 });
    const error = await rejection(account.handle('acc-1', { kind: 'withdraw', amount: 11 }));
    expect(error.code).toBe('FND_DATA_INVALID_INPUT');
    expect(error.message).toBe('insufficient funds');
    expect(await store.streamVersion('acc-1')).toBe(2);
    expect(await account.load('acc-1')).toEqual({ state: { open: true, balance: 10 }, version: 2 });
  });

  it('load folds the whole stream, across several read batches', async () => {
    const account = aggregate(store, bankAccount);
    await account.handle('acc-1', { kind: 'open' });
    const amounts = Array.from({ length: 10_500 }, (_, i) => (i % 7) + 1);
    for (let i = 0; i < amounts.length; i += 1000) {
      await store.append(
        amounts.slice(i, i + 1000).map((amount) => ({
          type: 'account.deposited',
          stream: 'acc-1',
          data: { amount },
        })),
      );
    }
    const all: StoredEvent[] = [];
    for (let from = 1; ; from += 10_000) {
      const batch = await store.readStream('acc-1', { from, limit: 10_000 });
      all.push(...batch);
      if (batch.length < 10_000) break;
    }
    expect(all).toHaveLength(10_501);
    const folded = all.reduce(bankAccount.evolve, bankAccount.initialState());
    const loaded = await account.load('acc-1');
    expect(loaded).toEqual({ state: folded, version: 10_501 });
    expect(loaded.state.balance).toBe(amounts.reduce((a, b) => a + b, 0));
  });

  it('load of an empty stream is the initial state at version 0', async () => {
    const account = aggregate(store, bankAccount);
    expect(await account.load('nobody')).toEqual({ state: { open: false, balance: 0 }, version: 0 });
  });

  it('an empty decision appends nothing and returns the current state', async () => {
    const account = aggregate(store, bankAccount);
    await account.handle('acc-1', { kind: 'open' });
    const again = await account.handle('acc-1', { kind: 'open' });
    expect(again).toEqual({ state: { open: true, balance: 0 }, version: 1, events: [] });
    expect(await store.streamVersion('acc-1')).toBe(1);
    const none = await aggregate(store, bankAccount).handle('acc-1', { kind: 'deposit', amount: 0 });
    expect(none).toEqual({ state: { open: true, balance: 0 }, version: 1, events: [] });
  });

  it('two concurrent commands on one stream: both succeed, the loser retries after its conflict', async () => {
    let decisions = 0;
    const counted: Decider<Account, AccountCommand> = {
      ...bankAccount,
      decide: (command, state) => {
        decisions++;
        return bankAccount.decide(command, state);
      },
    };
    const account = aggregate(store, counted);
    await account.handle('acc-1', { kind: 'open' });
    decisions = 0;
    const [a, b] = await Promise.all([
      account.handle('acc-1', { kind: 'deposit', amount: 30 }),
      account.handle('acc-1', { kind: 'deposit', amount: 12 }),
    ]);
    expect(decisions).toBe(3);
    expect([a.version, b.version].sort()).toEqual([2, 3]);
    const last = a.version === 3 ? a : b;
    expect(last.state.balance).toBe(42);
    const events = await store.readStream('acc-1');
    expect(events.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
    expect(await account.load('acc-1')).toEqual({ state: { open: true, balance: 42 }, version: 3 });
  });

  it('rethrows FND_EVENTS_VERSION_CONFLICT once the retries are spent', async () => {
    await store.stop();
    const { MemoryEventStore } = await import('./stores/memory-store.js');
    const interfering = new InterferingStore(new MemoryEventStore());
    store = interfering;
    await interfering.start();
    await interfering.append({ type: 'account.opened', stream: 'acc-1' });
    interfering.interfere = true;
    const error = await rejection(
      aggregate(interfering, bankAccount, { maxRetries: 2 }).handle('acc-1', { kind: 'deposit', amount: 1 }),
    );
    expect(error.code).toBe('FND_EVENTS_VERSION_CONFLICT');
    expect(error.context).toMatchObject({ stream: 'acc-1' });
    expect(interfering.appends).toBe(3);
    const types = (await interfering.readStream('acc-1')).map((e) => e.type);
    expect(types).toEqual(['account.opened', 'account.noise', 'account.noise', 'account.noise']);
  });

  it('a decided event naming another stream is FND_EVENTS_INVALID_EVENT; the same stream is fine', async () => {
    const elsewhere = aggregate<number, string>(store, {
      initialState: () => 0,
      evolve: (n) => n + 1,
      decide: (target) => [{ type: 'thing.done', stream: target }],
    });
    const error = await rejection(elsewhere.handle('s-1', 's-2'));
    expect(error.code).toBe('FND_EVENTS_INVALID_EVENT');
    expect(error.context).toMatchObject({ stream: 's-1', eventStream: 's-2', index: 0 });
    expect(await store.streamVersion('s-2')).toBe(0);
    expect(await elsewhere.handle('s-1', 's-1')).toMatchObject({ state: 1, version: 1 });
  });

  it('a decide or evolve that throws a plain error becomes FND_SYSTEM_INTERNAL with the cause', async () => {
    const boom = new TypeError('boom');
    const badDecide = aggregate<number, null>(store, {
      initialState: () => 0,
      evolve: (n) => n,
      decide: () => {
        throw boom;
      },
    });
    const decideError = await rejection(badDecide.handle('s-1', null));
    expect(decideError.code).toBe('FND_SYSTEM_INTERNAL');
    expect(decideError.cause).toBe(boom);
    expect(decideError.context).toMatchObject({ step: 'decide' });

    const badEvolve = aggregate<number, null>(store, {
      initialState: () => 0,
      evolve: () => {
        throw boom;
      },
      decide: () => [{ type: 'thing.done' }],
    });
    const evolveError = await rejection(badEvolve.handle('s-2', null));
    expect(evolveError.code).toBe('FND_SYSTEM_INTERNAL');
    expect(evolveError.context).toMatchObject({ step: 'evolve' });
    // The event was appended before evolve failed; loading now fails the same way.
    expect(await store.streamVersion('s-2')).toBe(1);
    expect(isFoundationError(await rejection(badEvolve.load('s-2')), 'FND_SYSTEM_INTERNAL')).toBe(true);
  });

  it('stream names are validated by the store', async () => {
    const error = await rejection(aggregate(store, bankAccount).load(''));
    expect(error.code).toBe('FND_EVENTS_INVALID_QUERY');
  });

  it('refuses a negative or fractional maxRetries', () => {
    for (const maxRetries of [-1, 1.5, Number.NaN]) {
      expect(() => aggregate(store, bankAccount, { maxRetries })).toThrow(
        expect.objectContaining({ code: 'FND_DATA_INVALID_INPUT' }),
      );
    }
  });

  it('property: for random command sequences the state equals the model', async () => {
    const command = fc.oneof(
      fc.constant<AccountCommand>({ kind: 'open' }),
      fc.integer({ min: 0, max: 100 }).map((amount): AccountCommand => ({ kind: 'deposit', amount })),
      fc.integer({ min: 1, max: 150 }).map((amount): AccountCommand => ({ kind: 'withdraw', amount })),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 25 }), async (commands) => {
        const stream = `acc-${run++}`;
        const account = aggregate(store, bankAccount);
        let appended = 0;
        for (const c of commands) {
          try {
            appended += (await account.handle(stream, c)).events.length;
          } catch (error) {
            if (!isFoundationError(error, 'FND_DATA_INVALID_INPUT')) throw error;
          }
        }
        const loaded = await account.load(stream);
        expect(loaded.state).toEqual(model(commands));
        expect(loaded.version).toBe(appended);
      }),
      { numRuns: 60 },
    );
  });
});
