import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  addBreadcrumb,
  bindContext,
  createContext,
  currentContext,
  currentCorrelationId,
  MAX_BREADCRUMB_OPERATION_LENGTH,
  MAX_BREADCRUMBS,
  runInContext,
  withContext,
} from './context.js';
import { FoundationError } from './foundation-error.js';

const tick = (): Promise<void> =>
  new Promise((resolve) => {
    setImmediate(resolve);
  });

describe('context propagation', () => {
  it('is absent outside any context', () => {
    expect(currentContext()).toBeUndefined();
    expect(currentCorrelationId()).toBeUndefined();
  });

  it('flows across await', async () => {
    const seen = await withContext({ correlationId: 'c-await' }, async () => {
      await Promise.resolve();
      await tick();
      return currentCorrelationId();
    });
    expect(seen).toBe('c-await');
    expect(currentCorrelationId()).toBeUndefined();
  });

  it('flows into setTimeout, setImmediate, process.nextTick and queueMicrotask callbacks', async () => {
    const seen = await withContext({ correlationId: 'c-timers' }, () => {
      const viaTimeout = new Promise<string | undefined>((resolve) => {
        setTimeout(() => {
          resolve(currentCorrelationId());
        }, 0).unref();
      });
      const viaImmediate = new Promise<string | undefined>((resolve) => {
        setImmediate(() => {
          resolve(currentCorrelationId());
        });
      });
      const viaNextTick = new Promise<string | undefined>((resolve) => {
        process.nextTick(() => {
          resolve(currentCorrelationId());
        });
      });
      const viaMicrotask = new Promise<string | undefined>((resolve) => {
        queueMicrotask(() => {
          resolve(currentCorrelationId());
        });
      });
      return Promise.all([viaTimeout, viaImmediate, viaNextTick, viaMicrotask]);
    });
    expect(seen).toEqual(['c-timers', 'c-timers', 'c-timers', 'c-timers']);
  });

  it('flows through Promise.all, race and allSettled', async () => {
    const read = async (): Promise<string | undefined> => {
      await tick();
      return currentCorrelationId();
    };
    const result = await withContext({ correlationId: 'c-combinators' }, async () => {
      const all = await Promise.all([read(), read(), read()]);
      const race = await Promise.race([read(), read()]);
      const settled = await Promise.allSettled([
        read(),
        (async () => {
          await tick();
          throw new FoundationError('FND_UNKNOWN');
        })(),
      ]);
      const after = await Promise.all([read()]).then(() => currentCorrelationId());
      return { all, race, settled, after };
    });
    expect(result.all).toEqual(['c-combinators', 'c-combinators', 'c-combinators']);
    expect(result.race).toBe('c-combinators');
    expect(result.settled[0]).toEqual({ status: 'fulfilled', value: 'c-combinators' });
    expect(result.settled[1].status).toBe('rejected');
    expect((result.settled[1] as PromiseRejectedResult).reason).toMatchObject({
      correlationId: 'c-combinators',
    });
    expect(result.after).toBe('c-combinators');
  });

  it('flows through async generators', async () => {
    async function* ids(): AsyncGenerator<string | undefined> {
      for (let i = 0; i < 3; i++) {
        await tick();
        yield currentCorrelationId();
      }
    }
    const seen = await withContext({ correlationId: 'c-gen' }, async () => {
      const out: (string | undefined)[] = [];
      for await (const id of ids()) out.push(id);
      return out;
    });
    expect(seen).toEqual(['c-gen', 'c-gen', 'c-gen']);
  });

  it('runs EventEmitter listeners in the emitter’s context unless bound with bindContext', async () => {
    const emitter = new EventEmitter();
    const plain: (string | undefined)[] = [];
    const bound: (string | undefined)[] = [];
    withContext({ correlationId: 'c-registered' }, () => {
      emitter.on('event', () => plain.push(currentCorrelationId()));
      emitter.on(
        'event',
        bindContext(() => bound.push(currentCorrelationId())),
      );
      emitter.emit('event'); // emitted inside the registering context
    });
    withContext({ correlationId: 'c-emitter' }, () => emitter.emit('event'));
    emitter.emit('event'); // outside any context
    await withContext({ correlationId: 'c-registered' }, async () => {
      await tick();
      emitter.emit('event'); // emitted later, in an async continuation of the registering context
    });
    expect(plain).toEqual(['c-registered', 'c-emitter', undefined, 'c-registered']);
    expect(bound).toEqual(['c-registered', 'c-registered', 'c-registered', 'c-registered']);
  });

  it('bindContext outside any context runs with no context', () => {
    const fn = bindContext(() => currentCorrelationId());
    expect(withContext({ correlationId: 'c-caller' }, fn)).toBeUndefined();
    const withArgs = bindContext((a: number, b: number) => a + b);
    expect(withArgs(2, 3)).toBe(5);
  });

  it('isolates 100 concurrent requests that interleave awaits', async () => {
    const requests = Array.from({ length: 100 }, (_, i) =>
      withContext({ correlationId: `req-${i}`, metadata: { i } }, async () => {
        const seen: (string | undefined)[] = [];
        for (let step = 0; step < 5; step++) {
          // vary the interleaving: some yield to the macrotask queue, some to microtasks only
          if ((i + step) % 3 === 0) await tick();
          else await Promise.resolve();
          seen.push(currentCorrelationId());
          addBreadcrumb(`step-${step}`);
        }
        const error = new FoundationError('FND_UNKNOWN');
        return { i, seen, error, ctx: currentContext() };
      }),
    );
    const results = await Promise.all(requests);
    for (const { i, seen, error, ctx } of results) {
      expect(seen).toEqual(Array.from({ length: 5 }, () => `req-${i}`));
      expect(error.correlationId).toBe(`req-${i}`);
      expect(ctx?.metadata).toEqual({ i });
      expect(ctx?.breadcrumbs.map((b) => b.operation)).toEqual([
        'step-0',
        'step-1',
        'step-2',
        'step-3',
        'step-4',
      ]);
    }
    expect(new Set(results.map((r) => r.ctx?.operationId)).size).toBe(100);
    expect(currentContext()).toBeUndefined();
  });
});

describe('child contexts', () => {
  it('inherit the correlation id, get the parent operation as causation, and merge metadata', () => {
    withContext({ correlationId: 'root', operation: 'parent', metadata: { tenant: 't1', a: 1 } }, () => {
      const parent = currentContext();
      withContext({ operation: 'child', metadata: { a: 2, b: 3 } }, () => {
        const child = currentContext();
        expect(child?.correlationId).toBe('root');
        expect(child?.causationId).toBe(parent?.operationId);
        expect(child?.operationId).not.toBe(parent?.operationId);
        expect(child?.operation).toBe('child');
        expect(child?.metadata).toEqual({ tenant: 't1', a: 2, b: 3 });
      });
      expect(currentContext()).toBe(parent);
      expect(parent?.metadata).toEqual({ tenant: 't1', a: 1 });
    });
  });

  it('a root context gets a fresh UUID and no causation', () => {
    const ctx = createContext();
    expect(ctx.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ctx.causationId).toBeUndefined();
    expect(() => {
      (ctx as { correlationId: string }).correlationId = 'tampered';
    }).toThrow(TypeError);
    expect(ctx.correlationId).not.toBe('tampered');
    expect(Object.isFrozen(ctx.metadata)).toBe(true);
  });

  it('runInContext runs in exactly the given context', async () => {
    const ctx = createContext({ correlationId: 'restored', operation: 'job' });
    const seen = await runInContext(ctx, async () => {
      await tick();
      return currentContext();
    });
    expect(seen).toBe(ctx);
  });
});

describe('breadcrumbs', () => {
  it('are bounded at MAX_BREADCRUMBS, keeping the newest', () => {
    withContext({ operation: 'start' }, () => {
      for (let i = 0; i < MAX_BREADCRUMBS * 3; i++) addBreadcrumb(`op-${i}`, { i });
      const crumbs = currentContext()?.breadcrumbs ?? [];
      expect(crumbs).toHaveLength(MAX_BREADCRUMBS);
      expect(crumbs.at(-1)).toMatchObject({
        operation: `op-${MAX_BREADCRUMBS * 3 - 1}`,
        metadata: { i: 95 },
      });
      expect(crumbs[0]?.operation).toBe(`op-${MAX_BREADCRUMBS * 2}`);
      // a child inherits a bounded copy and stays bounded
      withContext({ operation: 'child' }, () => {
        for (let i = 0; i < 10; i++) addBreadcrumb(`child-${i}`);
        expect(currentContext()?.breadcrumbs).toHaveLength(MAX_BREADCRUMBS);
      });
    });
  });

  it('cut long operation names', () => {
    withContext({}, () => {
      addBreadcrumb('x'.repeat(10_000));
      expect(currentContext()?.breadcrumbs[0]?.operation).toHaveLength(MAX_BREADCRUMB_OPERATION_LENGTH);
    });
  });

  it('of a child are not visible to the parent or to siblings', async () => {
    await withContext({ operation: 'parent' }, async () => {
      addBreadcrumb('parent-1');
      await Promise.all([
        withContext({ operation: 'left' }, async () => {
          await tick();
          addBreadcrumb('left-1');
          expect(currentContext()?.breadcrumbs.map((b) => b.operation)).toEqual([
            'parent',
            'parent-1',
            'left',
            'left-1',
          ]);
        }),
        withContext({ operation: 'right' }, async () => {
          await tick();
          addBreadcrumb('right-1');
          expect(currentContext()?.breadcrumbs.map((b) => b.operation)).toEqual([
            'parent',
            'parent-1',
            'right',
            'right-1',
          ]);
        }),
      ]);
      expect(currentContext()?.breadcrumbs.map((b) => b.operation)).toEqual(['parent', 'parent-1']);
    });
  });

  it('cannot be mutated through the returned array', () => {
    withContext({}, () => {
      addBreadcrumb('one');
      const copy = currentContext()?.breadcrumbs as { operation: string; at: number }[];
      copy.push({ operation: 'injected', at: 0 });
      expect(currentContext()?.breadcrumbs.map((b) => b.operation)).toEqual(['one']);
    });
  });

  it('are ignored outside a context', () => {
    addBreadcrumb('nowhere');
    expect(currentContext()).toBeUndefined();
  });
});
