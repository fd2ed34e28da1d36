import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, ERROR_CODES, type ErrorCode, type RetryStrategy } from './catalog.js';
import { withContext } from './context.js';
import {
  defaultRetryDelay,
  FOUNDATION_ERROR_BRAND,
  FoundationError,
  isFoundationError,
  MAX_RETRY_DELAY_MS,
} from './foundation-error.js';

const codeArb = fc.constantFrom(...ERROR_CODES);
const strategyArb = fc.constantFrom<RetryStrategy>(
  'no_retry',
  'immediate',
  'fixed_delay',
  'exponential_backoff',
);

describe('FoundationError', () => {
  it('takes every field of its catalog entry', () => {
    for (const code of ERROR_CODES) {
      const spec = ERROR_CATALOG[code];
      const e = new FoundationError(code);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe('FoundationError');
      expect(e.code).toBe(code);
      expect(e.numericCode).toBe(spec.numeric);
      expect(e.category).toBe(spec.category);
      expect(e.subcategory).toBe(spec.subcategory);
      expect(e.severity).toBe(spec.severity);
      expect(e.retryStrategy).toBe(spec.retry);
      expect(e.httpStatus).toBe(spec.httpStatus);
      expect(e.message).toBe(spec.message);
      expect(e.context).toEqual({});
      expect(e.retryable).toBe(spec.retry !== 'no_retry');
      expect(e.retryAfterMs).toBe(defaultRetryDelay(spec.retry, 0));
    }
  });

  it('applies overrides and keeps the cause', () => {
    const cause = new Error('socket hang up');
    const e = new FoundationError('FND_EXTERNAL_SERVICE_ERROR', {
      message: 'billing API failed',
      context: { endpoint: '/charge', attempt: 2 },
      cause,
      severity: 'high',
      retryStrategy: 'exponential_backoff',
      retryAfterMs: 2500,
      correlationId: 'req-42',
    });
    expect(e.message).toBe('billing API failed');
    expect(e.context).toEqual({ endpoint: '/charge', attempt: 2 });
    expect(Object.isFrozen(e.context)).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.severity).toBe('high');
    expect(e.retryStrategy).toBe('exponential_backoff');
    expect(e.retryAfterMs).toBe(2500);
    expect(e.correlationId).toBe('req-42');
    expect(e.stack).toContain('billing API failed');
  });

  it('has no own cause property when none is given', () => {
    expect(Object.hasOwn(new FoundationError('FND_UNKNOWN'), 'cause')).toBe(false);
  });

  it('never retries a critical error unless told to', () => {
    const e = new FoundationError('FND_EXTERNAL_TIMEOUT', { severity: 'critical' });
    expect(e.retryStrategy).toBe('no_retry');
    expect(e.retryable).toBe(false);
    expect(e.retryAfterMs).toBeUndefined();
    const forced = new FoundationError('FND_EXTERNAL_TIMEOUT', {
      severity: 'critical',
      retryStrategy: 'immediate',
    });
    expect(forced.retryStrategy).toBe('immediate');
  });

  it('carries the correlation and operation id of the context it is created in', async () => {
    const outside = new FoundationError('FND_DATA_NOT_FOUND');
    expect(outside.correlationId).toBeUndefined();
    expect(outside.operationId).toBeUndefined();

    const inside = await withContext({ correlationId: 'corr-1', operation: 'load' }, async () => {
      await Promise.resolve();
      return new FoundationError('FND_DATA_NOT_FOUND');
    });
    expect(inside.correlationId).toBe('corr-1');
    expect(typeof inside.operationId).toBe('string');

    const explicit = withContext(
      { correlationId: 'corr-1' },
      () => new FoundationError('FND_DATA_NOT_FOUND', { correlationId: 'corr-2' }),
    );
    expect(explicit.correlationId).toBe('corr-2');
  });
});

describe('isFoundationError', () => {
  it('recognizes instances and checks the code', () => {
    const e = new FoundationError('FND_REGISTRY_NOT_FOUND');
    expect(isFoundationError(e)).toBe(true);
    expect(isFoundationError(e, 'FND_REGISTRY_NOT_FOUND')).toBe(true);
    expect(isFoundationError(e, 'FND_DATA_NOT_FOUND')).toBe(false);
  });

  it('rejects look-alikes without the brand', () => {
    for (const value of [null, undefined, 'FND_UNKNOWN', 42, new Error('x'), { code: 'FND_UNKNOWN' }]) {
      expect(isFoundationError(value)).toBe(false);
    }
    expect(isFoundationError({ [FOUNDATION_ERROR_BRAND]: 'yes', code: 'FND_UNKNOWN' })).toBe(false);
  });

  it('recognizes an error made by a duplicate copy of the package', () => {
    // A second copy of the package has its own class and its own symbol variable, but the same Symbol.for key.
    const OTHER_COPY_BRAND: unique symbol = Symbol.for('@elixirscope/foundation:FoundationError');
    class DuplicateFoundationError extends Error {
      readonly code: ErrorCode;
      readonly [OTHER_COPY_BRAND] = true;
      constructor(code: ErrorCode) {
        super('from the other copy');
        this.code = code;
      }
    }
    const foreign = new DuplicateFoundationError('FND_SYSTEM_INTERNAL');
    expect(foreign).not.toBeInstanceOf(FoundationError);
    expect(isFoundationError(foreign)).toBe(true);
    expect(isFoundationError(foreign, 'FND_SYSTEM_INTERNAL')).toBe(true);
    expect(isFoundationError(foreign, 'FND_UNKNOWN')).toBe(false);
  });
});

describe('defaultRetryDelay', () => {
  it('is undefined for no_retry and within [0, MAX_RETRY_DELAY_MS] otherwise', () => {
    fc.assert(
      fc.property(strategyArb, fc.integer({ min: -5, max: 10_000 }), (strategy, attempt) => {
        const delay = defaultRetryDelay(strategy, attempt);
        if (strategy === 'no_retry') return delay === undefined;
        return delay !== undefined && delay >= 0 && delay <= MAX_RETRY_DELAY_MS && Number.isFinite(delay);
      }),
    );
  });

  it('grows monotonically for exponential backoff', () => {
    fc.assert(
      fc.property(fc.nat(200), (attempt) => {
        const a = defaultRetryDelay('exponential_backoff', attempt) ?? -1;
        const b = defaultRetryDelay('exponential_backoff', attempt + 1) ?? -1;
        return b >= a;
      }),
    );
    expect([0, 1, 2, 5, 100].map((n) => defaultRetryDelay('exponential_backoff', n))).toEqual([
      1000, 2000, 4000, 30_000, 30_000,
    ]);
    expect(defaultRetryDelay('fixed_delay', 7)).toBe(1000);
    expect(defaultRetryDelay('immediate', 7)).toBe(0);
  });

  it('gives every constructed error a retry hint consistent with its strategy', () => {
    fc.assert(
      fc.property(codeArb, (code) => {
        const e = new FoundationError(code);
        return e.retryStrategy === 'no_retry'
          ? e.retryAfterMs === undefined
          : e.retryAfterMs !== undefined && e.retryAfterMs >= 0 && e.retryAfterMs <= MAX_RETRY_DELAY_MS;
      }),
    );
  });
});
