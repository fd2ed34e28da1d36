/** Option checks of the pure retry models (backoff, budget): every bad option is named, state is kept. */
import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { validateBackoff, type BackoffOptions } from './backoff.js';
import { RetryBudget, validateBudget, type RetryBudgetOptions } from './budget.js';

function refusal(fn: () => unknown): { code: string; option: unknown; message: string } {
  try {
    fn();
  } catch (error) {
    if (error instanceof FoundationError) {
      return { code: error.code, option: error.context.option, message: error.message };
    }
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('validateBackoff', () => {
  it('refuses a missing backoff and a bad constant maxMs, naming the option', () => {
    expect(refusal(() => validateBackoff(undefined as unknown as BackoffOptions))).toEqual({
      code: 'FND_PROTECT_INVALID_POLICY',
      option: 'retry.backoff',
      message: 'retry.backoff is required',
    });
    expect(refusal(() => validateBackoff({ kind: 'constant', delayMs: 10, maxMs: -1 }, 'p.backoff'))).toEqual(
      {
        code: 'FND_PROTECT_INVALID_POLICY',
        option: 'p.backoff.maxMs',
        message: 'p.backoff.maxMs must be a finite number ≥ 0',
      },
    );
  });

  it('accepts a constant maxMs and a valid exponential factor as given', () => {
    const constant: BackoffOptions = { kind: 'constant', delayMs: 10, maxMs: 50 };
    expect(validateBackoff(constant)).toBe(constant);
    const exponential: BackoffOptions = { kind: 'exponential', initialMs: 10, maxMs: 100, factor: 1.5 };
    expect(validateBackoff(exponential)).toBe(exponential);
  });
});

describe('validateBudget and RetryBudget', () => {
  it('refuses each bad option with FND_PROTECT_INVALID_POLICY naming it', () => {
    const cases: [RetryBudgetOptions, string][] = [
      [{ ratio: -0.1 }, 'retry.budget.ratio'],
      [{ ratio: Number.NaN }, 'retry.budget.ratio'],
      [{ ratio: 0.1, windowMs: 0 }, 'retry.budget.windowMs'],
      [{ ratio: 0.1, windowMs: Number.POSITIVE_INFINITY }, 'retry.budget.windowMs'],
      [{ ratio: 0.1, minRetriesPerSecond: -1 }, 'retry.budget.minRetriesPerSecond'],
      [{ ratio: 0.1, minRetriesPerSecond: '1' as unknown as number }, 'retry.budget.minRetriesPerSecond'],
    ];
    for (const [options, option] of cases) {
      expect(refusal(() => validateBudget(options))).toMatchObject({
        code: 'FND_PROTECT_INVALID_POLICY',
        option,
      });
    }
  });

  it('keeps its options and its counts when a reconfiguration is refused', () => {
    const budget = new RetryBudget({ ratio: 0.5, windowMs: 1000, minRetriesPerSecond: 0 });
    for (let i = 0; i < 4; i += 1) budget.recordCall(10);
    expect(budget.available(10)).toBe(2);
    expect(
      refusal(() => {
        budget.configure({ ratio: 0.5, windowMs: -5 });
      }),
    ).toMatchObject({
      code: 'FND_PROTECT_INVALID_POLICY',
      option: 'retry.budget.windowMs',
    });
    expect(budget.options).toEqual({ ratio: 0.5, windowMs: 1000, minRetriesPerSecond: 0 });
    expect(budget.available(10)).toBe(2);
    expect(budget.tryRetry(10)).toBe(true);
    expect(budget.available(10)).toBe(1);
  });
});
