/**
 * Contract properties (fast-check): random append sequences against a simple model, and idempotency of
 * any appended batch.
 *
 * @module
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFoundationError } from '../../../src/errors/index.js';
import type {
  AppendResult,
  EventInput,
  ExpectedVersion,
  JsonObject,
} from '../../../src/events/model/types.js';
import type { MakeEventStore } from './fixture.js';
import { everything, strictlyIncreasing, useStore } from './fixture.js';

interface Command {
  readonly stream: string | null;
  readonly count: number;
  readonly expected: ExpectedVersion | undefined;
}

const commandArb: fc.Arbitrary<Command> = fc.record({
  stream: fc.constantFrom('a', 'b', 'c', null),
  count: fc.integer({ min: 1, max: 3 }),
  expected: fc.option(
    fc.oneof(
      fc.constantFrom<ExpectedVersion>('any', 'no_stream', 'stream_exists'),
      fc.integer({ min: 0, max: 4 }),
    ),
    { nil: undefined },
  ),
});

/** What the model predicts for a command. */
type Prediction = { kind: 'ok' } | { kind: 'conflict'; actual: number } | { kind: 'invalid' };

function predict(command: Command, version: number): Prediction {
  const expected = command.expected ?? 'any';
  if (expected === 'any') return { kind: 'ok' };
  if (command.stream === null) return { kind: 'invalid' };
  const ok =
    expected === 'no_stream'
      ? version === 0
      : expected === 'stream_exists'
        ? version > 0
        : version === expected;
  return ok ? { kind: 'ok' } : { kind: 'conflict', actual: version };
}

const jsonData = fc.object({
  maxDepth: 2,
  maxKeys: 4,
  values: [
    fc.integer(),
    fc.string({ maxLength: 8 }),
    fc.boolean(),
    fc.constant(null),
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  ],
});

const batchArb = fc.record({
  events: fc.array(
    fc.record({
      type: fc.constantFrom('p.created', 'p.updated', 'q.done'),
      stream: fc.constantFrom('x', 'y'),
      data: jsonData as fc.Arbitrary<JsonObject>,
      metadata: fc.constantFrom<JsonObject>({}, { source: 'prop' }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  checked: fc.boolean(),
});

/** Model-based properties. */
export function propertyCases(make: MakeEventStore): void {
  const t = useStore(make);

  describe('properties', () => {
    it('random appends with random expected versions match a simple model', async () => {
      let run = 0;
      let lastPosition = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 12 }), async (commands) => {
          run++;
          const versions = new Map<string, number>();
          for (const command of commands) {
            const stream = command.stream === null ? null : `run${run}-${command.stream}`;
            const version = stream === null ? 0 : (versions.get(stream) ?? 0);
            const prediction = predict(command, version);
            const events = Array.from({ length: command.count }, (_, i) => ({
              type: 'model.step',
              data: { i },
              ...(stream === null ? {} : { stream }),
            }));
            let result: AppendResult | undefined;
            let failure: unknown;
            try {
              result = await t.store.append(
                events,
                command.expected === undefined ? {} : { expectedVersion: command.expected },
              );
            } catch (error) {
              failure = error;
            }
            if (prediction.kind === 'ok') {
              expect(failure).toBeUndefined();
              const positions = result!.events.map((e) => e.position);
              expect(strictlyIncreasing([lastPosition, ...positions])).toBe(true);
              lastPosition = positions[positions.length - 1]!;
              if (stream === null) {
                expect(result!.streamVersion).toBeNull();
              } else {
                expect(result!.events.map((e) => e.streamVersion)).toEqual(
                  Array.from({ length: command.count }, (_, i) => version + i + 1),
                );
                versions.set(stream, version + command.count);
              }
            } else if (prediction.kind === 'conflict') {
              expect(isFoundationError(failure, 'FND_EVENTS_VERSION_CONFLICT')).toBe(true);
              expect(isFoundationError(failure) && failure.context['actual']).toBe(prediction.actual);
            } else {
              expect(isFoundationError(failure, 'FND_EVENTS_INVALID_EVENT')).toBe(true);
            }
          }
          for (const [stream, version] of versions) {
            expect(await t.store.streamVersion(stream)).toBe(version);
            const read = await t.store.readStream(stream);
            expect(read.map((e) => e.streamVersion)).toEqual(
              Array.from({ length: version }, (_, i) => i + 1),
            );
            expect(strictlyIncreasing(read.map((e) => e.position))).toBe(true);
          }
        }),
        { numRuns: 25 },
      );
      const all = await everything(t.store);
      expect(strictlyIncreasing(all.map((e) => e.position))).toBe(true);
      expect(all[all.length - 1]?.position ?? 0).toBe(lastPosition);
    });

    it('appending any already-appended batch again returns identical results and writes nothing', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(batchArb, async ({ events, checked }) => {
          run++;
          const batch: EventInput[] = events.map((e, i) => ({
            ...e,
            id: `prop-${run}-${i}`,
            stream: `${e.stream}-${run}`,
          }));
          const single = checked && new Set(batch.map((e) => e.stream)).size === 1;
          const options = single ? { expectedVersion: 'no_stream' as const } : {};
          const first = await t.store.append(batch, options);
          const count = (await everything(t.store)).length;
          const retry = await t.store.append(batch, options);
          expect(retry.idempotent).toBe(true);
          expect(retry.events).toEqual(first.events);
          expect(retry.position).toBe(first.position);
          expect(retry.streamVersion).toBe(first.streamVersion);
          expect((await everything(t.store)).length).toBe(count);
          for (const event of first.events) expect(await t.store.get(event.id)).toEqual(event);
        }),
        { numRuns: 25 },
      );
    });
  });
}
