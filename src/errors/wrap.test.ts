import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { withContext } from './context.js';
import { FoundationError, isFoundationError } from './foundation-error.js';
import { classifyError, wrapError } from './wrap.js';

function systemError(code: string, message = `connect ${code} 127.0.0.1:5432`): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall: 'connect' });
}

describe('wrapError', () => {
  it('passes a FoundationError through unchanged when no code is given', () => {
    const inner = new FoundationError('FND_REGISTRY_NOT_FOUND');
    expect(wrapError(inner)).toBe(inner);
    expect(wrapError(inner, undefined, { message: 'ignored' })).toBe(inner);
  });

  it('wraps a FoundationError when a code is given, keeping it as the cause', () => {
    const inner = new FoundationError('FND_REGISTRY_NOT_FOUND');
    const outer = wrapError(inner, 'FND_SYSTEM_DEPENDENCY_FAILED', { context: { service: 'db' } });
    expect(outer).not.toBe(inner);
    expect(outer.code).toBe('FND_SYSTEM_DEPENDENCY_FAILED');
    expect(outer.cause).toBe(inner);
    expect(outer.context).toEqual({ service: 'db' });
  });

  it('maps aborts to FND_SYSTEM_ABORTED', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(wrapError(controller.signal.reason).code).toBe('FND_SYSTEM_ABORTED'); // DOMException AbortError
    expect(wrapError(controller.signal).code).toBe('FND_SYSTEM_ABORTED');
    const nodeAbort = await delay(10_000, undefined, { signal: controller.signal }).catch((e: unknown) => e);
    expect((nodeAbort as Error).name).toBe('AbortError');
    const wrapped = wrapError(nodeAbort);
    expect(wrapped.code).toBe('FND_SYSTEM_ABORTED');
    expect(wrapped.cause).toBe(nodeAbort);
    expect(wrapError(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' })).code).toBe(
      'FND_SYSTEM_ABORTED',
    );
  });

  it('maps timeouts to FND_EXTERNAL_TIMEOUT', async () => {
    const timeoutReason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(wrapError(timeoutReason).code).toBe('FND_EXTERNAL_TIMEOUT');
    const timedOut = AbortSignal.abort(timeoutReason); // what AbortSignal.timeout(ms) looks like once fired
    expect(wrapError(timedOut).code).toBe('FND_EXTERNAL_TIMEOUT');
    // Node's AbortError carries the signal's reason as its cause
    const nodeAbort = await delay(10_000, undefined, { signal: timedOut }).catch((e: unknown) => e);
    expect(wrapError(nodeAbort).code).toBe('FND_EXTERNAL_TIMEOUT');
    expect(wrapError(systemError('ETIMEDOUT')).code).toBe('FND_EXTERNAL_TIMEOUT');
    expect(wrapError(systemError('UND_ERR_HEADERS_TIMEOUT')).code).toBe('FND_EXTERNAL_TIMEOUT');
  });

  it('maps Node network errors to FND_EXTERNAL_NETWORK_ERROR', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN', 'EHOSTUNREACH']) {
      const foreign = systemError(code);
      const wrapped = wrapError(foreign);
      expect(wrapped.code, code).toBe('FND_EXTERNAL_NETWORK_ERROR');
      expect(wrapped.cause).toBe(foreign);
      expect(wrapped.retryable).toBe(true);
    }
  });

  it('looks through cause chains and AggregateErrors', () => {
    const fetchFailed = new TypeError('fetch failed', { cause: systemError('ECONNREFUSED') });
    expect(wrapError(fetchFailed).code).toBe('FND_EXTERNAL_NETWORK_ERROR');
    const aggregate = new AggregateError(
      [new Error('first'), systemError('ETIMEDOUT')],
      'all attempts failed',
    );
    expect(wrapError(aggregate).code).toBe('FND_EXTERNAL_TIMEOUT');
    const viaFoundation = new Error('outer', { cause: new FoundationError('FND_CONFIG_NOT_FOUND') });
    expect(classifyError(viaFoundation)).toBe('FND_CONFIG_NOT_FOUND');
  });

  it('classifies a real refused connection', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    server.close();
    await once(server, 'close');
    const failure = await fetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    const wrapped = wrapError(failure, undefined, { context: { port } });
    expect(wrapped.code).toBe('FND_EXTERNAL_NETWORK_ERROR');
    expect(wrapped.context).toEqual({ port });
    expect(wrapped.cause).toBe(failure);
  });

  it('maps everything else to FND_UNKNOWN and keeps the original as cause', () => {
    const values: unknown[] = [
      'a string',
      42,
      null,
      undefined,
      { weird: true },
      new RangeError('bad'),
      Symbol('s'),
    ];
    for (const value of values) {
      const wrapped = wrapError(value);
      expect(wrapped.code).toBe('FND_UNKNOWN');
      expect(wrapped.cause).toBe(value);
      expect(isFoundationError(wrapped)).toBe(true);
    }
  });

  it('never copies the foreign message into the new message', () => {
    const foreign = new Error('connect to postgres://admin:hunter2@db failed');
    const wrapped = wrapError(foreign);
    expect(wrapped.message).toBe('Unknown error');
    expect(
      wrapError(foreign, 'FND_SYSTEM_DEPENDENCY_FAILED', { message: 'database unreachable' }).message,
    ).toBe('database unreachable');
  });

  it('uses the given code over the classification and stamps the current context', () => {
    const wrapped = withContext({ correlationId: 'c-7' }, () =>
      wrapError(systemError('ECONNREFUSED'), 'FND_SYSTEM_DEPENDENCY_FAILED'),
    );
    expect(wrapped.code).toBe('FND_SYSTEM_DEPENDENCY_FAILED');
    expect(wrapped.correlationId).toBe('c-7');
  });

  it('survives hostile objects', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    expect(wrapError(hostile).code).toBe('FND_UNKNOWN');
    const cyclic: { cause?: unknown } = {};
    cyclic.cause = cyclic;
    expect(wrapError(cyclic).code).toBe('FND_UNKNOWN');
  });
});
