/**
 * The less travelled paths of the errors capability: foreign and hand-made values that lie about their
 * types, contexts from another copy of the package, and serialized errors with fields left out.
 */
import { describe, expect, it } from 'vitest';
import { contextFromHeaders } from './context-headers.js';
import { createContext, newCorrelationId, type FoundationContext } from './context.js';
import { FOUNDATION_ERROR_BRAND, FoundationError } from './foundation-error.js';
import { toJsonSafe, toJsonSafeRecord } from './json-safe.js';
import {
  fromSerialized,
  httpStatusOf,
  PROBLEM_TYPE_PREFIX,
  toLogObject,
  toProblemDetails,
  type SerializedForeignError,
} from './serialize.js';
import { classifyError } from './wrap.js';

describe('toLogObject on unusual errors', () => {
  it('writes an invalid timestamp as the epoch and leaves out a stack that is not a string', () => {
    const error = new FoundationError('FND_CONFIG_INVALID_VALUE', { message: 'bad' });
    Object.defineProperty(error, 'timestamp', { value: Number.NaN });
    Object.defineProperty(error, 'stack', { value: undefined });
    const log = toLogObject(error);
    expect(log.timestamp).toBe('1970-01-01T00:00:00.000Z');
    expect('stack' in log).toBe(false);
    expect(log.message).toBe('bad');
  });

  it('falls back for a foreign cause whose name and message are not strings, keeping a finite numeric code only', () => {
    const liar = new Error('x');
    Object.defineProperty(liar, 'name', { value: 42 });
    Object.defineProperty(liar, 'message', { value: { not: 'text' } });
    Object.defineProperty(liar, 'stack', { value: undefined });
    Object.assign(liar, { code: 7 });
    const nan = Object.assign(new Error('nan code'), { code: Number.NaN });
    const wrapper = new FoundationError('FND_UNKNOWN', { cause: liar });
    expect(toLogObject(wrapper).cause).toEqual({ kind: 'error', name: 'Error', message: '', code: 7 });
    const cause = toLogObject(new FoundationError('FND_UNKNOWN', { cause: nan }))
      .cause as SerializedForeignError;
    expect(cause.message).toBe('nan code');
    expect('code' in cause).toBe(false);
  });

  it('serializes up to ten inner errors of an AggregateError cause, and none when errors is not a list', () => {
    const inner = Array.from({ length: 12 }, (_, i) => new Error(`inner ${i}`));
    const aggregate = new AggregateError(inner, 'many');
    const cause = toLogObject(new FoundationError('FND_UNKNOWN', { cause: aggregate }))
      .cause as SerializedForeignError;
    expect(cause.errors).toHaveLength(10);
    expect(cause.errors?.[9]).toMatchObject({ kind: 'error', message: 'inner 9' });
    const broken = new AggregateError([], 'broken');
    Object.defineProperty(broken, 'errors', { value: 'nope' });
    const brokenCause = toLogObject(new FoundationError('FND_UNKNOWN', { cause: broken }))
      .cause as SerializedForeignError;
    expect(brokenCause.message).toBe('broken');
    expect('errors' in brokenCause).toBe(false);
  });

  it('marks a cause whose fields throw when read as unserializable', () => {
    const hostile = new Error('hostile');
    Object.defineProperty(hostile, 'cause', {
      get() {
        throw new Error('no reading');
      },
    });
    const log = toLogObject(new FoundationError('FND_UNKNOWN', { cause: hostile }));
    expect(log.cause).toEqual({ kind: 'value', value: '[Unserializable]' });
  });
});

describe('httpStatusOf', () => {
  it('serves 500 for a status that is not a 4xx/5xx integer', () => {
    expect(httpStatusOf({ httpStatus: '404' })).toBe(500);
    expect(httpStatusOf({ httpStatus: 404.5 })).toBe(500);
    expect(httpStatusOf({ httpStatus: 302 })).toBe(500);
    expect(httpStatusOf({})).toBe(500);
    expect(httpStatusOf({ httpStatus: 429 })).toBe(429);
  });
});

describe('fromSerialized with fields left out', () => {
  it('rebuilds a foreign cause without name, message or stack as a plain Error with defaults', () => {
    const error = fromSerialized({ code: 'FND_CONFIG_INVALID_VALUE', cause: { kind: 'error' } });
    const cause = error.cause as Error;
    expect(cause).toBeInstanceOf(Error);
    expect(cause.name).toBe('Error');
    expect(cause.message).toBe('');
    expect(cause.stack).toBe('Error: ');
    expect(Object.hasOwn(cause, 'code')).toBe(false);
    expect(Object.keys(cause)).toEqual([]);
  });

  it('rebuilds an AggregateError cause with its inner errors, a numeric code and a nested cause', () => {
    const error = fromSerialized({
      code: 'FND_UNKNOWN',
      cause: {
        kind: 'error',
        name: 'AggregateError',
        message: 'all failed',
        code: 3,
        errors: [
          { kind: 'value', value: 'first' },
          { kind: 'error', message: 'second' },
        ],
        cause: { kind: 'value', value: 'root' },
      },
    });
    const cause = error.cause as AggregateError & { code?: unknown };
    expect(cause).toBeInstanceOf(AggregateError);
    expect(cause.message).toBe('all failed');
    expect(cause.code).toBe(3);
    expect(cause.errors[0]).toBe('first');
    expect((cause.errors[1] as Error).message).toBe('second');
    expect(cause.cause).toBe('root');
  });

  it('ends the chain at circular and truncated markers and at values that are not objects', () => {
    expect(fromSerialized({ code: 'FND_UNKNOWN', cause: { kind: 'circular' } }).cause).toBeUndefined();
    expect(fromSerialized({ code: 'FND_UNKNOWN', cause: { kind: 'truncated' } }).cause).toBeUndefined();
    expect(fromSerialized({ code: 'FND_UNKNOWN', cause: 'text' }).cause).toBeUndefined();
  });
});

describe('toJsonSafe on rarer values', () => {
  it('keeps a URL without a password as is, and names buffers and views by size', () => {
    expect(toJsonSafe(new URL('https://user@example.com/a'))).toBe('https://user@example.com/a');
    expect(toJsonSafe(new DataView(new ArrayBuffer(6)))).toBe('[DataView(6)]');
    expect(toJsonSafe(new ArrayBuffer(3))).toBe('[ArrayBuffer(3)]');
    expect(toJsonSafe(new Uint16Array(4))).toBe('[Uint16Array(4)]');
  });

  it('keeps an error code only when it is a string or a number', () => {
    expect(toJsonSafe(Object.assign(new Error('a'), { code: 5 }))).toEqual({
      name: 'Error',
      message: 'a',
      code: 5,
    });
    expect(toJsonSafe(Object.assign(new TypeError('b'), { code: { nested: true } }))).toEqual({
      name: 'TypeError',
      message: 'b',
    });
  });

  it('gives {} for a record whose keys cannot even be listed', () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no keys');
        },
      },
    );
    expect(toJsonSafeRecord(hostile)).toEqual({});
  });
});

describe('contexts from another copy of the package', () => {
  it('re-creates a hand-made parent with its ids, operation and metadata', () => {
    const foreign: FoundationContext = {
      correlationId: 'corr-1',
      causationId: 'cause-1',
      operationId: 'op-1',
      operation: 'import',
      breadcrumbs: [],
      metadata: { tenant: 't1' },
      startedAt: 0,
    };
    const child = createContext({ operation: 'child' }, foreign);
    expect(child.correlationId).toBe('corr-1');
    expect(child.causationId).toBe('op-1');
    expect(child.metadata).toEqual({ tenant: 't1' });
    expect(child.operation).toBe('child');
    expect(child.breadcrumbs.map((b) => b.operation)).toEqual(['import', 'child']);
    expect(typeof child.startedAt).toBe('number');
  });

  it('re-creates a hand-made parent without causation or operation, and a child inherits the operation', () => {
    const foreign: FoundationContext = {
      correlationId: 'corr-2',
      causationId: undefined,
      operationId: 'op-2',
      operation: undefined,
      breadcrumbs: [],
      metadata: {},
      startedAt: 0,
    };
    const child = createContext({}, foreign);
    expect(child.causationId).toBe('op-2');
    expect(child.operation).toBeUndefined();
    const named = createContext({ operation: 'parent-op' });
    expect(createContext({}, named).operation).toBe('parent-op');
  });
});

describe('small helpers', () => {
  it('reads headers from a Headers object, absent ones as missing', () => {
    const context = contextFromHeaders(new Headers({ 'x-correlation-id': 'abc-123' }));
    expect(context.correlationId).toBe('abc-123');
    const fresh = contextFromHeaders(new Headers());
    expect(fresh.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('classifies an aborted signal by its reason, or as aborted when the reason says nothing', () => {
    const timedOut = AbortSignal.abort(new FoundationError('FND_EXTERNAL_TIMEOUT'));
    expect(classifyError(timedOut)).toBe('FND_EXTERNAL_TIMEOUT');
    expect(classifyError(AbortSignal.abort('plain text'))).toBe('FND_SYSTEM_ABORTED');
  });

  it('classifies a signal that was not aborted as aborted', () => {
    expect(classifyError(new AbortController().signal)).toBe('FND_SYSTEM_ABORTED');
  });
});

describe('errors from another copy of the package', () => {
  it('serves a code this catalog does not know with the FND_UNKNOWN title, keeping the code and status', () => {
    const newer = Object.assign(new Error('from a newer version'), {
      [FOUNDATION_ERROR_BRAND]: true,
      code: 'FND_FROM_THE_FUTURE',
      numericCode: 9999,
      httpStatus: 503,
      retryStrategy: 'no_retry',
      context: {},
    });
    const problem = toProblemDetails(newer);
    expect(problem.title).toBe(toProblemDetails(new FoundationError('FND_UNKNOWN')).title);
    expect(problem.code).toBe('FND_FROM_THE_FUTURE');
    expect(problem.type).toBe(`${PROBLEM_TYPE_PREFIX}FND_FROM_THE_FUTURE`);
    expect(problem.status).toBe(503);
    expect(problem.detail).toBe('from a newer version');
  });
});

describe('context ids and JSON', () => {
  it('makes correlation ids as UUIDs, each new', () => {
    const a = newCorrelationId();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(newCorrelationId()).not.toBe(a);
  });

  it('writes a context as JSON with its ids, operation, breadcrumbs, metadata and start', () => {
    const parent = createContext({ correlationId: 'corr-j', operation: 'root', metadata: { a: 1 } });
    const child = createContext({ operation: 'leaf' }, parent);
    const json = JSON.parse(JSON.stringify(child)) as Record<string, unknown>;
    expect(json).toEqual({
      correlationId: 'corr-j',
      causationId: parent.operationId,
      operationId: child.operationId,
      operation: 'leaf',
      breadcrumbs: child.breadcrumbs.map((crumb) => ({ ...crumb })),
      metadata: { a: 1 },
      startedAt: child.startedAt,
    });
    expect((json.breadcrumbs as { operation: string }[]).map((b) => b.operation)).toEqual(['root', 'leaf']);
  });
});
