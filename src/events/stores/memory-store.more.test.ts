/**
 * The memory event store's less travelled paths: a projection failure undoing events in every index,
 * correlation-indexed reads and retention, checkpoints that are not positions, and `resolveFrom`.
 */
import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import type { AppendOutcome, AppendRequest } from '../model/port.js';
import type { EventInput, ExpectedVersion } from '../model/types.js';
import { prepareEvents } from '../model/validate-event.js';
import { throwingProjector } from '../../../test/helpers/inline-projector.js';
import { MemoryEventStore } from './memory-store.js';
import { parsePositionCheckpoint } from './position-checkpoint.js';

function request(
  inputs: EventInput[],
  expectedVersion: ExpectedVersion = 'any',
  stream: string | null = null,
): AppendRequest {
  let n = 0;
  const events = prepareEvents(inputs, {
    now: 1_700_000_000_000,
    monotonic: 1,
    node: 'n',
    maxEventBytes: 1 << 20,
    newId: () => `gen-${String(++n)}`,
  });
  return { events, expectedVersion, stream };
}

function code(outcome: AppendOutcome | undefined): string {
  if (outcome === undefined) return 'missing';
  return outcome.ok ? (outcome.idempotent ? 'idempotent' : 'ok') : outcome.error.code;
}

describe('MemoryEventStore (more)', () => {
  it('a projector throwing a plain error refuses the request with FND_EVENTS_PROJECTION_FAILED and undoes it in every index', async () => {
    const store = new MemoryEventStore();
    const boom = new Error('projector bug');
    store.setInlineProjector(throwingProjector(boom));
    const [first] = await store.append([
      request([
        { id: 'a1', type: 'order.placed', stream: 'order-1', correlationId: 'c-old' },
        { id: 'a2', type: 'audit.logged', correlationId: 'c-old' },
      ]),
    ]);
    expect(code(first)).toBe('ok');

    // Events in an existing stream, a new stream, no stream; an existing and a new correlation chain.
    const [refused] = await store.append([
      request([
        { id: 'b1', type: 'order.paid', stream: 'order-1', correlationId: 'c-old' },
        { id: 'b2', type: 'order.placed', stream: 'order-2', correlationId: 'c-new' },
        { id: 'b3', type: 'bad.one', correlationId: 'c-new' },
        { id: 'b4', type: 'audit.logged' },
      ]),
    ]);
    expect(refused?.ok).toBe(false);
    if (refused?.ok !== false) throw new Error('expected a refusal');
    expect(refused.error.code).toBe('FND_EVENTS_PROJECTION_FAILED');
    expect(refused.error.cause).toBe(boom);

    // Nothing of the refused request stays; what was stored before is intact.
    for (const id of ['b1', 'b2', 'b3', 'b4']) expect(await store.get(id)).toBeUndefined();
    expect(await store.streamVersion('order-1')).toBe(1);
    expect(await store.streamVersion('order-2')).toBe(0);
    const readOne = await store.readStream('order-1', { direction: 'forward', from: 1, limit: 10 });
    expect(readOne.map((e) => e.id)).toEqual(['a1']);
    expect(await store.readStream('order-2', { direction: 'forward', from: 1, limit: 10 })).toEqual([]);
    expect((await store.byCorrelation('c-old', 10)).map((e) => e.id)).toEqual(['a1', 'a2']);
    expect(await store.byCorrelation('c-new', 10)).toEqual([]);
    expect((await store.readAll({ afterPosition: 0, limit: 10 })).map((e) => e.id)).toEqual(['a1', 'a2']);

    // Positions were given back: the next append continues at 3, stream versions at 2 and 1.
    const [next] = await store.append([
      request([
        { id: 'c1', type: 'order.paid', stream: 'order-1' },
        { id: 'c2', type: 'order.placed', stream: 'order-2' },
      ]),
    ]);
    if (next?.ok !== true) throw new Error('expected ok');
    expect(next.events.map((e) => [e.id, e.position, e.streamVersion])).toEqual([
      ['c1', 3, 2],
      ['c2', 4, 1],
    ]);
  });

  it('a projector throwing a FoundationError refuses with that very error', async () => {
    const store = new MemoryEventStore();
    const refusal = new FoundationError('FND_EVENTS_PROJECTION_FAILED', { message: 'no' });
    store.setInlineProjector(throwingProjector(refusal));
    const [outcome] = await store.append([request([{ id: 'x', type: 'bad.one', stream: 's' }])]);
    expect(outcome).toEqual({ ok: false, error: refusal });
    expect(await store.streamVersion('s')).toBe(0);
  });

  it('queries and aggregates by a correlation id that has no events as empty', async () => {
    const store = new MemoryEventStore();
    await store.append([request([{ id: 'a', type: 'a.b', correlationId: 'c-1' }])]);
    const page = await store.query({ correlationId: 'c-unknown', limit: 10 });
    expect(page.events).toEqual([]);
    expect(await store.aggregate({ groupBy: 'type', filter: { correlationId: 'c-unknown' } })).toEqual([]);
    const known = await store.query({ correlationId: 'c-1', limit: 10 });
    expect(known.events.map((e) => e.id)).toEqual(['a']);
  });

  it('removeEvents takes removed events out of their correlation chains and streams', async () => {
    const store = new MemoryEventStore();
    await store.append([
      request([
        { id: 'e1', type: 'old.one', stream: 's', correlationId: 'c' },
        { id: 'e2', type: 'new.one', stream: 's', correlationId: 'c' },
        { id: 'e3', type: 'old.one', correlationId: 'c' },
      ]),
    ]);
    expect(store.removeEvents((e) => e.type === 'old.one', 10)).toBe(2);
    expect((await store.byCorrelation('c', 10)).map((e) => e.id)).toEqual(['e2']);
    expect((await store.query({ correlationId: 'c', limit: 10 })).events.map((e) => e.id)).toEqual(['e2']);
    const read = await store.readStream('s', { direction: 'forward', from: 1, limit: 10 });
    expect(read.map((e) => [e.id, e.streamVersion])).toEqual([['e2', 2]]);
    // The stream's version stays.
    expect(await store.streamVersion('s')).toBe(2);
  });

  it('readCommitted reads from the start when the checkpoint is not a position', async () => {
    const store = new MemoryEventStore();
    await store.append([request([{ id: 'a', type: 'a.b' }]), request([{ id: 'b', type: 'a.b' }])]);
    for (const after of ['garbage', '-1', '9999999999999999']) {
      const page = await store.readCommitted({}, after, 10);
      expect(page.events.map((e) => e.id)).toEqual(['a', 'b']);
      expect(page.checkpoints).toEqual(['1', '2']);
      expect(page.head).toBe('2');
      expect(page.lastPosition).toBe(2);
    }
    expect(store.checkpointPosition('garbage')).toBeUndefined();
    expect(store.checkpointPosition('42')).toBe(42);
  });

  it('resolveFrom: start is 0, end the last position (0 when empty), a number itself', async () => {
    const store = new MemoryEventStore();
    expect(await store.resolveFrom('start')).toBe('0');
    expect(await store.resolveFrom('end')).toBe('0');
    await store.append([request([{ type: 'a.b' }, { type: 'a.b' }, { type: 'a.b' }])]);
    expect(await store.resolveFrom('end')).toBe('3');
    expect(await store.resolveFrom('start')).toBe('0');
    expect(await store.resolveFrom(2)).toBe('2');
  });
});

describe('parsePositionCheckpoint', () => {
  it('accepts decimal positions up to 2^53 - 1 and nothing else', () => {
    expect(parsePositionCheckpoint('0')).toBe(0);
    expect(parsePositionCheckpoint('9007199254740991')).toBe(9007199254740991);
    // 16 digits match the pattern but are past the safe integers.
    expect(parsePositionCheckpoint('9999999999999999')).toBeUndefined();
    expect(parsePositionCheckpoint('007')).toBeUndefined();
    expect(parsePositionCheckpoint('1.5')).toBeUndefined();
    expect(parsePositionCheckpoint(7 as unknown as string)).toBeUndefined();
  });
});
