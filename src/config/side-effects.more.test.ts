/** The bounded retry queue of config side effects: retries on the fake clock, give-up, drops, stop, idle. */
import { describe, expect, it } from 'vitest';
import { FoundationError } from '../errors/index.js';
import { FakeClock } from '../testing/index.js';
import { SideEffectQueue } from './side-effects.js';

/** Lets promise callbacks queued by the queue run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

interface Gate {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

function gate(): Gate {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SideEffectQueue', () => {
  it('resolves idle() at once when nothing is pending and counts nothing', async () => {
    const queue = new SideEffectQueue({ clock: new FakeClock() });
    await queue.idle();
    expect(queue.counts()).toEqual({ pending: 0, failed: 0, dropped: 0 });
  });

  it('retries a failing effect with doubling delays capped at maxDelayMs, then reports it failed', async () => {
    const clock = new FakeClock();
    const failures: Array<{ name: string; code: string; context: unknown; cause: unknown }> = [];
    const queue = new SideEffectQueue({
      clock,
      attempts: 4,
      firstDelayMs: 100,
      maxDelayMs: 250,
      onFailed: (name, error) => {
        failures.push({ name, code: error.code, context: error.context, cause: error.cause });
      },
    });
    const boom = new Error('store down');
    let calls = 0;
    queue.push('record event', () => {
      calls += 1;
      return Promise.reject(boom);
    });
    const idle = queue.idle();
    await flush();
    expect(calls).toBe(1);
    expect(clock.pending()).toBe(1);
    clock.advance(99);
    expect(calls).toBe(1);
    clock.advance(1); // first retry after 100 ms
    await flush();
    expect(calls).toBe(2);
    clock.advance(199);
    expect(calls).toBe(2);
    clock.advance(1); // second retry after 200 ms
    await flush();
    expect(calls).toBe(3);
    clock.advance(249);
    expect(calls).toBe(3);
    clock.advance(1); // third retry capped at 250 ms (not 400)
    await flush();
    expect(calls).toBe(4);
    await idle;
    expect(queue.counts()).toEqual({ pending: 0, failed: 1, dropped: 0 });
    expect(failures).toEqual([
      {
        name: 'record event',
        code: 'FND_CONFIG_SIDE_EFFECT_FAILED',
        context: { effect: 'record event', attempts: 4 },
        cause: boom,
      },
    ]);
    expect(clock.pending()).toBe(0);
  });

  it('turns a synchronous throw (even of a non-Error) into a failed attempt; no onFailed is fine', async () => {
    const clock = new FakeClock();
    const queue = new SideEffectQueue({ clock, attempts: 1 });
    queue.push('sync throw', () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- the queue must cope with any thrown value
      throw 'plain text';
    });
    await queue.idle();
    expect(queue.counts()).toEqual({ pending: 0, failed: 1, dropped: 0 });
  });

  it('wraps a thrown non-Error in an Error as the cause', async () => {
    const clock = new FakeClock();
    const causes: unknown[] = [];
    const queue = new SideEffectQueue({
      clock,
      attempts: 1,
      onFailed: (_name, error) => causes.push(error.cause),
    });
    queue.push('sync throw', () => {
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- the queue must cope with any thrown value
      throw 42;
    });
    await queue.idle();
    expect(causes).toHaveLength(1);
    expect(causes[0]).toBeInstanceOf(Error);
    expect((causes[0] as Error).message).toBe('42');
    const thrown = new TypeError('bad');
    queue.push('sync error', () => {
      throw thrown;
    });
    await queue.idle();
    expect(causes[1]).toBe(thrown);
    expect(queue.counts()).toEqual({ pending: 0, failed: 2, dropped: 0 });
  });

  it('drops the oldest waiting effect when full; its late result changes nothing', async () => {
    const clock = new FakeClock();
    const queue = new SideEffectQueue({ clock, maxPending: 2 });
    const first = gate();
    const second = gate();
    const third = gate();
    queue.push('first', () => first.promise);
    queue.push('second', () => second.promise);
    expect(queue.counts()).toEqual({ pending: 2, failed: 0, dropped: 0 });
    queue.push('third', () => third.promise);
    expect(queue.counts()).toEqual({ pending: 2, failed: 0, dropped: 1 });
    // The dropped effect finishing (well or badly) is ignored: no settle twice, no retry timer.
    first.reject(new Error('late failure'));
    await flush();
    expect(clock.pending()).toBe(0);
    expect(queue.counts()).toEqual({ pending: 2, failed: 0, dropped: 1 });
    second.resolve();
    third.resolve();
    await queue.idle();
    expect(queue.counts()).toEqual({ pending: 0, failed: 0, dropped: 1 });
  });

  it('ignores the success of an effect dropped while running', async () => {
    const clock = new FakeClock();
    const queue = new SideEffectQueue({ clock, maxPending: 1 });
    const first = gate();
    queue.push('first', () => first.promise);
    queue.push('second', () => Promise.resolve());
    await queue.idle();
    first.resolve();
    await flush();
    expect(queue.counts()).toEqual({ pending: 0, failed: 0, dropped: 1 });
  });

  it('stop() cancels waiting retries, lets running effects finish, and refuses new effects', async () => {
    const clock = new FakeClock();
    const failed: string[] = [];
    const queue = new SideEffectQueue({ clock, onFailed: (name) => failed.push(name) });
    let retried = 0;
    queue.push('waiting retry', () => {
      retried += 1;
      return Promise.reject(new Error('down'));
    });
    const running = gate();
    queue.push('running', () => running.promise);
    await flush();
    expect(clock.pending()).toBe(1); // the retry of 'waiting retry'
    const idle = queue.idle();
    queue.stop();
    expect(clock.pending()).toBe(0);
    expect(queue.counts()).toEqual({ pending: 1, failed: 0, dropped: 1 });
    let ran = false;
    queue.push('after stop', () => {
      ran = true;
      return Promise.resolve();
    });
    expect(ran).toBe(false);
    expect(queue.counts().pending).toBe(1);
    // A running effect that fails after stop gives up at once (no retry) and is reported.
    running.reject(new Error('failed while stopping'));
    await idle;
    expect(retried).toBe(1);
    expect(failed).toEqual(['running']);
    expect(queue.counts()).toEqual({ pending: 0, failed: 1, dropped: 1 });
    clock.advance(60_000);
    expect(retried).toBe(1);
  });

  it('reports the give-up error as a FoundationError', async () => {
    const errors: FoundationError[] = [];
    const queue = new SideEffectQueue({
      clock: new FakeClock(),
      attempts: 1,
      onFailed: (_n, e) => errors.push(e),
    });
    queue.push('x', () => Promise.reject(new Error('no')));
    await queue.idle();
    expect(errors.map((e) => [e instanceof FoundationError, e.message])).toEqual([
      [true, 'Side effect "x" failed after 1 attempts'],
    ]);
  });
});
