import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../kernel/clock.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { createEventIdGenerator, isEventId, isUuidV7, uuidV7Time } from './ids.js';

function steppedClock(times: readonly number[]): Clock {
  let i = 0;
  return {
    now: () => times[Math.min(i++, times.length - 1)] as number,
    monotonic: () => 0,
    setTimeout: () => ({ cancel: () => undefined }),
  };
}

describe('createEventIdGenerator', () => {
  it('makes RFC 9562 UUIDv7s: version 7, variant 10, the clock time in the first 48 bits', () => {
    const clock = new FakeClock({ now: 1_700_000_000_123 });
    const id = createEventIdGenerator(clock)();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isUuidV7(id)).toBe(true);
    expect(uuidV7Time(id)).toBe(1_700_000_000_123);
    expect(id.slice(0, 13)).toBe(
      `${(1_700_000_000_123).toString(16).padStart(12, '0').slice(0, 8)}-${(1_700_000_000_123).toString(16).padStart(12, '0').slice(8)}`,
    );
  });

  it('10 000 ids in one millisecond are unique, strictly increasing and carry that millisecond', () => {
    const clock = new FakeClock({ now: 1_700_000_000_000 });
    const next = createEventIdGenerator(clock);
    const ids = Array.from({ length: 10_000 }, () => next());
    expect(new Set(ids).size).toBe(10_000);
    for (let i = 1; i < ids.length; i++) expect((ids[i - 1] as string) < (ids[i] as string)).toBe(true);
    for (const id of ids) expect(uuidV7Time(id)).toBe(1_700_000_000_000);
  });

  it('property: ids are strictly increasing and embed the clock time while time moves forward', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 300 }), (steps) => {
        const clock = new FakeClock({ now: 1_600_000_000_000 });
        const next = createEventIdGenerator(clock);
        let previous = '';
        for (const step of steps) {
          clock.advance(step);
          const id = next();
          expect(id > previous).toBe(true);
          expect(uuidV7Time(id)).toBe(clock.now());
          previous = id;
        }
      }),
    );
  });

  it('stays strictly increasing when the clock goes back (keeps the last timestamp)', () => {
    const next = createEventIdGenerator(steppedClock([2_000_000, 1_000_000, 1_000_000, 2_000_001]));
    const ids = [next(), next(), next(), next()];
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(4);
    expect(ids.slice(0, 3).map(uuidV7Time)).toEqual([2_000_000, 2_000_000, 2_000_000]);
    expect(uuidV7Time(ids[3] as string)).toBe(2_000_001);
  });

  it('two generators in the same millisecond give different ids', () => {
    const clock = new FakeClock({ now: 1_700_000_000_000 });
    const a = createEventIdGenerator(clock);
    const b = createEventIdGenerator(clock);
    expect(a()).not.toBe(b());
  });

  it('uses the system clock by default', () => {
    const id = createEventIdGenerator()();
    expect(Math.abs(uuidV7Time(id) - Date.now())).toBeLessThan(60_000);
  });
});

describe('isEventId', () => {
  it('accepts UUIDs and 1–128 characters of [A-Za-z0-9._:-]', () => {
    expect(isEventId(createEventIdGenerator()())).toBe(true);
    expect(isEventId('0190F5C4-7A1E-7C3A-9B2D-4F1E2A3B4C5D')).toBe(true);
    expect(isEventId('order-42:created.v1_a')).toBe(true);
    expect(isEventId('x')).toBe(true);
    expect(isEventId('a'.repeat(128))).toBe(true);
  });

  it('rejects empty, too long, other characters and non-strings', () => {
    for (const bad of ['', 'a'.repeat(129), 'a b', 'a/b', 'é', 'a\n', '{x}', 42, null, undefined, {}]) {
      expect(isEventId(bad), typeof bad === 'string' ? bad : typeof bad).toBe(false);
    }
  });

  it('uuidV7Time rejects what is not a UUIDv7', () => {
    expect(() => uuidV7Time('order-1')).toThrow(TypeError);
    expect(isUuidV7('0190f5c4-7a1e-4c3a-9b2d-4f1e2a3b4c5d')).toBe(false);
  });
});
