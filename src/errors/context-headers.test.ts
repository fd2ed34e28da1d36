import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CAUSATION_ID_HEADER,
  contextFromHeaders,
  contextToHeaders,
  CORRELATION_ID_HEADER,
  isValidCorrelationId,
  MAX_CORRELATION_ID_LENGTH,
  type HeaderSource,
} from './context-headers.js';
import { currentContext, currentCorrelationId, runInContext, withContext } from './context.js';

describe('contextFromHeaders', () => {
  it('takes valid ids from the headers', () => {
    const ctx = contextFromHeaders(
      { 'x-correlation-id': 'req-123:abc.DEF_9-z', 'x-causation-id': 'op-7' },
      { operation: 'http GET /', metadata: { route: '/' } },
    );
    expect(ctx.correlationId).toBe('req-123:abc.DEF_9-z');
    expect(ctx.causationId).toBe('op-7');
    expect(ctx.operation).toBe('http GET /');
    expect(ctx.metadata).toEqual({ route: '/' });
  });

  it('matches header names case-insensitively and reads WHATWG Headers', () => {
    expect(contextFromHeaders({ 'X-Correlation-ID': 'abc' }).correlationId).toBe('abc');
    const headers = new Headers({ 'X-Correlation-Id': 'from-fetch', 'X-Causation-Id': 'cause' });
    const ctx = contextFromHeaders(headers);
    expect(ctx.correlationId).toBe('from-fetch');
    expect(ctx.causationId).toBe('cause');
  });

  it('accepts exactly MAX_CORRELATION_ID_LENGTH characters', () => {
    const max = 'a'.repeat(MAX_CORRELATION_ID_LENGTH);
    expect(contextFromHeaders({ 'x-correlation-id': max }).correlationId).toBe(max);
    expect(contextFromHeaders({ 'x-correlation-id': `${max}a` }).correlationId).not.toBe(`${max}a`);
  });

  it('gives a fresh valid id for garbage input', () => {
    const garbage: unknown[] = [
      'a'.repeat(MAX_CORRELATION_ID_LENGTH + 1),
      'has space',
      'line\nbreak',
      'evil\r\nx-injected: 1',
      'semi;colon',
      'ünïcødé',
      '<script>',
      '',
      'a, b',
      ['one', 'two'],
      ['single'],
      undefined,
      null,
      42,
      { toString: () => 'obj' },
    ];
    const seen = new Set<string>();
    for (const value of garbage) {
      const ctx = contextFromHeaders({
        'x-correlation-id': value,
        'x-causation-id': value,
      } as unknown as HeaderSource);
      expect(isValidCorrelationId(ctx.correlationId), String(value)).toBe(true);
      expect(ctx.correlationId).not.toBe(value);
      expect(ctx.causationId).toBeUndefined();
      seen.add(ctx.correlationId);
    }
    expect(seen.size).toBe(garbage.length); // each one fresh
    for (const headers of [undefined, null, 'x-correlation-id: abc', 5, {}] as unknown as HeaderSource[]) {
      expect(isValidCorrelationId(contextFromHeaders(headers).correlationId)).toBe(true);
    }
  });

  it('survives hostile header objects', () => {
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap');
        },
        has() {
          throw new Error('trap');
        },
        getOwnPropertyDescriptor() {
          throw new Error('trap');
        },
      },
    );
    expect(isValidCorrelationId(contextFromHeaders(hostile).correlationId)).toBe(true);
  });

  it('always yields a valid id (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.anything()), (value) => {
        const ctx = contextFromHeaders({ 'x-correlation-id': value } as unknown as HeaderSource);
        if (isValidCorrelationId(value)) return ctx.correlationId === value;
        return isValidCorrelationId(ctx.correlationId) && ctx.correlationId !== value;
      }),
    );
  });

  it('is a root context even when called inside another context', () => {
    withContext({ correlationId: 'outer', metadata: { leak: true } }, () => {
      const ctx = contextFromHeaders({});
      expect(ctx.correlationId).not.toBe('outer');
      expect(ctx.metadata).toEqual({});
    });
  });
});

describe('contextToHeaders', () => {
  it('writes the correlation id and the operation id as causation', () => {
    withContext({ correlationId: 'corr-out' }, () => {
      const ctx = currentContext();
      expect(contextToHeaders()).toEqual({
        [CORRELATION_ID_HEADER]: 'corr-out',
        [CAUSATION_ID_HEADER]: ctx?.operationId,
      });
    });
    expect(contextToHeaders()).toEqual({});
  });

  it('propagates one correlation id across a real HTTP hop', async () => {
    const received: { headers: IncomingHttpHeaders; seen: string | undefined }[] = [];
    const server = createServer((req, res) => {
      const ctx = contextFromHeaders(req.headers, { operation: `http ${req.method ?? ''} ${req.url ?? ''}` });
      runInContext(ctx, () => {
        received.push({ headers: req.headers, seen: currentCorrelationId() });
        res.setHeader(CORRELATION_ID_HEADER, currentCorrelationId() ?? '');
        res.end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const { response, callerOperation } = await withContext({ correlationId: 'hop-1' }, async () => ({
        response: await fetch(`http://127.0.0.1:${port}/x`, { headers: contextToHeaders() }),
        callerOperation: currentContext()?.operationId,
      }));
      expect(response.headers.get(CORRELATION_ID_HEADER)).toBe('hop-1');
      expect(received[0]?.seen).toBe('hop-1');
      expect(received[0]?.headers[CAUSATION_ID_HEADER]).toBe(callerOperation);
    } finally {
      server.close();
      server.closeAllConnections();
      await once(server, 'close');
    }
  });
});

describe('isValidCorrelationId', () => {
  it('accepts UUIDs and the allowed characters only', () => {
    expect(isValidCorrelationId(crypto.randomUUID())).toBe(true);
    expect(isValidCorrelationId('A-z.0_9:x')).toBe(true);
    for (const bad of ['', ' ', 'a/b', 'a b', 'a\u0000b', 'é', 7, null, undefined, ['a']]) {
      expect(isValidCorrelationId(bad), String(bad)).toBe(false);
    }
  });
});
