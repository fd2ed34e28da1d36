import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, ERROR_CODES, type RetryStrategy } from './catalog.js';
import { withContext } from './context.js';
import { FoundationError } from './foundation-error.js';
import { REDACTED } from './json-safe.js';
import {
  fromSerialized,
  MAX_CAUSE_DEPTH,
  PROBLEM_TYPE_PREFIX,
  toLogObject,
  toProblemDetails,
  type SerializedCause,
} from './serialize.js';

const SECRETS = {
  password: 'hunter2',
  dbPassword: 'hunter3',
  clientSecret: 's3cr3t',
  accessToken: 'tok-123',
  'api-key': 'k-1',
  apiKey: 'k-2',
  Authorization: 'Bearer abc',
  cookie: 'sid=1',
  credentials: { user: 'u', pass: 'p' },
  private_key: '-----BEGIN KEY-----',
};

function jsonRoundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe('toLogObject', () => {
  it('serializes every field as JSON-safe values', () => {
    const e = withContext(
      { correlationId: 'corr-9' },
      () =>
        new FoundationError('FND_EXTERNAL_TIMEOUT', {
          message: 'slow upstream',
          context: { upstream: 'billing' },
        }),
    );
    const log = toLogObject(e);
    expect(log).toMatchObject({
      kind: 'foundation',
      name: 'FoundationError',
      code: 'FND_EXTERNAL_TIMEOUT',
      numericCode: 4301,
      category: 'external',
      subcategory: 'timeout',
      severity: 'medium',
      retryStrategy: 'exponential_backoff',
      retryAfterMs: 1000,
      httpStatus: 504,
      message: 'slow upstream',
      context: { upstream: 'billing' },
      correlationId: 'corr-9',
      timestamp: new Date(e.timestamp).toISOString(),
    });
    expect(log.operationId).toBe(e.operationId);
    expect(log.stack).toContain('slow upstream');
    expect(jsonRoundTrip(log)).toEqual(log);
  });

  it('omits absent optional fields', () => {
    const log = toLogObject(new FoundationError('FND_CONFIG_NOT_FOUND'));
    expect('retryAfterMs' in log).toBe(false);
    expect('correlationId' in log).toBe(false);
    expect('cause' in log).toBe(false);
  });

  it('makes unsafe context values safe', () => {
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const e = new FoundationError('FND_DATA_VALIDATION_FAILED', {
      context: {
        big: 12345678901234567890n,
        fn: function handler() {
          return 1;
        },
        sym: Symbol('tag'),
        circular,
        nan: Number.NaN,
        when: new Date(0),
        missing: undefined,
        nested: { list: [1, undefined, 2n] },
        set: new Set([1, 2]),
        map: new Map([['k', 'v']]),
        bytes: new Uint8Array(4),
        url: new URL('postgres://admin:hunter2@db.internal:5432/app'),
      },
    });
    const log = toLogObject(e);
    expect(log.context).toEqual({
      big: '12345678901234567890',
      fn: '[Function handler]',
      sym: 'Symbol(tag)',
      circular: { name: 'loop', self: '[Circular]' },
      nan: 'NaN',
      when: '1970-01-01T00:00:00.000Z',
      nested: { list: [1, null, '2'] },
      set: [1, 2],
      map: { k: 'v' },
      bytes: '[Uint8Array(4)]',
      url: 'postgres://admin:REDACTED@db.internal:5432/app',
    });
    expect(() => JSON.stringify(log)).not.toThrow();
    expect(JSON.stringify(log)).not.toContain('hunter2');
  });

  it('serializes the cause chain: foundation, foreign and plain values', () => {
    const root = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', secretField: 'x' });
    const mid = new FoundationError('FND_EXTERNAL_NETWORK_ERROR', { cause: root });
    const top = new FoundationError('FND_SYSTEM_DEPENDENCY_FAILED', { cause: mid });
    const log = toLogObject(top);
    expect(log.cause?.kind).toBe('foundation');
    const midLog = log.cause as Extract<SerializedCause, { kind: 'foundation' }>;
    expect(midLog.code).toBe('FND_EXTERNAL_NETWORK_ERROR');
    expect(midLog.cause).toMatchObject({ kind: 'error', name: 'Error', message: 'connect ECONNREFUSED' });
    expect(midLog.cause).toHaveProperty('code', 'ECONNREFUSED');
    expect(midLog.cause).not.toHaveProperty('secretField');
    expect(toLogObject(new FoundationError('FND_UNKNOWN', { cause: 'thrown string' })).cause).toEqual({
      kind: 'value',
      value: 'thrown string',
    });
  });

  it('bounds the cause chain depth', () => {
    let error: unknown = new Error('root');
    for (let i = 0; i < 20; i++) error = new FoundationError('FND_SYSTEM_INTERNAL', { cause: error });
    let link: SerializedCause | undefined = toLogObject(error);
    let depth = 0;
    while (link !== undefined && (link.kind === 'foundation' || link.kind === 'error')) {
      link = link.cause;
      depth++;
    }
    expect(depth).toBe(MAX_CAUSE_DEPTH + 1);
    expect(link).toEqual({ kind: 'truncated' });
  });

  it('is cycle-safe', () => {
    const a = new Error('a');
    const b = new FoundationError('FND_UNKNOWN', { cause: a });
    Object.defineProperty(a, 'cause', { value: b });
    const top = new FoundationError('FND_SYSTEM_INTERNAL', { cause: b });
    const log = toLogObject(top);
    const bLog = log.cause as Extract<SerializedCause, { kind: 'foundation' }>;
    const aLog = bLog.cause as Extract<SerializedCause, { kind: 'error' }>;
    expect(aLog.message).toBe('a');
    expect(aLog.cause).toEqual({ kind: 'circular' });
    const self = new FoundationError('FND_UNKNOWN');
    Object.defineProperty(self, 'cause', { value: self });
    expect(toLogObject(self).cause).toEqual({ kind: 'circular' });
  });

  it('wraps non-FoundationErrors first', () => {
    const log = toLogObject(Object.assign(new Error('reset'), { code: 'ECONNRESET' }));
    expect(log.code).toBe('FND_EXTERNAL_NETWORK_ERROR');
    expect(log.cause).toMatchObject({ kind: 'error', message: 'reset', code: 'ECONNRESET' });
  });
});

describe('redaction', () => {
  it('replaces secret values in log objects and problem details, at any depth', () => {
    const cause = new FoundationError('FND_EXTERNAL_AUTHENTICATION_FAILED', {
      context: { token: 'inner-tok' },
    });
    const e = new FoundationError('FND_SYSTEM_DEPENDENCY_FAILED', {
      context: { ...SECRETS, user: 'alice', nested: { deeper: { refreshToken: 'r-1' }, ok: 1 } },
      cause,
    });
    const log = toLogObject(e);
    const problem = toProblemDetails(e);
    for (const body of [log.context, problem.context]) {
      for (const key of Object.keys(SECRETS)) expect(body[key], key).toBe(REDACTED);
      expect(body.user).toBe('alice');
      expect(body.nested).toEqual({ deeper: { refreshToken: REDACTED }, ok: 1 });
    }
    const text = JSON.stringify(log) + JSON.stringify(problem);
    for (const secret of [
      'hunter2',
      'hunter3',
      's3cr3t',
      'tok-123',
      'k-1',
      'k-2',
      'Bearer',
      'sid=1',
      'r-1',
      'inner-tok',
    ]) {
      expect(text, secret).not.toContain(secret);
    }
  });

  it('keeps the original error context untouched', () => {
    const e = new FoundationError('FND_UNKNOWN', { context: { password: 'p' } });
    toLogObject(e);
    expect(e.context.password).toBe('p');
  });
});

describe('toProblemDetails', () => {
  it('builds an RFC 9457 body without stack or cause', () => {
    const e = withContext(
      { correlationId: 'req-1' },
      () =>
        new FoundationError('FND_REGISTRY_NOT_FOUND', {
          message: 'no service app/db',
          context: { name: 'db' },
          cause: new Error('internal detail'),
        }),
    );
    const problem = toProblemDetails(e, { instance: '/api/services/db' });
    expect(problem).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}FND_REGISTRY_NOT_FOUND`,
      title: ERROR_CATALOG.FND_REGISTRY_NOT_FOUND.message,
      status: 404,
      detail: 'no service app/db',
      instance: '/api/services/db',
      code: 'FND_REGISTRY_NOT_FOUND',
      numericCode: 2503,
      correlationId: 'req-1',
      retryAfterMs: 1000,
      context: { name: 'db' },
    });
    expect(JSON.stringify(problem)).not.toContain('internal detail');
    expect(JSON.stringify(problem)).not.toContain('    at ');
  });

  it('includes the stack only when asked, and supports a docs URL type', () => {
    const e = new FoundationError('FND_DATA_NOT_FOUND');
    expect(toProblemDetails(e)).not.toHaveProperty('stack');
    expect(toProblemDetails(e, { includeStack: true }).stack).toBe(e.stack);
    expect(toProblemDetails(e, { typeBaseUrl: 'https://example.com/errors#' }).type).toBe(
      'https://example.com/errors#FND_DATA_NOT_FOUND',
    );
  });

  it('omits retryAfterMs when retrying cannot help', () => {
    expect(toProblemDetails(new FoundationError('FND_DATA_NOT_FOUND'))).not.toHaveProperty('retryAfterMs');
    expect(toProblemDetails(new FoundationError('FND_SYSTEM_DEPENDENCY_FAILED')).retryAfterMs).toBe(0);
  });

  it('always serves a 4xx/5xx status and hides foreign messages', () => {
    for (const code of ERROR_CODES) {
      const status = toProblemDetails(new FoundationError(code)).status;
      expect(status >= 400 && status <= 599, `${code}: ${status}`).toBe(true);
    }
    const foreign = toProblemDetails(new Error('password=hunter2 at db.internal'));
    expect(foreign.status).toBe(500);
    expect(foreign.code).toBe('FND_UNKNOWN');
    expect(JSON.stringify(foreign)).not.toContain('hunter2');
  });
});

describe('fromSerialized', () => {
  it('rebuilds an equal error, causes included', () => {
    const root = Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
    const e = withContext(
      { correlationId: 'c-1' },
      () =>
        new FoundationError('FND_SYSTEM_DEPENDENCY_FAILED', {
          message: 'db down',
          context: { db: 'main' },
          severity: 'critical',
          retryStrategy: 'fixed_delay',
          retryAfterMs: 1234,
          cause: new FoundationError('FND_EXTERNAL_NETWORK_ERROR', { cause: root }),
        }),
    );
    const log = toLogObject(e);
    const rebuilt = withContext({ correlationId: 'other' }, () => fromSerialized(jsonRoundTrip(log)));
    expect(rebuilt).toBeInstanceOf(FoundationError);
    expect(rebuilt.code).toBe('FND_SYSTEM_DEPENDENCY_FAILED');
    expect(rebuilt.correlationId).toBe('c-1');
    expect(rebuilt.operationId).toBe(e.operationId);
    expect(rebuilt.timestamp).toBe(e.timestamp);
    expect(rebuilt.stack).toBe(e.stack);
    expect(rebuilt.severity).toBe('critical');
    expect(rebuilt.retryAfterMs).toBe(1234);
    expect((rebuilt.cause as FoundationError).code).toBe('FND_EXTERNAL_NETWORK_ERROR');
    const rebuiltRoot = (rebuilt.cause as FoundationError).cause as Error & { code?: string };
    expect(rebuiltRoot).toBeInstanceOf(Error);
    expect(rebuiltRoot.code).toBe('ECONNREFUSED');
    expect(toLogObject(rebuilt)).toEqual(log);
  });

  it('maps unknown codes to FND_UNKNOWN and keeps the original code', () => {
    const rebuilt = fromSerialized({
      kind: 'foundation',
      code: 'FND_FROM_THE_FUTURE',
      message: 'new',
      context: {},
    });
    expect(rebuilt.code).toBe('FND_UNKNOWN');
    expect(rebuilt.message).toBe('new');
    expect(rebuilt.context).toEqual({ originalCode: 'FND_FROM_THE_FUTURE' });
  });

  it('tolerates junk fields and rejects non-objects', () => {
    const rebuilt = fromSerialized({
      code: 42,
      severity: 'apocalyptic',
      retryStrategy: 1,
      timestamp: 'never',
      context: [1],
    });
    expect(rebuilt.code).toBe('FND_UNKNOWN');
    expect(rebuilt.severity).toBe(ERROR_CATALOG.FND_UNKNOWN.severity);
    expect(rebuilt.context).toEqual({});
    for (const junk of [null, 'str', 42, [1, 2]]) {
      expect(() => fromSerialized(junk)).toThrow(
        expect.objectContaining({ code: 'FND_DATA_DESERIALIZATION_FAILED' }) as Error,
      );
    }
  });

  it('round-trips random errors (property)', () => {
    const strategyArb = fc.constantFrom<RetryStrategy>(
      'no_retry',
      'immediate',
      'fixed_delay',
      'exponential_backoff',
    );
    const contextArb = fc.dictionary(
      fc.string({ maxLength: 12 }),
      fc.anything({
        maxDepth: 3,
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withTypedArray: true,
        withSparseArray: true,
        withBoxedValues: true,
        withObjectString: true,
      }),
      { maxKeys: 8 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...ERROR_CODES),
        fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
        contextArb,
        fc.option(strategyArb, { nil: undefined }),
        fc.option(fc.oneof(fc.string(), fc.integer(), fc.constant(null)), { nil: undefined }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/), { nil: undefined }),
        (code, message, context, retryStrategy, cause, correlationId) => {
          const options = {
            ...(message === undefined ? {} : { message }),
            ...(retryStrategy === undefined ? {} : { retryStrategy }),
            ...(cause === undefined ? {} : { cause: new FoundationError('FND_UNKNOWN', { cause }) }),
            ...(correlationId === undefined ? {} : { correlationId }),
            context,
          };
          const log = toLogObject(new FoundationError(code, options));
          const json = jsonRoundTrip(log);
          expect(json).toEqual(log); // JSON-safe: nothing lost or changed by JSON
          const again = toLogObject(fromSerialized(json));
          expect(again).toEqual(log);
        },
      ),
      { numRuns: 300 },
    );
  });
});
