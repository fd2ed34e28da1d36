import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from './retry-after.js';

const DAY_MS = 86_400_000;
/** 2026-11-29T20:00:00.000Z */
const NOW = Date.UTC(2026, 10, 29, 20, 0, 0);

describe('parseRetryAfter', () => {
  it('reads delta-seconds and numbers of seconds as ms from now', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter(' 7 ', NOW)).toBe(7000);
    expect(parseRetryAfter('1.5', NOW)).toBe(1500);
    expect(parseRetryAfter(30, NOW)).toBe(30_000);
    expect(parseRetryAfter(0.0014, NOW)).toBe(2); // whole ms, rounded up
    expect(parseRetryAfter(0, NOW)).toBe(0);
  });

  it('caps long waits at 24 h', () => {
    expect(parseRetryAfter('86400', NOW)).toBe(DAY_MS);
    expect(parseRetryAfter('86401', NOW)).toBe(DAY_MS);
    expect(parseRetryAfter('9'.repeat(400), NOW)).toBe(DAY_MS);
    expect(parseRetryAfter(1e300, NOW)).toBe(DAY_MS);
    expect(parseRetryAfter('Mon, 01 Jan 2100 00:00:00 GMT', NOW)).toBe(DAY_MS);
  });

  it('reads the three HTTP-date forms; a date in the past is 0', () => {
    expect(parseRetryAfter('Sun, 29 Nov 2026 20:02:00 GMT', NOW)).toBe(120_000);
    expect(parseRetryAfter('Sunday, 29-Nov-26 20:02:00 GMT', NOW)).toBe(120_000);
    expect(parseRetryAfter('Sun Nov 29 20:02:00 2026', NOW)).toBe(120_000);
    expect(parseRetryAfter('Tue Dec  1 20:00:00 2026', NOW)).toBe(DAY_MS); // 2 days: capped
    expect(parseRetryAfter('Sun Nov 29 20:00:01 2026', NOW)).toBe(1000);
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(0);
    // RFC 850's two-digit year: more than 50 years ahead means the past century.
    expect(parseRetryAfter('Friday, 01-Jan-99 00:00:00 GMT', NOW)).toBe(0);
    expect(parseRetryAfter('Thursday, 30-Nov-26 20:00:00 GMT', NOW)).toBe(DAY_MS);
    expect(parseRetryAfter('Sun, 29 Nov 2026 20:00:60 GMT', NOW)).toBe(60_000); // a leap second
  });

  it('refuses garbage with undefined', () => {
    const garbage: unknown[] = [
      '',
      '   ',
      '-1',
      '+5',
      '1e3',
      '0x10',
      '12 seconds',
      '1,5',
      'soon',
      '1', // would be a date in 2001 for Date.parse — here it is 1 s; the next ones are not dates
      'Sun, 31 Feb 2026 20:00:00 GMT',
      'Sun, 29 Nov 2026 24:00:00 GMT',
      'Sun, 29 Nov 2026 20:60:00 GMT',
      'Sun, 29 Nov 2026 20:00:00 UTC',
      'sun, 29 nov 2026 20:00:00 gmt',
      '2026-11-29T20:02:00Z',
      'Sun, 29 Nov 26 20:02:00 GMT',
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -1,
      null,
      undefined,
      true,
      {},
      ['120'],
      120n,
    ];
    const results = garbage.map((g) => parseRetryAfter(g, NOW));
    expect(results).toEqual(garbage.map((g) => (g === '1' ? 1000 : undefined)));
  });

  it('delta-seconds give the seconds in ms, capped (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000_000 }), fc.integer({ min: 0, max: 4e12 }), (seconds, now) => {
        const expected = Math.min(seconds * 1000, DAY_MS);
        expect(parseRetryAfter(String(seconds), now)).toBe(expected);
        expect(parseRetryAfter(seconds, now)).toBe(expected);
      }),
    );
  });

  it('an IMF-fixdate gives the time until it, between 0 and 24 h (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4e12 }),
        fc.integer({ min: -3 * 86_400, max: 3 * 86_400 }),
        (now, offsetSeconds) => {
          const at = Math.floor(now / 1000) * 1000 + offsetSeconds * 1000;
          const header = new Date(at).toUTCString();
          expect(parseRetryAfter(header, now)).toBe(Math.min(Math.max(0, at - now), DAY_MS));
        },
      ),
    );
  });

  it('never throws and never answers outside 0..24 h for any string or number (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.anything()), fc.integer(), (value, now) => {
        const ms = parseRetryAfter(value, now);
        if (ms !== undefined) {
          expect(Number.isInteger(ms)).toBe(true);
          expect(ms).toBeGreaterThanOrEqual(0);
          expect(ms).toBeLessThanOrEqual(DAY_MS);
        }
      }),
    );
  });
});
