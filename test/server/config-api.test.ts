/**
 * Control bus: the configuration routes on a real fastify server over a real foundation whose config has a
 * schema, mutable paths, a secret and a vetoing subscriber — on memory, on a SQLite file and on PostgreSQL.
 * Every refused request is checked for its status and catalog code AND for leaving the configuration (its
 * version and values) untouched.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createFoundation, SERVICES_NAMESPACE } from '../../src/app/foundation.js';
import type { ConfigUpdateResult, ConfigVersionDetail, ConfigVersionInfo } from '../../src/config/types.js';
import { CONTROL_BUS_SERVICE, controlBusService, type ControlBus } from '../../src/server/index.js';
import { createTestSchema, describePg } from '../helpers/postgres.js';
import { expectProblem } from '../helpers/problem-assertions.js';

const TOKEN = 'config-api-token';
const SECRET = 'sk-live-very-secret-value';
const VETOED_RPS = 666;

const schema = z.object({
  app: z
    .object({
      name: z.string().min(1).max(100).default('orders'),
      mode: z.enum(['fast', 'safe']).default('safe'),
      apiKey: z.string().default(SECRET),
      limits: z
        .object({
          rps: z.number().int().min(1).max(10_000).default(100),
          burst: z.number().int().min(0).default(10),
        })
        .prefault({}),
      tags: z.array(z.string()).default([]),
      blob: z.unknown().optional(),
    })
    .prefault({}),
});

interface ConfigBody {
  version: number;
  config: { app: Record<string, unknown> & { limits: { rps: number; burst: number } } };
  mutable: string[];
  status: { version: number; persisted: boolean };
}

function buildFoundation(dir: string, store: string) {
  return createFoundation({
    name: 'config-node',
    dataDir: dir,
    store,
    config: {
      schema,
      mutable: ['app.limits.*', 'app.name', 'app.apiKey', 'app.tags', 'app.blob'],
      secrets: ['app.apiKey'],
    },
  });
}

interface TestStore {
  readonly url: string;
  drop(): Promise<void>;
}

function configSuite(label: string, storeFor: (dir: string) => Promise<TestStore>): void {
  describe(`control bus: configuration routes (${label})`, () => {
    let dir: string;
    let store: TestStore;
    let foundation: ReturnType<typeof buildFoundation>;
    let bus: ControlBus;

    const call = (path: string, init: RequestInit = {}): Promise<Response> =>
      fetch(new URL(path, bus.url), init);
    const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
      call(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const getJson = async <T>(path: string): Promise<T> => {
      const response = await call(path);
      expect(response.status, path).toBe(200);
      return (await response.json()) as T;
    };
    const current = (): Promise<ConfigBody> => getJson<ConfigBody>('/api/config');

    /** Runs `request`, expects the problem, and checks that version and values did not move. */
    const refusedWithoutChange = async (
      request: () => Promise<Response>,
      status: number,
      code: string,
    ): Promise<void> => {
      const before = await current();
      await expectProblem(await request(), status, code);
      const after = await current();
      expect(after.version).toBe(before.version);
      expect(after.config).toEqual(before.config);
      expect(foundation.config.version).toBe(before.version);
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'config-api-'));
      store = await storeFor(dir);
      foundation = buildFoundation(dir, store.url);
      foundation.add(controlBusService(foundation, { host: '127.0.0.1', port: 0, token: TOKEN }));
      await foundation.start();
      bus = foundation.registry.get<ControlBus>(SERVICES_NAMESPACE, CONTROL_BUS_SERVICE);
      foundation.config.subscribe('app.limits', {
        prepare: (proposal) =>
          proposal.proposed.app.limits.rps === VETOED_RPS ? { veto: 'rps 666 is cursed' } : undefined,
      });
    });

    afterAll(async () => {
      await foundation.stop();
      await store.drop();
      await rm(dir, { recursive: true, force: true });
    });

    it('GET /api/config shows version, redacted config, mutable paths and status', async () => {
      const response = await call('/api/config');
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).not.toContain(SECRET);
      const body = JSON.parse(text) as ConfigBody;
      expect(body.version).toBe(foundation.config.version);
      expect(body.version).toBeGreaterThanOrEqual(1);
      expect(body.config.app).toMatchObject({
        name: 'orders',
        mode: 'safe',
        apiKey: '[redacted]',
        limits: { rps: 100, burst: 10 },
      });
      expect(body.mutable).toEqual(expect.arrayContaining(['app.limits.*', 'app.name']));
      expect(body.status.version).toBe(body.version);
      expect((await call('/api/config', { method: 'HEAD' })).status).toBe(200);
    });

    it('GET /api/config/explain tells where a value comes from; bad paths are refused', async () => {
      const explained = await getJson<Record<string, unknown>>('/api/config/explain?path=app.limits.rps');
      expect(explained).toMatchObject({ path: 'app.limits.rps', value: 100, mutable: true, secret: false });
      const secret = await call('/api/config/explain?path=app.apiKey');
      const secretText = await secret.text();
      expect(secretText).not.toContain(SECRET);
      expect(JSON.parse(secretText)).toMatchObject({ secret: true, value: '[redacted]' });

      await expectProblem(await call('/api/config/explain?path=app.nope'), 404, 'FND_CONFIG_UNKNOWN_PATH');
      await expectProblem(await call('/api/config/explain?path=__proto__'), 400, 'FND_CONFIG_INVALID_PATH');
      await expectProblem(await call('/api/config/explain?path=a..b'), 400, 'FND_CONFIG_INVALID_PATH');
      await expectProblem(await call('/api/config/explain'), 400, 'FND_HTTP_BAD_REQUEST');
      await expectProblem(await call('/api/config/explain?path=a&path=b'), 400, 'FND_HTTP_BAD_REQUEST');
      await expectProblem(await call('/api/config/explain?path=a&x=1'), 400, 'FND_HTTP_BAD_REQUEST');
      await expectProblem(await call('/api/config?x=1'), 400, 'FND_HTTP_BAD_REQUEST');
    });

    it('POST /api/config applies a batch as one version, with actor control-bus and the request correlation id', async () => {
      const before = await current();
      const correlationId = 'cfg-corr-0001';
      const response = await post(
        '/api/config',
        {
          changes: [
            { path: 'app.limits.rps', value: 250 },
            { path: 'app.name', value: 'orders-eu' },
          ],
          expectedVersion: before.version,
          reason: 'traffic spike',
        },
        { 'x-correlation-id': correlationId },
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('x-correlation-id')).toBe(correlationId);
      const result = (await response.json()) as ConfigUpdateResult;
      expect(result).toMatchObject({
        applied: true,
        dryRun: false,
        valid: true,
        version: before.version + 1,
        previousVersion: before.version,
      });
      expect(result.changes.map((c) => [c.path, c.old, c.new]).sort()).toEqual([
        ['app.limits.rps', 100, 250],
        ['app.name', 'orders', 'orders-eu'],
      ]);
      expect(foundation.config.version).toBe(before.version + 1);
      const after = await current();
      expect(after.config.app.limits.rps).toBe(250);

      const { versions } = await getJson<{ version: number; versions: ConfigVersionInfo[] }>(
        '/api/config/history?limit=1',
      );
      expect(versions).toHaveLength(1);
      expect(versions[0]).toMatchObject({
        version: before.version + 1,
        kind: 'update',
        actor: 'control-bus',
        reason: 'traffic spike',
        correlationId,
      });

      // a named actor is kept
      const named = await post('/api/config', {
        changes: [{ path: 'app.limits.burst', value: 20 }],
        actor: 'ops-alice',
      });
      expect(named.status).toBe(200);
      const latest = await getJson<{ versions: ConfigVersionInfo[] }>('/api/config/history?limit=1');
      expect(latest.versions[0]?.actor).toBe('ops-alice');
    });

    it('a dry run shows the diff and applies nothing; an invalid dry run is 200 with valid: false', async () => {
      const before = await current();
      const dry = await post('/api/config', {
        changes: [{ path: 'app.limits.rps', value: 300 }],
        dryRun: true,
      });
      expect(dry.status).toBe(200);
      expect(await dry.json()).toMatchObject({
        applied: false,
        dryRun: true,
        valid: true,
        version: before.version,
        changes: [{ path: 'app.limits.rps', old: before.config.app.limits.rps, new: 300 }],
      });
      const invalid = await post('/api/config', {
        changes: [{ path: 'app.limits.rps', value: 1_000_000 }],
        dryRun: true,
      });
      expect(invalid.status).toBe(200);
      const body = (await invalid.json()) as ConfigUpdateResult;
      expect(body).toMatchObject({ applied: false, dryRun: true, valid: false });
      expect(body.issues.length).toBeGreaterThan(0);
      expect(body.issues[0]?.path).toBe('app.limits.rps');
      const after = await current();
      expect(after.version).toBe(before.version);
      expect(after.config).toEqual(before.config);
    });

    it('secret values never come back: results and history are redacted', async () => {
      const newSecret = 'sk-live-rotated-secret-123';
      const response = await post('/api/config', { changes: [{ path: 'app.apiKey', value: newSecret }] });
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).not.toContain(newSecret);
      expect(text).not.toContain(SECRET);
      const history = await call('/api/config/history');
      const historyText = await history.text();
      expect(historyText).not.toContain(newSecret);
      expect(historyText).not.toContain(SECRET);
      const { version } = await current();
      const detail = await call(`/api/config/versions/${version}`);
      const detailText = await detail.text();
      expect(detail.status).toBe(200);
      expect(detailText).not.toContain(newSecret);
      expect((JSON.parse(detailText) as ConfigVersionDetail).config).toMatchObject({
        app: { apiKey: '[redacted]' },
      });
    });

    it('config errors map to problem+json: 403 forbidden, 409 conflict and veto, 404 unknown, 400 invalid', async () => {
      const { version } = await current();
      await refusedWithoutChange(
        () => post('/api/config', { changes: [{ path: 'app.mode', value: 'fast' }] }),
        403,
        'FND_CONFIG_UPDATE_FORBIDDEN',
      );
      await refusedWithoutChange(
        () =>
          post('/api/config', {
            changes: [{ path: 'app.limits.rps', value: 5 }],
            expectedVersion: version - 1,
          }),
        409,
        'FND_CONFIG_VERSION_CONFLICT',
      );
      await refusedWithoutChange(
        () => post('/api/config', { changes: [{ path: 'app.limits.rps', value: VETOED_RPS }] }),
        409,
        'FND_CONFIG_UPDATE_VETOED',
      );
      await refusedWithoutChange(
        () => post('/api/config', { changes: [{ path: 'app.limits.rps', value: 1_000_000 }] }),
        400,
        'FND_CONFIG_INVALID_VALUE',
      );
      await refusedWithoutChange(
        () => post('/api/config', { changes: [{ path: 'app.limits.rps', value: 'fast' }] }),
        400,
        'FND_CONFIG_INVALID_VALUE',
      );
      await refusedWithoutChange(
        () => post('/api/config/rollback', { version: 99_999 }),
        404,
        'FND_CONFIG_VERSION_NOT_FOUND',
      );
      await expectProblem(await call('/api/config/versions/99999'), 404, 'FND_CONFIG_VERSION_NOT_FOUND');
    });

    it('GET /api/config/history pages newest first; GET /api/config/versions/:version returns one', async () => {
      const all = await getJson<{ version: number; versions: ConfigVersionInfo[] }>('/api/config/history');
      expect(all.versions.length).toBeGreaterThanOrEqual(4);
      expect(all.versions[0]?.version).toBe(all.version);
      const numbers = all.versions.map((v) => v.version);
      expect(numbers).toEqual([...numbers].sort((a, b) => b - a));
      const page = await getJson<{ versions: ConfigVersionInfo[] }>(
        `/api/config/history?limit=2&before=${all.version}`,
      );
      expect(page.versions.map((v) => v.version)).toEqual([all.version - 1, all.version - 2]);
      const first = await getJson<ConfigVersionDetail>('/api/config/versions/1');
      expect(first.version).toBe(1);
      expect(first.config).toMatchObject({ app: { limits: { rps: 100 } } });
      for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'before=-1', 'limit=1&limit=2', 'other=1']) {
        await expectProblem(await call(`/api/config/history?${query}`), 400, 'FND_HTTP_BAD_REQUEST');
      }
      for (const version of ['0', 'abc', '-1', '1.5', '9'.repeat(30)]) {
        await expectProblem(await call(`/api/config/versions/${version}`), 400, 'FND_HTTP_BAD_REQUEST');
      }
    });

    it('POST /api/config/rollback creates a new version equal to an old one', async () => {
      const before = await current();
      const dry = await post('/api/config/rollback', { version: 1, dryRun: true });
      expect(dry.status).toBe(200);
      expect(await dry.json()).toMatchObject({ applied: false, dryRun: true, version: before.version });
      expect((await current()).version).toBe(before.version);

      const response = await post('/api/config/rollback', {
        version: 1,
        expectedVersion: before.version,
        reason: 'back to the start',
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ applied: true, version: before.version + 1 });
      const after = await current();
      expect(after.config.app).toMatchObject({ name: 'orders', limits: { rps: 100, burst: 10 } });
      const { versions } = await getJson<{ versions: ConfigVersionInfo[] }>('/api/config/history?limit=1');
      expect(versions[0]).toMatchObject({
        kind: 'rollback',
        rolledBackTo: 1,
        actor: 'control-bus',
        reason: 'back to the start',
      });
    });

    const validChange = { changes: [{ path: 'app.limits.rps', value: 42 }] };

    it.each<[string, () => unknown, number, string]>([
      ['an unknown body member', () => ({ ...validChange, force: true }), 400, 'FND_HTTP_BAD_REQUEST'],
      [
        'an unknown change member',
        () => ({ changes: [{ path: 'app.name', value: 'x', op: 'set' }] }),
        400,
        'FND_HTTP_BAD_REQUEST',
      ],
      ['changes as an object', () => ({ changes: { 'app.name': 'x' } }), 400, 'FND_HTTP_BAD_REQUEST'],
      ['no changes', () => ({ changes: [] }), 400, 'FND_HTTP_BAD_REQUEST'],
      ['a body array', () => [{ path: 'app.name', value: 'x' }], 400, 'FND_HTTP_BAD_REQUEST'],
      ['a JSON null body', () => 'null', 400, 'FND_HTTP_BAD_REQUEST'],
      ['a JSON string body', () => '"changes"', 400, 'FND_HTTP_BAD_REQUEST'],
      ['a body that is not JSON', () => '{"changes": [', 400, 'FND_HTTP_BAD_REQUEST'],
      ['an empty body', () => '', 400, 'FND_HTTP_BAD_REQUEST'],
      [
        'expectedVersion as a string',
        () => ({ ...validChange, expectedVersion: '1' }),
        400,
        'FND_HTTP_BAD_REQUEST',
      ],
      ['dryRun as a string', () => ({ ...validChange, dryRun: 'yes' }), 400, 'FND_HTTP_BAD_REQUEST'],
      ['reason as a number', () => ({ ...validChange, reason: 7 }), 400, 'FND_HTTP_BAD_REQUEST'],
      [
        'a reason over 500 characters',
        () => ({ ...validChange, reason: 'r'.repeat(501) }),
        400,
        'FND_HTTP_BAD_REQUEST',
      ],
      ['a path that is a number', () => ({ changes: [{ path: 5, value: 1 }] }), 400, 'FND_HTTP_BAD_REQUEST'],
      ['a change without value', () => ({ changes: [{ path: 'app.name' }] }), 400, 'FND_HTTP_BAD_REQUEST'],
      [
        'value and unset: true',
        () => ({ changes: [{ path: 'app.name', value: 'x', unset: true }] }),
        400,
        'FND_HTTP_BAD_REQUEST',
      ],
      [
        'a __proto__ path',
        () => ({ changes: [{ path: '__proto__.polluted', value: 1 }] }),
        400,
        'FND_CONFIG_INVALID_PATH',
      ],
      [
        'a constructor.prototype path',
        () => ({ changes: [{ path: 'app.constructor.prototype', value: 1 }] }),
        400,
        'FND_CONFIG_INVALID_PATH',
      ],
      [
        'a __proto__ key inside a value',
        () => '{"changes":[{"path":"app.blob","value":{"__proto__":{"polluted":1}}}]}',
        400,
        'FND_HTTP_BAD_REQUEST',
      ],
      [
        'a __proto__ body member',
        () => '{"__proto__":{"polluted":1},"changes":[{"path":"app.name","value":"x"}]}',
        400,
        'FND_HTTP_BAD_REQUEST',
      ],
      [
        'a malformed path',
        () => ({ changes: [{ path: 'app..name', value: 'x' }] }),
        400,
        'FND_CONFIG_INVALID_PATH',
      ],
      [
        'a mutable path the schema does not declare',
        () => ({ changes: [{ path: 'app.limits.nope', value: 1 }] }),
        404,
        'FND_CONFIG_UNKNOWN_PATH',
      ],
      [
        'a path that is not mutable',
        () => ({ changes: [{ path: 'app.other', value: 1 }] }),
        403,
        'FND_CONFIG_UPDATE_FORBIDDEN',
      ],
      [
        'a constructor key inside a value',
        () => '{"changes":[{"path":"app.blob","value":{"constructor":{"prototype":{"polluted":1}}}}]}',
        400,
        'FND_HTTP_BAD_REQUEST',
      ],
      [
        'the same path twice',
        () => ({
          changes: [
            { path: 'app.name', value: 'a' },
            { path: 'app.name', value: 'b' },
          ],
        }),
        400,
        'FND_CONFIG_INVALID_STRUCTURE',
      ],
      [
        'a value over the config limit (100 KiB)',
        () => ({ changes: [{ path: 'app.blob', value: 'x'.repeat(100 * 1024) }] }),
        413,
        'FND_CONFIG_VALUE_TOO_LARGE',
      ],
      [
        'a value nested 5000 deep',
        () => `{"changes":[{"path":"app.blob","value":${'['.repeat(5000)}${']'.repeat(5000)}}]}`,
        413,
        'FND_CONFIG_VALUE_TOO_LARGE',
      ],
      [
        'more changes than the config allows',
        () => ({ changes: Array.from({ length: 101 }, (_, i) => ({ path: `app.tags${i}`, value: 1 })) }),
        413,
        'FND_CONFIG_VALUE_TOO_LARGE',
      ],
      [
        'a body over 256 KiB',
        () => ({ changes: [{ path: 'app.blob', value: 'x'.repeat(300 * 1024) }] }),
        413,
        'FND_HTTP_PAYLOAD_TOO_LARGE',
      ],
    ])('POST /api/config refuses %s and changes nothing', async (_label, body, status, code) => {
      await refusedWithoutChange(() => post('/api/config', body()), status, code);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('refuses mutating requests without the right token, and other media types, changing nothing', async () => {
      const body = JSON.stringify(validChange);
      await refusedWithoutChange(
        () => call('/api/config', { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
        401,
        'FND_EXTERNAL_AUTHENTICATION_FAILED',
      );
      await refusedWithoutChange(
        () => post('/api/config', validChange, { authorization: 'Bearer wrong-token' }),
        401,
        'FND_EXTERNAL_AUTHENTICATION_FAILED',
      );
      await refusedWithoutChange(
        () =>
          call('/api/config/rollback', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"version":1}',
          }),
        401,
        'FND_EXTERNAL_AUTHENTICATION_FAILED',
      );
      await refusedWithoutChange(
        () => post('/api/config', body, { 'content-type': 'text/plain' }),
        415,
        'FND_HTTP_UNSUPPORTED_MEDIA_TYPE',
      );
      await refusedWithoutChange(
        () => post('/api/config?dryRun=true', validChange),
        400,
        'FND_HTTP_BAD_REQUEST',
      );
      await refusedWithoutChange(
        () => call('/api/config', { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}` } }),
        405,
        'FND_HTTP_METHOD_NOT_ALLOWED',
      );
    });

    it.each<[string, unknown, number, string]>([
      ['no version', {}, 400, 'FND_HTTP_BAD_REQUEST'],
      ['a version string', { version: '1' }, 400, 'FND_HTTP_BAD_REQUEST'],
      ['version 0', { version: 0 }, 400, 'FND_HTTP_BAD_REQUEST'],
      ['an unknown member', { version: 1, changes: [] }, 400, 'FND_HTTP_BAD_REQUEST'],
      ['a stale expectedVersion', { version: 1, expectedVersion: 1 }, 409, 'FND_CONFIG_VERSION_CONFLICT'],
      ['an unknown version', { version: 123_456 }, 404, 'FND_CONFIG_VERSION_NOT_FOUND'],
    ])('POST /api/config/rollback refuses %s and changes nothing', async (_label, body, status, code) => {
      await refusedWithoutChange(() => post('/api/config/rollback', body), status, code);
    });

    it('after every refusal the config still accepts a valid change', async () => {
      const before = await current();
      const response = await post('/api/config', { changes: [{ path: 'app.tags', value: ['a', 'b'] }] });
      expect(response.status).toBe(200);
      expect((await current()).version).toBe(before.version + 1);
      expect(foundation.config.snapshot()).toMatchObject({ app: { tags: ['a', 'b'] } });
    });
  });
}

configSuite('memory', () => Promise.resolve({ url: 'memory:', drop: () => Promise.resolve() }));
configSuite('SQLite', (dir) =>
  Promise.resolve({ url: `sqlite:${join(dir, 'config.db')}`, drop: () => Promise.resolve() }),
);
describePg('control bus: configuration routes on PostgreSQL', () => {
  configSuite('PostgreSQL', () => createTestSchema());
});
