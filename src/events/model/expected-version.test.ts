import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { checkExpectedVersion, validateExpectedVersion } from './expected-version.js';
import type { ExpectedVersion } from './types.js';

describe('checkExpectedVersion', () => {
  it.each<[ExpectedVersion, number, boolean]>([
    ['any', 0, true],
    ['any', 7, true],
    ['no_stream', 0, true],
    ['no_stream', 1, false],
    ['stream_exists', 0, false],
    ['stream_exists', 3, true],
    [0, 0, true],
    [0, 1, false],
    [3, 3, true],
    [3, 2, false],
    [3, 4, false],
  ])('expected %s, actual %s → ok %s', (expected, actual, ok) => {
    const error = checkExpectedVersion(expected, actual, 'order-1');
    if (ok) expect(error).toBeUndefined();
    else {
      expect(error).toBeInstanceOf(FoundationError);
      expect(error?.code).toBe('FND_EVENTS_VERSION_CONFLICT');
      expect(error?.context).toEqual({ stream: 'order-1', expected, actual });
      expect(error?.httpStatus).toBe(409);
    }
  });

  it('property: a number n passes exactly when the stream is at n; 0 behaves like no_stream', () => {
    fc.assert(
      fc.property(fc.nat({ max: 1000 }), fc.nat({ max: 1000 }), (n, actual) => {
        expect(checkExpectedVersion(n, actual, 's') === undefined).toBe(n === actual);
        expect(checkExpectedVersion(0, actual, 's') === undefined).toBe(
          checkExpectedVersion('no_stream', actual, 's') === undefined,
        );
        expect(checkExpectedVersion('stream_exists', actual, 's') === undefined).toBe(actual > 0);
      }),
    );
  });
});

describe('validateExpectedVersion', () => {
  it('accepts the keywords, non-negative integers and decimal strings; undefined is any', () => {
    expect(validateExpectedVersion(undefined)).toBe('any');
    expect(validateExpectedVersion('any')).toBe('any');
    expect(validateExpectedVersion('no_stream')).toBe('no_stream');
    expect(validateExpectedVersion('stream_exists')).toBe('stream_exists');
    expect(validateExpectedVersion(0)).toBe(0);
    expect(validateExpectedVersion(12)).toBe(12);
    expect(validateExpectedVersion('12')).toBe(12);
  });

  it.each([
    [-1],
    [1.5],
    [Number.NaN],
    [2 ** 53],
    ['-1'],
    ['01'],
    ['1e3'],
    [''],
    ['ANY'],
    [null],
    [true],
    [{}],
  ])('rejects %s with FND_EVENTS_INVALID_EVENT', (bad) => {
    let error: unknown;
    try {
      validateExpectedVersion(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FoundationError);
    expect((error as FoundationError).code).toBe('FND_EVENTS_INVALID_EVENT');
    expect((error as FoundationError).context).toMatchObject({ field: 'expectedVersion' });
  });
});
