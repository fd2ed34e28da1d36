/**
 * Subscription properties (fast-check): for random interleavings of appends (single events and batches,
 * several types) and consumer pulls, with a random filter and buffer, every subscription delivers exactly
 * the log's matching events in order (`readAll` filtered): no duplicates, no gaps, nothing extra.
 *
 * @module
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { EventStore } from '../../../src/events/event-store.js';
import { compileMatcher } from '../../../src/events/model/query-memory.js';
import type { EventInput, StoredEvent } from '../../../src/events/model/types.js';
import type { SubscriptionFilter } from '../../../src/events/subscriptions/types.js';
import { reader } from './helpers.js';

type Op =
  | { readonly kind: 'append'; readonly types: readonly string[] }
  | { readonly kind: 'pull'; readonly count: number };

const typeArb = fc.constantFrom('p.a', 'p.b', 'q.c');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('append' as const),
    types: fc.array(typeArb, { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('pull' as const), count: fc.integer({ min: 1, max: 6 }) }),
);
const filterArb: fc.Arbitrary<SubscriptionFilter> = fc.constantFrom<SubscriptionFilter>(
  {},
  { types: ['p.*'] },
  { types: ['q.c'] },
  { where: [{ path: 'data.n', op: 'gte', value: 5 }] },
);

/** Registers the properties; `store()` is the current test's (empty, started) store. */
export function subscriptionPropertyCases(store: () => EventStore, runs: number): void {
  it(
    'delivers exactly the matching events of the log, in order, for any interleaving of appends and pulls',
    { timeout: 120_000 },
    async () => {
      let round = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(opArb, { minLength: 1, maxLength: 12 }),
          filterArb,
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 0, max: 3 }),
          async (ops, filter, batchSize, extraBuffer) => {
            round++;
            const s = store();
            // Each run continues the same log: it starts from the log's end and checks only its own events.
            const stream = `prop-${round}`;
            const scoped: SubscriptionFilter = { ...filter, stream };
            const match = compileMatcher(scoped);
            const r = reader(
              s.subscribe(scoped, { from: 'end', batchSize, bufferSize: batchSize + extraBuffer }),
            );
            let n = 0;
            let matched = 0;
            const delivered: StoredEvent[] = [];
            for (const op of ops) {
              if (op.kind === 'append') {
                const batch: EventInput[] = op.types.map((type) => ({ type, stream, data: { n: n++ } }));
                const result = await s.append(batch.length === 1 ? (batch[0] as EventInput) : batch);
                matched += result.events.filter(match).length;
              } else {
                const count = Math.min(op.count, matched - delivered.length);
                delivered.push(...(await r.take(count)));
                expect(r.subscription.status().buffered).toBeLessThanOrEqual(batchSize + extraBuffer);
              }
            }
            delivered.push(...(await r.take(matched - delivered.length)));
            await r.stop();
            const log = (await s.readStream(stream, { limit: 1000 })).filter(match);
            expect(delivered.map((e) => e.id)).toEqual(log.map((e) => e.id));
            expect(new Set(delivered.map((e) => e.id)).size).toBe(delivered.length);
          },
        ),
        { numRuns: runs },
      );
    },
  );
}
