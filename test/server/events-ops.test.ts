/**
 * Control bus: the event capability's operation routes (subscriptions, projections, retention) on a real
 * fastify server over a real foundation, on memory and on a SQLite file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFoundation, SERVICES_NAMESPACE, type Foundation } from '../../src/app/foundation.js';
import type { ProjectionDefinition, ProjectionStatus } from '../../src/events/projections/types.js';
import type { DurableSubscription } from '../../src/events/subscriptions/durable/types.js';
import type { Subscription } from '../../src/events/subscriptions/types.js';
import { CONTROL_BUS_SERVICE, controlBusService, type ControlBus } from '../../src/server/index.js';
import { createTestSchema, describePg } from '../helpers/postgres.js';
import { expectProblem } from '../helpers/problem-assertions.js';

const TOKEN = 'events-ops-token';
const EVENTS = 4000;

interface Slow {
  slow: boolean;
}

/** Busy work per event while `gate.slow`: makes a rebuild last long enough to be watched (not timed). */
function work(gate: Slow): void {
  if (!gate.slow) return;
  let x = 0;
  for (let i = 0; i < 20_000; i += 1) x += Math.sqrt(i);
  if (x < 0) throw new Error('unreachable');
}

function projections(gate: Slow): ProjectionDefinition[] {
  return [
    {
      name: 'order-counts',
      filter: { types: ['order.*'] },
      key: (event) => event.stream ?? undefined,
      initial: () => ({ count: 0 }),
      evolve: (state, event) => {
        work(gate);
        return { count: (state as { count: number }).count + (event.type === 'order.placed' ? 1 : 0) };
      },
      mode: 'async',
    },
    {
      name: 'type-counts',
      key: (event) => event.type,
      initial: () => 0,
      evolve: (state) => (state as number) + 1,
      mode: 'inline',
    },
  ];
}

/** Where one run of the suite keeps its data: a store URL and how to clean it up. */
interface TestStore {
  readonly url: string;
  drop(): Promise<void>;
}

function opsSuite(label: string, storeFor: (dir: string) => Promise<TestStore>): void {
  describe(`control bus: event operations (${label})`, () => {
    const gate: Slow = { slow: false };
    let dir: string;
    let store: TestStore;
    let foundation: Foundation;
    let bus: ControlBus;
    let live: Subscription;
    let durable: DurableSubscription;
    const handled: number[] = [];

    const call = (path: string, init: RequestInit = {}): Promise<Response> =>
      fetch(new URL(path, bus.url), init);
    const post = (path: string, headers: Record<string, string> = {}, body?: string): Promise<Response> =>
      call(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, ...headers },
        ...(body === undefined ? {} : { body }),
      });
    const getJson = async <T>(path: string): Promise<T> => {
      const response = await call(path);
      expect(response.status, path).toBe(200);
      return (await response.json()) as T;
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'events-ops-'));
      store = await storeFor(dir);
      foundation = createFoundation({
        name: 'ops-node',
        dataDir: dir,
        store: store.url,
        projections: projections(gate),
        events: { retention: { policies: [{ types: 'debug.*', maxCount: 2 }], intervalMs: 3_600_000 } },
      });
      foundation.add(controlBusService(foundation, { host: '127.0.0.1', port: 0, token: TOKEN }));
      await foundation.start();
      bus = foundation.registry.get<ControlBus>(SERVICES_NAMESPACE, CONTROL_BUS_SERVICE);
      const batch = 500;
      for (let start = 0; start < EVENTS; start += batch) {
        await foundation.events.append(
          Array.from({ length: batch }, (_, i) => ({
            type: 'order.placed',
            stream: `order-${(start + i) % 10}`,
            data: { n: start + i },
          })),
        );
      }
      await foundation.events.append(
        Array.from({ length: 5 }, (_, i) => ({ type: 'debug.trace', data: { i } })),
      );
      live = foundation.events.subscribe({ types: ['order.*'] }, { from: 'start', name: 'ops-live' });
      durable = foundation.durable({
        name: 'ops-mailer',
        filter: { types: ['debug.*'] },
        from: 'start',
        handler: (event) => {
          handled.push(event.position);
        },
      });
      await durable.start();
    });

    afterAll(async () => {
      await live.close();
      await foundation.stop();
      await store.drop();
      await rm(dir, { recursive: true, force: true });
    });

    it('GET /api/subscriptions lists live subscriptions (with lag) and durable ones', async () => {
      const body = await getJson<{
        live: Array<{
          name: string;
          state: string;
          position: number;
          lag: number;
          buffered: number;
          delivered: number;
        }>;
        durable: Array<{
          name: string;
          member: string;
          state: string;
          partitions: number;
          held: unknown[];
          lag: number;
        }>;
      }>('/api/subscriptions');
      const mine = body.live.find((s) => s.name === 'ops-live');
      expect(mine).toMatchObject({ delivered: 0, position: 0 });
      expect(typeof mine?.lag).toBe('number');
      expect(typeof mine?.buffered).toBe('number');
      const mailer = body.durable.find((s) => s.name === 'ops-mailer');
      expect(mailer).toMatchObject({ name: 'ops-mailer', member: durable.member });
      expect(mailer?.partitions).toBeGreaterThan(0);
      expect(Array.isArray(mailer?.held)).toBe(true);
      expect(typeof mailer?.lag).toBe('number');
    });

    it('GET /api/projections and /api/projections/:name report state, mode, position', async () => {
      await foundation.projections.waitFor('order-counts', EVENTS);
      const { projections: list } = await getJson<{ projections: ProjectionStatus[] }>('/api/projections');
      expect(list.map((p) => p.name).sort()).toEqual(['order-counts', 'type-counts']);
      const one = await getJson<ProjectionStatus>('/api/projections/order-counts');
      expect(one).toMatchObject({ name: 'order-counts', mode: 'async', state: 'running', position: EVENTS });
      const inline = await getJson<ProjectionStatus>('/api/projections/type-counts');
      expect(inline).toMatchObject({ mode: 'inline', state: 'running' });
    });

    it('POST rebuild needs the token; refused → nothing reset', async () => {
      await expectProblem(
        await call('/api/projections/order-counts/rebuild', { method: 'POST' }),
        401,
        'FND_EXTERNAL_AUTHENTICATION_FAILED',
      );
      await expectProblem(
        await post('/api/projections/order-counts/rebuild', { authorization: 'Bearer wrong' }),
        401,
        'FND_EXTERNAL_AUTHENTICATION_FAILED',
      );
      await expectProblem(
        await call('/api/retention/run', { method: 'POST' }),
        401,
        'FND_EXTERNAL_AUTHENTICATION_FAILED',
      );
      const status = await foundation.projections.status('order-counts');
      expect(status).toMatchObject({ state: 'running', position: EVENTS, rebuild: undefined });
      expect((await foundation.projections.get('order-counts', 'order-1'))?.state).toEqual({ count: 400 });
    });

    it('bad input gets a problem and changes nothing', async () => {
      await expectProblem(await call('/api/projections/no-such'), 404, 'FND_DATA_NOT_FOUND');
      await expectProblem(await post('/api/projections/no-such/rebuild'), 404, 'FND_DATA_NOT_FOUND');
      await expectProblem(await post('/api/projections/no-such/restart'), 404, 'FND_DATA_NOT_FOUND');
      await expectProblem(await call('/api/projections/bad%20name'), 400, 'FND_HTTP_BAD_REQUEST');
      await expectProblem(await post('/api/projections/bad!name/rebuild'), 400, 'FND_HTTP_BAD_REQUEST');
      await expectProblem(
        await post(`/api/projections/${'a'.repeat(101)}/rebuild`),
        400,
        'FND_HTTP_BAD_REQUEST',
      );
      await expectProblem(await call('/api/projections?x=1'), 400, 'FND_EVENTS_INVALID_QUERY');
      await expectProblem(await call('/api/subscriptions?x=1'), 400, 'FND_EVENTS_INVALID_QUERY');
      await expectProblem(
        await post(
          '/api/projections/order-counts/rebuild',
          { 'content-type': 'application/json' },
          '{"from":5}',
        ),
        400,
        'FND_HTTP_BAD_REQUEST',
      );
      await expectProblem(
        await post('/api/projections/order-counts/rebuild', { 'content-type': 'text/plain' }, 'go'),
        415,
        'FND_HTTP_UNSUPPORTED_MEDIA_TYPE',
      );
      await expectProblem(
        await post(
          '/api/projections/order-counts/rebuild',
          { 'content-type': 'application/json' },
          JSON.stringify({ pad: 'x'.repeat(2000) }),
        ),
        413,
        'FND_HTTP_PAYLOAD_TOO_LARGE',
      );
      await expectProblem(
        await post('/api/retention/run', { 'content-type': 'application/json' }, '[1]'),
        400,
        'FND_HTTP_BAD_REQUEST',
      );
      const status = await foundation.projections.status('order-counts');
      expect(status).toMatchObject({ state: 'running', position: EVENTS, rebuild: undefined });
      expect((await foundation.projections.get('order-counts', 'order-1'))?.state).toEqual({ count: 400 });
      const debug = await foundation.events.query({ types: ['debug.*'] });
      expect(debug.events).toHaveLength(5);
    });

    it('POST rebuild answers 202 and GET shows progress while it runs, then running with the same rows', async () => {
      gate.slow = true;
      try {
        const response = await post('/api/projections/order-counts/rebuild');
        expect(response.status).toBe(202);
        const started = (await response.json()) as ProjectionStatus;
        expect(started.state).toBe('rebuilding');
        expect(started.rebuild).toMatchObject({ target: EVENTS });
        const seen: ProjectionStatus[] = [];
        for (;;) {
          const status = await getJson<ProjectionStatus>('/api/projections/order-counts');
          seen.push(status);
          if (status.state !== 'rebuilding') break;
        }
        const during = seen.filter((s) => s.state === 'rebuilding');
        expect(during.length).toBeGreaterThan(0);
        for (const status of during) {
          expect(status.rebuild?.target).toBe(EVENTS);
          expect(status.rebuild?.position).toBeGreaterThanOrEqual(0);
          expect(status.rebuild?.position).toBeLessThanOrEqual(EVENTS);
          expect(status.rebuild?.ratio).toBeGreaterThanOrEqual(0);
          expect(status.rebuild?.ratio).toBeLessThanOrEqual(1);
        }
        const ratios = during.map((s) => s.rebuild?.ratio ?? 0);
        expect([...ratios].sort((a, b) => a - b)).toEqual(ratios);
        expect(seen.at(-1)).toMatchObject({ state: 'running', position: EVENTS });
      } finally {
        gate.slow = false;
      }
      expect((await foundation.projections.get('order-counts', 'order-1'))?.state).toEqual({ count: 400 });
      const { projections: list } = await getJson<{ projections: ProjectionStatus[] }>('/api/projections');
      expect(list.find((p) => p.name === 'order-counts')?.state).toBe('running');
    });

    it('POST rebuild of an inline projection rebuilds it before answering (200)', async () => {
      const before = await foundation.projections.get('type-counts', 'order.placed');
      const response = await post('/api/projections/type-counts/rebuild');
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ name: 'type-counts', mode: 'inline', state: 'running' });
      expect((await foundation.projections.get('type-counts', 'order.placed'))?.state).toEqual(before?.state);
      expect(before?.state).toBe(EVENTS);
    });

    it('POST restart restarts an async projection from its checkpoint', async () => {
      const response = await post('/api/projections/order-counts/restart');
      expect(response.status).toBe(200);
      const status = (await response.json()) as ProjectionStatus;
      expect(status).toMatchObject({ name: 'order-counts', state: 'running', position: EVENTS });
    });

    it('GET /api/retention shows policies; POST /api/retention/run deletes and reports', async () => {
      const before = await getJson<{ configured: boolean; policies: unknown[]; running: boolean }>(
        '/api/retention',
      );
      expect(before).toMatchObject({
        configured: true,
        policies: [{ types: 'debug.*', maxCount: 2 }],
        running: false,
      });
      const response = await post('/api/retention/run');
      expect(response.status).toBe(200);
      const { report } = (await response.json()) as { report: { deleted: number } };
      expect(report.deleted).toBe(3);
      expect((await foundation.events.query({ types: ['debug.*'] })).events).toHaveLength(2);
      const after = await getJson<{ lastReport: { deleted: number } | null; lastError: unknown }>(
        '/api/retention',
      );
      expect(after.lastReport?.deleted).toBe(3);
      expect(after.lastError).toBeNull();
    });
  });
}

opsSuite('memory', () => Promise.resolve({ url: 'memory:', drop: () => Promise.resolve() }));
opsSuite('SQLite', (dir) =>
  Promise.resolve({ url: `sqlite:${join(dir, 'ops.db')}`, drop: () => Promise.resolve() }),
);
describePg('control bus: event operations on PostgreSQL', () => {
  opsSuite('PostgreSQL', () => createTestSchema());
});

describe('control bus: retention not configured', () => {
  let foundation: Foundation;
  let bus: ControlBus;

  beforeAll(async () => {
    foundation = createFoundation({ name: 'plain-node', store: 'memory:' });
    foundation.add(controlBusService(foundation, { host: '127.0.0.1', port: 0, token: TOKEN }));
    await foundation.start();
    bus = foundation.registry.get<ControlBus>(SERVICES_NAMESPACE, CONTROL_BUS_SERVICE);
  });
  afterAll(async () => {
    await foundation.stop();
  });

  it('GET says configured: false; POST run is a 404 FND_CONFIG_NOT_FOUND problem; lists are empty', async () => {
    const get = await fetch(new URL('/api/retention', bus.url));
    expect(await get.json()).toMatchObject({ configured: false, policies: [], lastReport: null });
    const problem = await expectProblem(
      await fetch(new URL('/api/retention/run', bus.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
      404,
      'FND_CONFIG_NOT_FOUND',
    );
    expect(problem.detail).toMatch(/not configured/);
    const projections = await fetch(new URL('/api/projections', bus.url));
    expect(await projections.json()).toEqual({ projections: [] });
    const subscriptions = await fetch(new URL('/api/subscriptions', bus.url));
    expect(await subscriptions.json()).toMatchObject({ durable: [] });
  });

  it('answers 503 FND_SYSTEM_SERVICE_UNAVAILABLE for projections while their service is not running', async () => {
    await foundation.supervisor.remove('projections');
    await expectProblem(
      await fetch(new URL('/api/projections', bus.url)),
      503,
      'FND_SYSTEM_SERVICE_UNAVAILABLE',
    );
    await expectProblem(
      await fetch(new URL('/api/projections/anything', bus.url)),
      503,
      'FND_SYSTEM_SERVICE_UNAVAILABLE',
    );
    await expectProblem(
      await fetch(new URL('/api/projections/anything/rebuild', bus.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
      503,
      'FND_SYSTEM_SERVICE_UNAVAILABLE',
    );
  });
});
