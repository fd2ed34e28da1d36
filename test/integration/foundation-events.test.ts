/**
 * The event capability as the composition root wires it: projections, retention, the health of
 * subscriptions, durable subscriptions and the outage spool option.
 */
import { describe, expect, it } from 'vitest';
import { createFoundation, SERVICES_NAMESPACE, type FoundationOptions } from '../../src/index.js';
import type { EventRetention, StoredEvent } from '../../src/events/index.js';
import { thrown } from '../../src/testing/index.js';

function memoryFoundation(options: FoundationOptions = {}) {
  return createFoundation({ store: 'memory:', ...options });
}

/** The codes along an error's cause chain. */
function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = error; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
  }
  return codes;
}

const counter = {
  name: 'orders-per-stream',
  filter: { types: ['order.*'] },
  key: (event: StoredEvent) => event.stream ?? undefined,
  initial: () => ({ count: 0 }),
  evolve: (state: unknown) => ({ count: (state as { count: number }).count + 1 }),
};

describe('foundation event services', () => {
  it('runs projections given as options, inline ones in the append transaction', async () => {
    await using foundation = memoryFoundation({
      projections: [counter, { ...counter, name: 'orders-inline', mode: 'inline' }],
    });
    await foundation.start();
    const result = await foundation.events.append([
      { type: 'order.created', stream: 'o-1' },
      { type: 'order.paid', stream: 'o-1' },
      { type: 'user.created', stream: 'u-1' },
    ]);
    // Inline: visible as soon as the append resolved.
    expect(await foundation.projections.get('orders-inline', 'o-1')).toMatchObject({ state: { count: 2 } });
    // The last event this projection sees (user.created is not one of its types).
    await foundation.projections.waitFor('orders-per-stream', (result.events[1] as StoredEvent).position);
    expect(await foundation.projections.get('orders-per-stream', 'o-1')).toMatchObject({
      state: { count: 2 },
    });
    expect(await foundation.projections.get('orders-per-stream', 'u-1')).toBeUndefined();
    const health = await foundation.health();
    expect(health.services.find((s) => s.name === 'projections')).toMatchObject({ status: 'healthy' });
  });

  it('refuses a bad projection definition at once, before anything starts', () => {
    const error = thrown(() =>
      memoryFoundation({ projections: [{ ...counter, key: 'not a function' } as never] }),
    );
    expect(error).toMatchObject({ code: 'FND_EVENTS_INVALID_POLICY' });
  });

  it('runs retention policies as a supervised service that reports each run in the log', async () => {
    await using foundation = memoryFoundation({
      events: { retention: { policies: [{ types: 'debug.*', maxCount: 2 }] } },
    });
    await foundation.start();
    for (let i = 0; i < 5; i++) await foundation.events.append({ type: 'debug.tick', data: { i } });
    await foundation.events.append({ type: 'order.created', stream: 'o-1' });
    const retention = foundation.registry.lookup(SERVICES_NAMESPACE, 'retention') as EventRetention;
    const report = await retention.runRetention();
    expect(report.deleted).toBe(3);
    const ticks = await foundation.events.query({ types: ['debug.*'] });
    expect(ticks.events.map((e) => e.data)).toEqual([{ i: 3 }, { i: 4 }]);
    const reports = await foundation.events.query({ types: ['foundation.retention.completed'] });
    expect(reports.events).toHaveLength(1);
    expect((await foundation.events.query({ types: ['order.*'] })).events).toHaveLength(1);
  });

  it('refuses bad retention policies when the service starts, keeping the events', async () => {
    const foundation = memoryFoundation({
      events: { retention: { policies: [{ types: 'debug.*', maxCount: -1 }] } },
      supervisor: { maxRestarts: 0 },
    });
    const error = await foundation.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'FND_LIFECYCLE_START_FAILED' });
    expect(causeCodes(error)).toContain('FND_EVENTS_INVALID_POLICY');
    await foundation.stop();
  });

  it('reports the events service degraded while a subscription lags more than maxHealthyLag', async () => {
    await using foundation = memoryFoundation({ events: { maxHealthyLag: 5 } });
    await foundation.start();
    const slow = foundation.events.subscribe(
      {},
      { from: 'start', batchSize: 2, bufferSize: 2, name: 'slow' },
    );
    for (let i = 0; i < 10; i++) await foundation.events.append({ type: 'load.tick', data: { i } });
    const degraded = (await foundation.health()).services.find((s) => s.name === 'events');
    expect(degraded).toMatchObject({ status: 'degraded' });
    expect(degraded?.message).toContain('slow');
    // Draining it makes the service healthy again.
    let seen = 0;
    for await (const event of slow) {
      seen++;
      if (event.position === 10) break;
    }
    expect(seen).toBe(10);
    const healthy = (await foundation.health()).services.find((s) => s.name === 'events');
    expect(healthy).toMatchObject({ status: 'healthy' });
  });

  it('creates durable subscriptions on its store and stops them when it stops', async () => {
    const foundation = memoryFoundation();
    await foundation.start();
    await foundation.events.append([
      { type: 'mail.queued', data: { n: 1 } },
      { type: 'mail.queued', data: { n: 2 } },
    ]);
    const handled: unknown[] = [];
    let resolveAll: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    const mailer = foundation.durable({
      name: 'mailer',
      from: 'start',
      filter: { types: ['mail.*'] },
      handler: (event) => {
        handled.push(event.data);
        if (handled.length === 3) resolveAll();
      },
    });
    await mailer.start();
    await foundation.events.append({ type: 'mail.queued', data: { n: 3 } });
    await all;
    expect(handled).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    // A new handle of the same name resumes after what was acknowledged (the checkpoint store is shared).
    await mailer.stop();
    const again: unknown[] = [];
    let resolveNext: () => void = () => undefined;
    const next = new Promise<void>((resolve) => (resolveNext = resolve));
    const resumed = foundation.durable({
      name: 'mailer',
      handler: (event) => {
        again.push(event.data);
        resolveNext();
      },
    });
    await resumed.start();
    await foundation.events.append({ type: 'mail.queued', data: { n: 4 } });
    await next;
    expect(again).toEqual([{ n: 4 }]);
    await foundation.stop();
    expect(resumed.status().state).toBe('stopped');
    expect(mailer.status().state).toBe('stopped');
  });

  it('refuses the outage spool on a store other than PostgreSQL', () => {
    const error = thrown(() => createFoundation({ store: 'memory:', events: { spool: true } }));
    expect(error).toMatchObject({ code: 'FND_CONFIG_INVALID_VALUE' });
  });
});
