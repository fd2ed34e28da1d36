import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { withContext } from '../errors/context.js';
import {
  CATCH_ALL_CHANNEL,
  channelName,
  emit,
  onTelemetry,
  onTelemetryPrefix,
  span,
  telemetryEvent,
  telemetrySpan,
  type SpanMessage,
  type TelemetryMessage,
} from './telemetry.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()?.();
});

function collect(name: string): TelemetryMessage[] {
  const seen: TelemetryMessage[] = [];
  cleanups.push(onTelemetry(name, (m) => seen.push(m)));
  return seen;
}

describe('telemetryEvent', () => {
  it('publishes measurements, metadata and the current correlation id on foundation:<name>', () => {
    const event = telemetryEvent('test_kernel:emitted');
    expect(event.channel.name).toBe('foundation:test_kernel:emitted');
    const seen = collect('test_kernel:emitted');
    withContext({ correlationId: 'corr-1' }, () => {
      event.emit({ count: 2 }, { who: 'me' });
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      name: 'test_kernel:emitted',
      measurements: { count: 2 },
      metadata: { who: 'me' },
      correlationId: 'corr-1',
    });
    expect(typeof seen[0]!.time).toBe('number');
  });

  it('publishes nothing and reports no subscribers when nobody listens', () => {
    const event = telemetryEvent('test_kernel:quiet');
    expect(event.hasSubscribers).toBe(false);
    let published = 0;
    const original = event.channel.publish.bind(event.channel);
    event.channel.publish = (m: unknown) => {
      published += 1;
      original(m);
    };
    event.emit({ count: 1 });
    expect(published).toBe(0);
  });

  it('rejects names that do not follow <area>:<event>', () => {
    for (const bad of ['NoArea', 'area:', 'Area:Event', '', 'a b:c']) {
      expect(() => telemetryEvent(bad)).toThrow(expect.objectContaining({ code: 'FND_DATA_INVALID_INPUT' }));
    }
  });
});

describe('emit', () => {
  it('publishes through the same channel as a declared event', () => {
    const seen = collect('test_kernel:adhoc');
    emit('test_kernel:adhoc', { n: 1 });
    expect(seen.map((m) => m.measurements)).toEqual([{ n: 1 }]);
    expect(seen[0]!.correlationId).toBeUndefined();
  });
});

describe('onTelemetry', () => {
  it('isolates a throwing handler and reports it on telemetry:handler_failed', () => {
    const failures = collect('telemetry:handler_failed');
    const seen: number[] = [];
    cleanups.push(
      onTelemetry('test_kernel:boom', () => {
        throw new Error('handler bug');
      }),
    );
    cleanups.push(onTelemetry('test_kernel:boom', (m) => seen.push(m.measurements['n'] ?? -1)));
    expect(() => {
      emit('test_kernel:boom', { n: 7 });
    }).not.toThrow();
    expect(seen).toEqual([7]);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.metadata['event']).toBe('test_kernel:boom');
  });

  it('stops delivering after unsubscribe', () => {
    const seen: unknown[] = [];
    const off = onTelemetry('test_kernel:off', (m) => seen.push(m));
    emit('test_kernel:off', { n: 1 });
    off();
    emit('test_kernel:off', { n: 2 });
    expect(seen).toHaveLength(1);
  });
});

function traceOf(name: string): Array<[string, SpanMessage]> {
  const phases: Array<[string, SpanMessage]> = [];
  const tc = diagnosticsChannel.tracingChannel<SpanMessage>(channelName(name));
  const handlers = {
    start: (m: SpanMessage) => phases.push(['start', { ...m }]),
    end: (m: SpanMessage) => phases.push(['end', { ...m }]),
    asyncStart: (m: SpanMessage) => phases.push(['asyncStart', { ...m }]),
    asyncEnd: (m: SpanMessage) => phases.push(['asyncEnd', { ...m }]),
    error: (m: SpanMessage) => phases.push(['error', { ...m }]),
  };
  tc.subscribe(handlers);
  cleanups.push(() => {
    tc.unsubscribe(handlers);
  });
  return phases;
}

describe('span', () => {
  it('times a sync function and returns its value', () => {
    const phases = traceOf('test_kernel:sync');
    const result = telemetrySpan('test_kernel:sync').run({ op: 'x' }, () => 42);
    expect(result).toBe(42);
    expect(phases.map(([p]) => p)).toEqual(['start', 'end']);
    expect(phases[1]![1].result).toBe(42);
    expect(phases[1]![1].duration).toBeGreaterThanOrEqual(0);
    expect(phases[1]![1].metadata).toEqual({ op: 'x' });
  });

  it('rethrows a sync error after publishing it', () => {
    const phases = traceOf('test_kernel:sync_fail');
    const boom = new Error('boom');
    expect(() =>
      span('test_kernel:sync_fail', {}, () => {
        throw boom;
      }),
    ).toThrow(boom);
    expect(phases.map(([p]) => p)).toEqual(['start', 'error', 'end']);
    expect(phases[1]![1].error).toBe(boom);
  });

  it('times an async function through asyncEnd, with the correlation id of its context', async () => {
    const phases = traceOf('test_kernel:async');
    const result = await withContext({ correlationId: 'c-span' }, () =>
      span('test_kernel:async', {}, async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return 'done';
      }),
    );
    expect(result).toBe('done');
    expect(phases.map(([p]) => p)).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(phases[3]![1]).toMatchObject({ result: 'done', correlationId: 'c-span' });
  });

  it('rejects with the original error from an async function', async () => {
    const phases = traceOf('test_kernel:async_fail');
    const boom = new Error('async boom');
    await expect(span('test_kernel:async_fail', {}, () => Promise.reject(boom))).rejects.toBe(boom);
    expect(phases.map(([p]) => p)).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(phases[2]![1].error).toBe(boom);
  });

  it('calls the function directly when nobody subscribes', () => {
    const s = telemetrySpan('test_kernel:unobserved');
    expect(s.channel.hasSubscribers).toBe(false);
    expect(s.run({}, () => 'plain')).toBe('plain');
  });
});

describe('onTelemetryPrefix', () => {
  function collectPrefix(prefix: string): TelemetryMessage[] {
    const seen: TelemetryMessage[] = [];
    cleanups.push(onTelemetryPrefix(prefix, (m) => seen.push(m)));
    return seen;
  }

  it('receives every emitted event whose name starts with the prefix, with its correlation id', () => {
    const seen = collectPrefix('test_prefix:');
    const declared = telemetryEvent('test_prefix:declared');
    withContext({ correlationId: 'corr-p' }, () => {
      declared.emit({ n: 1 }, { a: 'x' });
      emit('test_prefix:adhoc', { n: 2 });
      emit('test_prefix_other:nope', { n: 3 });
    });
    expect(seen.map((m) => [m.name, m.measurements['n'], m.correlationId])).toEqual([
      ['test_prefix:declared', 1, 'corr-p'],
      ['test_prefix:adhoc', 2, 'corr-p'],
    ]);
    expect(seen[0]!.metadata).toEqual({ a: 'x' });
  });

  it('publishes one message object to both the named channel and the catch-all channel', () => {
    const byPrefix = collectPrefix('test_prefix:');
    const byName = collect('test_prefix:shared');
    emit('test_prefix:shared', { n: 1 });
    expect(byPrefix).toHaveLength(1);
    expect(byName).toHaveLength(1);
    expect(byPrefix[0]).toBe(byName[0]);
  });

  it('an empty prefix sees everything, and the catch-all channel is a plain diagnostics channel', () => {
    const seen = collectPrefix('');
    const raw: unknown[] = [];
    const listener = (m: unknown): void => {
      raw.push(m);
    };
    diagnosticsChannel.subscribe(CATCH_ALL_CHANNEL, listener);
    cleanups.push(() => diagnosticsChannel.unsubscribe(CATCH_ALL_CHANNEL, listener));
    emit('test_prefix_any:one', {});
    telemetryEvent('test_prefix_any:two').emit({});
    expect(seen.map((m) => m.name)).toEqual(['test_prefix_any:one', 'test_prefix_any:two']);
    expect(raw).toHaveLength(2);
  });

  it('isolates a throwing handler: reported, still subscribed, other handlers and the emitter unaffected', () => {
    const failures = collect('telemetry:handler_failed');
    let calls = 0;
    cleanups.push(
      onTelemetryPrefix('test_prefix_boom:', () => {
        calls += 1;
        throw new Error('prefix handler bug');
      }),
    );
    const seen = collectPrefix('test_prefix_boom:');
    expect(() => {
      emit('test_prefix_boom:a', { n: 1 });
      telemetryEvent('test_prefix_boom:b').emit({ n: 2 });
    }).not.toThrow();
    expect(calls).toBe(2);
    expect(seen.map((m) => m.name)).toEqual(['test_prefix_boom:a', 'test_prefix_boom:b']);
    expect(failures.map((m) => [m.metadata['event'], m.metadata['prefix']])).toEqual([
      ['test_prefix_boom:a', 'test_prefix_boom:'],
      ['test_prefix_boom:b', 'test_prefix_boom:'],
    ]);
    expect((failures[0]!.metadata['error'] as Error).message).toBe('prefix handler bug');
  });

  it('a handler that throws on everything (handler_failed included) does not loop', () => {
    const failures = collect('telemetry:handler_failed');
    let calls = 0;
    cleanups.push(
      onTelemetryPrefix('', () => {
        calls += 1;
        throw new Error('always');
      }),
    );
    emit('test_prefix_loop:x', {});
    // The event itself, then the handler_failed report (seen by the same handler, not reported again).
    expect(calls).toBe(2);
    expect(failures).toHaveLength(1);
  });

  it('stops delivering after unsubscribe and costs nothing when nobody listens', () => {
    const seen: TelemetryMessage[] = [];
    const off = onTelemetryPrefix('test_prefix_off:', (m) => seen.push(m));
    emit('test_prefix_off:x', {});
    off();
    emit('test_prefix_off:x', {});
    expect(seen).toHaveLength(1);
    expect(diagnosticsChannel.channel(CATCH_ALL_CHANNEL).hasSubscribers).toBe(false);
  });
});
