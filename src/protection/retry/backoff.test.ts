import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { backoffDelay, backoffSequence, maxBackoffMs, validateBackoff } from './backoff.js';

describe('backoff', () => {
  it('constant waits the same every time', () => {
    expect(backoffSequence({ kind: 'constant', delayMs: 50 }, 4)).toEqual([50, 50, 50, 50]);
    expect(maxBackoffMs({ kind: 'constant', delayMs: 50 })).toBe(30_000);
  });

  it('exponential grows by the factor up to maxMs', () => {
    expect(backoffSequence({ kind: 'exponential', initialMs: 100, maxMs: 1000, factor: 2 }, 6)).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffSequence({ kind: 'exponential', initialMs: 10, maxMs: 1000 }, 3)).toEqual([10, 20, 40]);
  });

  it('exponential with jitter stays in [d/2, d] and uses the random source', () => {
    const jittered = { kind: 'exponential', initialMs: 100, maxMs: 1000, jitter: true } as const;
    expect(backoffSequence(jittered, 3, () => 0)).toEqual([50, 100, 200]);
    expect(backoffSequence(jittered, 3, () => 0.5)).toEqual([75, 150, 300]);
  });

  it('decorrelated jitter draws between initialMs and 3× the previous wait, capped', () => {
    const decorrelated = { kind: 'decorrelated', initialMs: 10, maxMs: 1000 } as const;
    // random → 1⁻: grows ×3 each time until the cap.
    expect(backoffSequence(decorrelated, 6, () => 0.999999).map(Math.round)).toEqual([
      30, 90, 270, 810, 1000, 1000,
    ]);
    expect(backoffSequence(decorrelated, 3, () => 0)).toEqual([10, 10, 10]);
  });

  it('property: every wait is within [0, maxMs] and decorrelated within [initialMs, 3·previous]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
          minLength: 1,
          maxLength: 30,
        }),
        (initialMs, extra, draws) => {
          const maxMs = initialMs + extra;
          let i = 0;
          const random = (): number => draws[i++ % draws.length] as number;
          let previous: number | undefined;
          for (let retry = 1; retry <= draws.length; retry += 1) {
            const delay = backoffDelay({ kind: 'decorrelated', initialMs, maxMs }, retry, previous, random);
            expect(delay).toBeGreaterThanOrEqual(initialMs);
            expect(delay).toBeLessThanOrEqual(
              Math.max(initialMs, Math.min(maxMs, 3 * (previous ?? initialMs))),
            );
            previous = delay;
            const exp = backoffDelay(
              { kind: 'exponential', initialMs, maxMs, jitter: true },
              retry,
              undefined,
              random,
            );
            expect(exp).toBeGreaterThanOrEqual(0);
            expect(exp).toBeLessThanOrEqual(maxMs);
          }
        },
      ),
    );
  });

  it('refuses bad options naming the option', () => {
    const bad = (backoff: unknown): unknown => {
      try {
        validateBackoff(backoff as never);
        return undefined;
      } catch (error) {
        return error;
      }
    };
    for (const [backoff, option] of [
      [{ kind: 'constant', delayMs: -1 }, 'retry.backoff.delayMs'],
      [{ kind: 'nope' }, 'retry.backoff.kind'],
      [{ kind: 'exponential', initialMs: 100, maxMs: 10 }, 'retry.backoff.maxMs'],
      [{ kind: 'exponential', initialMs: 1, maxMs: 10, factor: 0.5 }, 'retry.backoff.factor'],
      [{ kind: 'decorrelated', initialMs: Number.NaN, maxMs: 10 }, 'retry.backoff.initialMs'],
    ] as const) {
      const error = bad(backoff);
      expect(error).toBeInstanceOf(FoundationError);
      expect((error as FoundationError).code).toBe('FND_PROTECT_INVALID_POLICY');
      expect((error as FoundationError).context.option).toBe(option);
    }
  });
});
