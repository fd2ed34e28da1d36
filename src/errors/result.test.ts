import { describe, expect, it } from 'vitest';
import { FoundationError } from './foundation-error.js';
import { err, ok, tryCatch, tryCatchAsync, unwrap, unwrapOr, type Result } from './result.js';

function parsePort(text: string): Result<number> {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 && n < 65536
    ? ok(n)
    : err('FND_CONFIG_OUT_OF_RANGE', { context: { port: text } });
}

describe('Result', () => {
  it('narrows on ok', () => {
    const good = parsePort('8080');
    const bad = parsePort('99999');
    expect(good).toEqual({ ok: true, value: 8080 });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('FND_CONFIG_OUT_OF_RANGE');
      expect(bad.error.context).toEqual({ port: '99999' });
    }
    expect(ok()).toEqual({ ok: true, value: undefined });
  });

  it('err accepts an existing error', () => {
    const e = new FoundationError('FND_DATA_NOT_FOUND');
    expect(err(e)).toEqual({ ok: false, error: e });
    expect(err(e).error).toBe(e);
  });

  it('unwrap returns the value or throws the error', () => {
    expect(unwrap(ok('v'))).toBe('v');
    const e = new FoundationError('FND_DATA_NOT_FOUND');
    expect(() => unwrap(err(e))).toThrow(e);
    expect(unwrapOr(err(e), 'fallback')).toBe('fallback');
    expect(unwrapOr(ok(1), 'fallback')).toBe(1);
  });

  it('tryCatch captures throws as FoundationError results', () => {
    expect(tryCatch(() => JSON.parse('{"a":1}') as unknown)).toEqual({ ok: true, value: { a: 1 } });
    const failed = tryCatch(() => JSON.parse('{nope') as unknown, 'FND_DATA_DESERIALIZATION_FAILED');
    expect(failed.ok).toBe(false);
    if (!failed.ok) {
      expect(failed.error.code).toBe('FND_DATA_DESERIALIZATION_FAILED');
      expect(failed.error.cause).toBeInstanceOf(SyntaxError);
    }
    const unknown = tryCatch(() => {
      throw new Error('boom');
    });
    expect(unknown.ok ? undefined : unknown.error.code).toBe('FND_UNKNOWN');
    const inner = new FoundationError('FND_CONFIG_NOT_FOUND');
    const passthrough = tryCatch(() => {
      throw inner;
    });
    expect(passthrough.ok ? undefined : passthrough.error).toBe(inner);
  });

  it('tryCatchAsync captures rejections and synchronous throws', async () => {
    expect(await tryCatchAsync(async () => 5)).toEqual({ ok: true, value: 5 });
    expect(await tryCatchAsync(() => 6)).toEqual({ ok: true, value: 6 });
    const rejected = await tryCatchAsync(async () => {
      await Promise.resolve();
      throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    });
    expect(rejected.ok ? undefined : rejected.error.code).toBe('FND_EXTERNAL_NETWORK_ERROR');
    const thrownSync = await tryCatchAsync((): Promise<number> => {
      throw new Error('sync');
    }, 'FND_SYSTEM_INTERNAL');
    expect(thrownSync.ok ? undefined : thrownSync.error.code).toBe('FND_SYSTEM_INTERNAL');
    const nonError = await tryCatchAsync(() => Promise.reject(new Error('plain')));
    expect(nonError.ok ? undefined : nonError.error.code).toBe('FND_UNKNOWN');
  });
});
