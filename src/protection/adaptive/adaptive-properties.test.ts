import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { rejection } from '../errors.js';
import { pipeline } from '../pipeline.js';
import { createAdaptiveLayer } from './adaptive-layer.js';
import { createLimitAlgorithm, validateAdaptiveOptions, type AdaptiveOptions } from './adaptive-options.js';

const boundsArb = fc
  .tuple(
    fc.integer({ min: 1, max: 50 }),
    fc.integer({ min: 0, max: 200 }),
    fc.double({ min: 0, max: 1, noNaN: true }),
  )
  .map(([minLimit, span, at]) => ({
    minLimit,
    maxLimit: minLimit + span,
    initialLimit: minLimit + Math.floor(span * at),
  }));

const optionsArb: fc.Arbitrary<AdaptiveOptions> = fc.oneof(
  boundsArb.map((b) => ({ ...b, algorithm: 'vegas' as const, probeMultiplier: 1, random: () => 0.5 })),
  boundsArb.map((b) => ({ ...b, algorithm: 'gradient2' as const, smoothing: 0.5, longWindow: 20 })),
  boundsArb.map((b) => ({ ...b, algorithm: 'aimd' as const, latencyThresholdMs: 50, backoffRatio: 0.7 })),
);

const sampleArb = fc.record({
  rttMs: fc.oneof(fc.double({ min: 0, max: 5_000, noNaN: true }), fc.constantFrom(0, 1, 10, 100)),
  inflight: fc.integer({ min: 0, max: 400 }),
  dropped: fc.boolean(),
  calls: fc.integer({ min: 1, max: 50 }),
});

describe('adaptive limit properties', () => {
  it('every algorithm keeps an integer limit within [minLimit, maxLimit] whatever the samples', () => {
    fc.assert(
      fc.property(optionsArb, fc.array(sampleArb, { maxLength: 300 }), (options, samples) => {
        const resolved = validateAdaptiveOptions(options);
        const algorithm = createLimitAlgorithm(resolved);
        for (const sample of samples) {
          const limit = algorithm.update(sample);
          expect(limit).toBe(algorithm.limit);
          expect(Number.isInteger(limit)).toBe(true);
          expect(limit).toBeGreaterThanOrEqual(resolved.minLimit);
          expect(limit).toBeLessThanOrEqual(resolved.maxLimit);
        }
      }),
      { numRuns: 300 },
    );
  });

  type Op =
    | { readonly kind: 'start' }
    | {
        readonly kind: 'settle';
        readonly index: number;
        readonly outcome: 'ok' | 'drop' | 'error';
        readonly ms: number;
      }
    | { readonly kind: 'configure'; readonly options: AdaptiveOptions };

  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.constant({ kind: 'start' as const }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('settle' as const),
        index: fc.nat(),
        outcome: fc.constantFrom('ok' as const, 'drop' as const, 'error' as const),
        ms: fc.integer({ min: 0, max: 300 }),
      }),
    },
    { weight: 1, arbitrary: optionsArb.map((options) => ({ kind: 'configure' as const, options })) },
  );

  it('the layer never starts a call at or above its limit, and its limit stays within the bounds', async () => {
    let totalStarted = 0;
    await fc.assert(
      fc.asyncProperty(
        optionsArb,
        fc.integer({ min: 0, max: 3 }),
        fc.array(opArb, { maxLength: 120 }),
        async (options, maxQueue, ops) => {
          const clock = new FakeClock();
          const layer = createAdaptiveLayer({ ...options, maxQueue, windowSamples: 1 });
          const policy = pipeline('prop', [layer], { clock, timer: new CoarseTimer(clock) });
          let bounds = validateAdaptiveOptions(options);
          const pending: { resolve: () => void; reject: (error: Error) => void }[] = [];
          const calls: Promise<unknown>[] = [];
          let running = 0;
          let violations = 0;
          let started = 0;
          const check = (): void => {
            expect(layer.limit).toBeGreaterThanOrEqual(bounds.minLimit);
            expect(layer.limit).toBeLessThanOrEqual(bounds.maxLimit);
            expect(layer.queued).toBeLessThanOrEqual(3);
          };
          for (const op of ops) {
            if (op.kind === 'start') {
              const call = policy.execute(
                () =>
                  new Promise<void>((resolve, reject) => {
                    // Admitted: fewer than `limit` others were in flight.
                    if (running >= layer.limit || layer.inflight > layer.limit) violations += 1;
                    started += 1;
                    running += 1;
                    const settle = (): void => {
                      running -= 1;
                    };
                    pending.push({
                      resolve: () => {
                        settle();
                        resolve();
                      },
                      reject: (error: Error) => {
                        settle();
                        reject(error);
                      },
                    });
                  }),
              );
              calls.push(call.catch(() => undefined));
            } else if (op.kind === 'settle') {
              if (pending.length === 0) continue;
              const [entry] = pending.splice(op.index % pending.length, 1);
              clock.advance(op.ms);
              if (op.outcome === 'ok') entry?.resolve();
              else if (op.outcome === 'drop') {
                entry?.reject(rejection('FND_PROTECT_TIMEOUT', 't', { layer: 'timeout', policy: 'prop' }));
              } else entry?.reject(new Error('app'));
            } else {
              layer.configure({ ...op.options, maxQueue, windowSamples: 1 });
              bounds = validateAdaptiveOptions(op.options);
            }
            await new Promise((resolve) => setImmediate(resolve));
            check();
          }
          // Drain: settle everything (queued calls get admitted as slots free).
          while (pending.length > 0) {
            pending.shift()?.resolve();
            await new Promise((resolve) => setImmediate(resolve));
          }
          await Promise.all(calls);
          expect(violations).toBe(0);
          expect(layer.inflight).toBe(0);
          expect(layer.queued).toBe(0);
          totalStarted += started;
        },
      ),
      { numRuns: 150 },
    );
    expect(totalStarted).toBeGreaterThan(100);
  });
});
