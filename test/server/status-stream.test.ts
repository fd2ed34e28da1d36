import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceContext } from '../../src/kernel/service.js';
import type { StatusSnapshot } from '../../src/server/index.js';
import { startControlBus, testService, type RunningControlBus } from '../helpers/control-bus.js';
import { openEventStream, type ReceivedEvent } from '../helpers/event-stream.js';

const isStatus = (event: ReceivedEvent): boolean => event.event === 'status';
const snapshotOf = (event: ReceivedEvent): StatusSnapshot => JSON.parse(event.data) as StatusSnapshot;

describe('GET /api/status/stream', () => {
  let running: RunningControlBus | undefined;
  afterEach(async () => {
    await running?.[Symbol.asyncDispose]();
    running = undefined;
  });

  it('sends an initial status event with the status and health of every service', async () => {
    running = await startControlBus({ name: 'streamer', services: [testService('db')] });
    await using stream = await openEventStream(new URL('/api/status/stream', running.url));
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.response.headers.get('cache-control')).toBe('no-store');
    expect(stream.response.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(stream.response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const first = snapshotOf(await stream.next(isStatus));
    expect(first.status.name).toBe('streamer');
    expect(first.status.state).toBe('running');
    expect(first.status.services.map((s) => [s.name, s.state])).toEqual([
      ['storage', 'running'],
      ['config', 'running'],
      ['events', 'running'],
      ['projections', 'running'],
      ['db', 'running'],
      ['control-bus', 'running'],
    ]);
    expect(first.health.ready).toBe(true);
    // an empty memory log: the dashboard has nothing to fetch yet
    expect(first.events).toEqual({ lastPosition: 0 });
    expect(first.health.services.map((s) => [s.name, s.status])).toEqual([
      ['storage', 'healthy'],
      ['config', 'healthy'],
      ['events', 'healthy'],
      ['projections', 'healthy'],
      ['db', 'healthy'],
      ['control-bus', 'healthy'],
    ]);
  });

  it('sends an update after a service is added', async () => {
    running = await startControlBus({ services: [testService('db')] });
    await using stream = await openEventStream(new URL('/api/status/stream', running.url));
    await stream.next(isStatus);
    const seen = stream.events.length;
    running.foundation.add(testService('mailer', { dependencies: ['db'] }));
    const update = await stream.next(
      (event) =>
        isStatus(event) &&
        snapshotOf(event).status.services.some((s) => s.name === 'mailer' && s.state === 'running'),
      seen,
    );
    const mailer = snapshotOf(update).status.services.find((s) => s.name === 'mailer');
    expect(mailer).toMatchObject({ state: 'running', dependencies: ['db'], restarts: 0 });
  });

  it('sends an update when a service fails, with its last error', async () => {
    let context: ServiceContext | undefined;
    running = await startControlBus({ services: [testService('db')] });
    running.foundation.add(
      {
        name: 'worker',
        start: (ctx) => {
          context = ctx;
          return 'worker';
        },
        stop: () => undefined,
      },
      { restart: 'temporary' },
    );
    await running.foundation.registry.waitFor('services', 'worker');
    await using stream = await openEventStream(new URL('/api/status/stream', running.url));
    await stream.next(isStatus);
    const seen = stream.events.length;
    context!.fail(new Error('queue connection lost'));
    const update = await stream.next(
      (event) =>
        isStatus(event) &&
        snapshotOf(event).status.services.some((s) => s.name === 'worker' && s.state === 'failed'),
      seen,
    );
    const worker = snapshotOf(update).status.services.find((s) => s.name === 'worker');
    expect(worker?.lastError?.message).toContain('queue connection lost');
    expect(worker?.lastError?.code).toMatch(/^FND_/);
  });

  it('pushes health changes periodically (health checks have no events)', async () => {
    let healthy = true;
    running = await startControlBus({
      services: [
        testService('db', {
          health: () => (healthy ? { status: 'healthy' } : { status: 'unhealthy', message: 'down' }),
        }),
      ],
      bus: { streamRefreshMs: 50 },
    });
    await using stream = await openEventStream(new URL('/api/status/stream', running.url));
    await stream.next(isStatus);
    healthy = false;
    const update = await stream.next(
      (event) => isStatus(event) && !snapshotOf(event).health.ready,
      stream.events.length,
    );
    expect(snapshotOf(update).health.services).toContainEqual({
      name: 'db',
      status: 'unhealthy',
      message: 'down',
    });
  });

  it('sends heartbeat comments', async () => {
    running = await startControlBus({ bus: { heartbeatMs: 20 } });
    await using stream = await openEventStream(new URL('/api/status/stream', running.url));
    const heartbeat = await stream.next((event) => event.event === 'comment' && event.data === 'heartbeat');
    expect(heartbeat.data).toBe('heartbeat');
  });

  it('stopping the foundation ends open streams instead of hanging', async () => {
    running = await startControlBus({ services: [testService('db')] });
    const streams = await Promise.all(
      [1, 2, 3].map(() => openEventStream(new URL('/api/status/stream', running!.url))),
    );
    await Promise.all(streams.map((s) => s.next(isStatus)));
    await running.foundation.stop();
    await Promise.all(streams.map((s) => s.ended));
    expect(running.foundation.status().state).toBe('stopped');
    running = undefined;
  });

  it('a client that disconnects is dropped; the bus keeps serving others', async () => {
    running = await startControlBus({ services: [testService('db')] });
    const gone = await openEventStream(new URL('/api/status/stream', running.url));
    await gone.next(isStatus);
    await gone[Symbol.asyncDispose]();
    await using stream = await openEventStream(new URL('/api/status/stream', running.url));
    await stream.next(isStatus);
    running.foundation.add(testService('late'));
    await stream.next(
      (event) => isStatus(event) && snapshotOf(event).status.services.some((s) => s.name === 'late'),
    );
    const status = running.foundation.status();
    expect(status.services.map((s) => [s.name, s.state])).toEqual([
      ['storage', 'running'],
      ['config', 'running'],
      ['events', 'running'],
      ['projections', 'running'],
      ['db', 'running'],
      ['control-bus', 'running'],
      ['late', 'running'],
    ]);
  });

  it('refuses clients beyond maxStreamClients with 503 FND_SYSTEM_RESOURCE_EXHAUSTED, and admits again when one leaves', async () => {
    running = await startControlBus({ name: 'capped', bus: { maxStreamClients: 2 } });
    const url = new URL('/api/status/stream', running.url);
    await using first = await openEventStream(url);
    const second = await openEventStream(url);
    await first.next(isStatus);
    await second.next(isStatus);

    const refused = await fetch(url, { headers: { accept: 'text/event-stream' } });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(refused.headers.get('retry-after')).toBe('5');
    const body = (await refused.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ code: 'FND_SYSTEM_RESOURCE_EXHAUSTED', status: 503, context: { limit: 2 } });
    expect(body['correlationId']).toBe(refused.headers.get('x-correlation-id'));
    expect(JSON.stringify(body)).not.toContain('stack');

    second.close();
    await second.ended;
    // The server notices the closed socket on its own schedule: poll the admission, bounded.
    let admitted: Awaited<ReturnType<typeof openEventStream>> | undefined;
    for (let attempt = 0; attempt < 50 && admitted === undefined; attempt++) {
      const candidate = await openEventStream(url);
      if (candidate.response.status === 200) admitted = candidate;
      else {
        candidate.close();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    expect(admitted?.response.status).toBe(200);
    await admitted?.next(isStatus);
    admitted?.close();
  });
});
