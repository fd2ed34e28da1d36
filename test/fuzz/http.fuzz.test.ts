/**
 * Fuzz: the control bus HTTP API. Random requests — methods, known and unknown paths with random segments,
 * random query strings, headers (content types, right / wrong / missing bearer tokens, correlation ids) and
 * bodies (JSON, shaped like the routes' bodies, or garbage) — go to a real foundation's control bus over
 * TCP. Every answer is below 500; every error is `application/problem+json` with a catalog code and no stack
 * trace; a refused request changes nothing (config version and contents, event log); and nothing changes
 * state without the token. The two server-sent-event streams are left out (a valid request never ends).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErrorCode } from '../../src/errors/index.js';
import { startControlBus, type RunningControlBus } from '../helpers/control-bus.js';
import { fuzz, STACK_TRACE } from './fuzz.js';

const TOKEN = 'fuzz-token-0123456789';

/** Route templates (`:x` filled with random segments); streams left out. */
const ROUTES = [
  '/health/live',
  '/health/ready',
  '/api/status',
  '/api/registry',
  '/api/events',
  '/api/events/aggregate',
  '/api/events/:id',
  '/api/events/correlation/:id',
  '/api/streams/:id',
  '/api/subscriptions',
  '/api/projections',
  '/api/projections/:id',
  '/api/projections/:id/rebuild',
  '/api/projections/:id/restart',
  '/api/retention',
  '/api/retention/run',
  '/api/config',
  '/api/config/explain',
  '/api/config/history',
  '/api/config/versions/:id',
  '/api/config/rollback',
  '/api/protection',
  '/api/protection/:id',
  '/api/protection/:id/isolate',
  '/api/protection/:id/reset',
  '/metrics',
  '/api/metrics',
  '/api/metrics/series',
  '/',
  '/app.js',
  '/style.css',
  '/favicon.svg',
] as const;

const QUERY_KEYS = [
  'type',
  'stream',
  'limit',
  'after',
  'before',
  'from',
  'to',
  'cursor',
  'path',
  'name',
  'namespace',
  'health',
  'correlationId',
  'order',
  'where',
  'groupBy',
  'bucket',
  'resolution',
  'direction',
  '__proto__',
] as const;

/** Text that survives `fetch` (no control characters in header values). */
const printable = fc.string({ unit: fc.constantFrom(...'abcXYZ019-_.:/ %?&=#"\'{}[]<>;,'.split('')) });

const segment = fc.oneof(
  fc.stringMatching(/^[a-z0-9-]{1,12}$/),
  fc.string({ maxLength: 20 }).map((s) => encodeURIComponent(s)),
  // (Malformed percent-encodings like `%ff` have their own test below.)
  fc.constantFrom('..', '%2e%2e', '%00', '%25', 'config-v1', '1', '0', '-1', '99999999999999999999'),
);

const path = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom(...ROUTES), segment)
      .map(([route, value]) => route.replace(':id', value)),
  },
  {
    weight: 2,
    arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`),
  },
);

const query = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...QUERY_KEYS), printable),
      fc.oneof(printable, fc.integer().map(String), fc.constantFrom('true', 'false', '', '1e309', 'NaN')),
    ),
    { maxLength: 4 },
  )
  .map((pairs) => (pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`));

const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant(`Bearer ${TOKEN}`),
  fc.constant(`bearer ${TOKEN}`),
  fc.constant(`Bearer ${TOKEN}x`),
  printable.map((s) => `Bearer ${s}`),
  printable,
);

const contentType = fc.oneof(
  fc.constant('application/json'),
  fc.constant('application/json; charset=utf-8'),
  fc.constant(undefined),
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/problem+json'),
  printable,
);

const shapedBody = fc.oneof(
  fc.record({
    type: fc.oneof(fc.constant('fuzz.happened'), fc.string()),
    data: fc.jsonValue({ maxDepth: 2 }),
  }),
  fc.record({
    changes: fc.array(
      fc.record({
        path: fc.oneof(fc.constant('foundation.events.maxHealthyLag'), fc.string()),
        value: fc.jsonValue(),
      }),
      { maxLength: 3 },
    ),
    expectedVersion: fc.oneof(fc.integer(), fc.string()),
    dryRun: fc.boolean(),
  }),
  fc.record({ version: fc.oneof(fc.integer(), fc.string()) }),
);

const body = fc.oneof(
  fc.constant(undefined),
  shapedBody.map((value) => JSON.stringify(value)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{}}}',
    '{',
    '[]',
    'null',
    '"x"',
  ),
  fc.constant('x'.repeat(70_000)),
);

const request = fc.record({
  method: fc.oneof(
    { weight: 4, arbitrary: fc.constant('GET') },
    { weight: 4, arbitrary: fc.constant('POST') },
    { weight: 1, arbitrary: fc.constantFrom('HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') },
  ),
  path,
  query,
  authorization,
  contentType,
  correlationId: fc.oneof(fc.constant(undefined), printable),
  accept: fc.oneof(fc.constant(undefined), fc.constantFrom('application/openmetrics-text', '*/*'), printable),
  body,
});

/** Requests that carry the token and JSON to the routes that change state. */
const authorizedWrite = fc.record({
  method: fc.constant('POST'),
  path: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('/api/events', '/api/config', '/api/config/rollback') },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(
            '/api/projections/:id/rebuild',
            '/api/projections/:id/restart',
            '/api/protection/:id/isolate',
            '/api/protection/:id/reset',
            '/api/retention/run',
          ),
          segment,
        )
        .map(([route, value]) => route.replace(':id', value)),
    },
  ),
  query: fc.constant(''),
  authorization: fc.constant(`Bearer ${TOKEN}`),
  contentType: fc.constant('application/json'),
  correlationId: fc.constant(undefined),
  accept: fc.constant(undefined),
  body: fc.oneof(
    { weight: 4, arbitrary: shapedBody.map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: body },
  ),
});

type FuzzRequest = typeof request extends fc.Arbitrary<infer R> ? R : never;

/** What a refused request must leave as it was. */
interface Observed {
  readonly configVersion: number;
  readonly config: string;
  readonly lastPosition: number;
}

async function observe(running: RunningControlBus): Promise<Observed> {
  const events = await running.foundation.events.readAll({ limit: 10_000 });
  return {
    configVersion: running.foundation.config.version,
    config: JSON.stringify(running.foundation.config.snapshot()),
    lastPosition: events.at(-1)?.position ?? 0,
  };
}

function init(req: FuzzRequest): RequestInit {
  const headers = new Headers();
  if (req.authorization !== undefined) headers.set('authorization', req.authorization);
  if (req.contentType !== undefined) headers.set('content-type', req.contentType);
  if (req.correlationId !== undefined) headers.set('x-correlation-id', req.correlationId);
  if (req.accept !== undefined) headers.set('accept', req.accept);
  const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : req.body;
  return { method: req.method, headers, ...(body === undefined ? {} : { body }) };
}

describe('fuzz: http (control bus)', () => {
  let running: RunningControlBus;

  beforeAll(async () => {
    running = await startControlBus({ name: 'fuzz-http', bus: { token: TOKEN } });
  });
  afterAll(async () => {
    await running[Symbol.asyncDispose]();
  });

  /** Sends `req` and checks the answer and the state; returns the status. */
  async function check(req: FuzzRequest): Promise<number> {
    const before = await observe(running);
    // (Concatenated, not resolved: a path like `//x` is a path here, not a protocol-relative URL.)
    const response = await fetch(`${new URL(running.url).origin}${req.path}${req.query}`, init(req));
    const text = await response.text();
    const where = `${req.method} ${req.path}${req.query} → ${response.status} ${text.slice(0, 300)}`;
    expect(response.status, where).toBeLessThan(500);
    expect(response.headers.get('x-correlation-id'), where).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    const after = await observe(running);
    const mutating = req.method !== 'GET' && req.method !== 'HEAD';
    const authorized = req.authorization === `Bearer ${TOKEN}` || req.authorization === `bearer ${TOKEN}`;
    if (response.status >= 400 || !mutating || !authorized) {
      // Refused, read-only, or without the token: the state is exactly as it was.
      expect(after, where).toEqual(before);
    }
    if (mutating && !authorized) expect(response.status, where).toBeGreaterThanOrEqual(400);
    if (response.status < 400) return response.status;
    expect(response.headers.get('content-type'), where).toBe('application/problem+json; charset=utf-8');
    if (req.method === 'HEAD') return response.status;
    expect(text, where).not.toMatch(STACK_TRACE);
    expect(text, where).not.toMatch(/"stack"/);
    const problem = JSON.parse(text) as { code: unknown; status: unknown; correlationId: unknown };
    expect(isErrorCode(problem.code), where).toBe(true);
    expect(problem.status, where).toBe(response.status);
    expect(problem.correlationId, where).toBe(response.headers.get('x-correlation-id'));
    if (response.status === 405) expect(response.headers.get('allow'), where).toMatch(/^[A-Z, ]+$/);
    return response.status;
  }

  it('fuzz: http — random requests get < 500, problem+json with a catalog code, and change nothing unless accepted with the token', async (context) => {
    const statuses = new Map<number, number>();
    await fuzz(
      context,
      fc.asyncProperty(request, async (req) => {
        const status = await check(req);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }),
    );
    // The generators reach the success path, client errors and the auth check.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
    expect(statuses.get(404) ?? 0).toBeGreaterThan(0);
  });

  it('fuzz: http — authorized writes with random JSON bodies are applied or refused whole', async (context) => {
    let applied = 0;
    let refused = 0;
    await fuzz(
      context,
      fc.asyncProperty(authorizedWrite, async (req) => {
        const status = await check(req);
        if (status < 400) applied += 1;
        else refused += 1;
      }),
    );
    expect(applied).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  // Found by the fuzz run: a URL fastify cannot decode (`/%ff`) was answered by fastify's own
  // `FST_ERR_BAD_URL` JSON, before the hooks; the `frameworkErrors` handler of src/server/http-app.ts answers it.
  it('fuzz: http — a path with a malformed percent-encoding gets a 400 problem+json', async () => {
    for (const path of ['/%ff', '/api/events/%ff', '/api/config/versions/%e0%a4', '/%']) {
      const response = await fetch(`${new URL(running.url).origin}${path}`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      expect(response.headers.get('x-correlation-id')).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
      const problem = (await response.json()) as { code: string };
      expect(problem.code).toBe('FND_HTTP_BAD_REQUEST');
    }
  });
});
