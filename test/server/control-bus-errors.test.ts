import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentContext } from '../../src/errors/index.js';
import { startControlBus, testService, type RunningControlBus } from '../helpers/control-bus.js';
import { expectProblem, expectServicesRunning } from '../helpers/problem-assertions.js';

const TOKEN = 's3cret-token-value';
const SERVICES = ['db', 'cache', 'probe', 'control-bus'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Sends a raw HTTP request (for what fetch refuses to send) and returns status, headers and body. */
function rawRequest(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string | string[]>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('control bus: bad input is refused with problem+json and leaves the foundation unaffected', () => {
  let running: RunningControlBus;
  const seen: Array<{
    correlationId: string | undefined;
    causationId: string | undefined;
    operation: string | undefined;
  }> = [];

  beforeAll(async () => {
    running = await startControlBus({
      services: [
        testService('db'),
        testService('cache', { dependencies: ['db'] }),
        {
          name: 'probe',
          start: () => 'probe',
          stop: () => undefined,
          health: () => {
            const context = currentContext();
            seen.push({
              correlationId: context?.correlationId,
              causationId: context?.causationId,
              operation: context?.operation,
            });
            return { status: 'healthy' };
          },
        },
      ],
      bus: { token: TOKEN, bodyLimitBytes: 1024 },
    });
  });
  afterAll(async () => {
    await running[Symbol.asyncDispose]();
  });

  it('unknown route → 404 FND_HTTP_NOT_FOUND', async () => {
    const problem = await expectProblem(await running.fetch('/api/nothing?x=1'), 404, 'FND_HTTP_NOT_FOUND');
    expect(problem.detail).toBe('No route GET /api/nothing');
    await expectServicesRunning(running, SERVICES);
  });

  it('wrong method on a known route → 405 FND_HTTP_METHOD_NOT_ALLOWED with an Allow header', async () => {
    const response = await running.fetch('/api/status', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    const problem = await expectProblem(response, 405, 'FND_HTTP_METHOD_NOT_ALLOWED');
    expect(problem.detail).toBe('DELETE is not allowed on /api/status; allowed: GET, HEAD');
    await expectServicesRunning(running, SERVICES);
  });

  it('POST without a token → 401 FND_EXTERNAL_AUTHENTICATION_FAILED with WWW-Authenticate', async () => {
    const response = await running.fetch('/api/status', { method: 'POST' });
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="foundation-control-bus"');
    const problem = await expectProblem(response, 401, 'FND_EXTERNAL_AUTHENTICATION_FAILED');
    expect(problem.detail).toBe('Missing bearer token: send "Authorization: Bearer <token>"');
    await expectServicesRunning(running, SERVICES);
  });

  it('POST with a wrong token, a token of another length or another scheme → 401', async () => {
    for (const authorization of [
      `Bearer ${TOKEN}x`,
      'Bearer s',
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN.toUpperCase()}`,
    ]) {
      const response = await running.fetch('/api/status', { method: 'POST', headers: { authorization } });
      const problem = await expectProblem(response, 401, 'FND_EXTERNAL_AUTHENTICATION_FAILED');
      expect(problem.detail).toMatch(/^(Invalid bearer token|Missing bearer token.*)$/);
    }
    await expectServicesRunning(running, SERVICES);
  });

  it('POST with the right token passes the guard and reaches routing (405: no mutating route yet)', async () => {
    const response = await running.fetch('/api/status', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    await expectProblem(response, 405, 'FND_HTTP_METHOD_NOT_ALLOWED');
    const unknown = await running.fetch('/api/other', {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    await expectProblem(unknown, 404, 'FND_HTTP_NOT_FOUND');
  });

  it('a bus without a configured token refuses every mutating request', async () => {
    await using open = await startControlBus();
    const response = await open.fetch('/api/status', {
      method: 'POST',
      headers: { authorization: 'Bearer anything' },
    });
    const problem = await expectProblem(response, 401, 'FND_EXTERNAL_AUTHENTICATION_FAILED');
    expect(problem.detail).toBe('Mutating requests are disabled: the control bus has no token configured');
  });

  it('oversized body → 413 FND_HTTP_PAYLOAD_TOO_LARGE', async () => {
    const response = await running.fetch('/api/status', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ blob: 'x'.repeat(4096) }),
    });
    const problem = await expectProblem(response, 413, 'FND_HTTP_PAYLOAD_TOO_LARGE');
    expect(problem.detail).toBe('The request body exceeds the size limit');
    await expectServicesRunning(running, SERVICES);
  });

  it('malformed JSON → 400 FND_HTTP_BAD_REQUEST; empty JSON body → 400', async () => {
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const malformed = await running.fetch('/api/status', { method: 'POST', headers, body: '{"a":' });
    expect((await expectProblem(malformed, 400, 'FND_HTTP_BAD_REQUEST')).detail).toBe(
      'The body is not valid JSON',
    );
    const proto = await running.fetch('/api/status', {
      method: 'POST',
      headers,
      body: '{"__proto__":{"x":1}}',
    });
    expect(proto.status).toBe(400);
    await expectProblem(proto, 400, 'FND_HTTP_BAD_REQUEST');
    await expectServicesRunning(running, SERVICES);
  });

  it('a body that is not JSON → 415 FND_HTTP_UNSUPPORTED_MEDIA_TYPE', async () => {
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const response = await running.fetch('/api/status', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type },
        body: '<a/>',
      });
      await expectProblem(response, 415, 'FND_HTTP_UNSUPPORTED_MEDIA_TYPE');
    }
    await expectServicesRunning(running, SERVICES);
  });

  it('a URL over 4 KiB → 400 FND_HTTP_BAD_REQUEST; one over the HTTP parser limit → 400 problem too', async () => {
    const long = await running.fetch(`/api/registry?namespace=${'a'.repeat(5000)}`);
    expect((await expectProblem(long, 400, 'FND_HTTP_BAD_REQUEST')).detail).toBe(
      'The request URL is longer than 4096 characters',
    );
    const huge = await rawRequest(running.url, { path: `/api/status?q=${'b'.repeat(20_000)}` });
    expect(huge.status).toBe(400);
    expect(huge.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(JSON.parse(huge.body)).toMatchObject({ code: 'FND_HTTP_BAD_REQUEST', status: 400 });
    expect(huge.body).not.toContain('stack');
    await expectServicesRunning(running, SERVICES);
  });

  it('bad registry query values → 400 FND_HTTP_BAD_REQUEST', async () => {
    const cases = [
      '/api/registry?namespace=',
      '/api/registry?namespace=1abc',
      '/api/registry?namespace=a%20b',
      '/api/registry?namespace=%00',
      '/api/registry?namespace=constructor',
      `/api/registry?namespace=${'n'.repeat(129)}`,
      '/api/registry?namespace=a&namespace=b',
      '/api/registry?health=yes',
      '/api/registry?limit=10',
    ];
    for (const path of cases) {
      const problem = await expectProblem(await running.fetch(path), 400, 'FND_HTTP_BAD_REQUEST');
      expect(problem.detail).toMatch(/^(Invalid namespace|Invalid health parameter|Unknown query parameter)/);
    }
    await expectServicesRunning(running, SERVICES);
  });

  it('an invalid x-correlation-id is replaced by a fresh one; a valid one reaches the request context', async () => {
    for (const bad of ['', 'has space', 'x'.repeat(129), 'semi;colon', 'ünïcode', '<script>']) {
      const response = await rawRequest(running.url, {
        path: '/api/status',
        headers: { 'x-correlation-id': Buffer.from(bad, 'utf8').toString('latin1') },
      });
      expect(response.status).toBe(200);
      expect(response.headers['x-correlation-id']).toMatch(UUID);
    }
    seen.length = 0;
    const response = await running.fetch('/health/ready', {
      headers: { 'x-correlation-id': 'trace-123', 'x-causation-id': 'caller-op-7' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-correlation-id')).toBe('trace-123');
    expect(seen).toContainEqual({
      correlationId: 'trace-123',
      causationId: 'caller-op-7',
      operation: 'http GET /health/ready',
    });
  });

  it('garbage headers: duplicated correlation ids, many headers, a malformed request line', async () => {
    const duplicated = await rawRequest(running.url, {
      path: '/api/status',
      headers: { 'x-correlation-id': ['one', 'two'] },
    });
    expect(duplicated.status).toBe(200);
    expect(duplicated.headers['x-correlation-id']).toMatch(UUID);

    const many: Record<string, string> = {};
    for (let i = 0; i < 200; i++) many[`x-junk-${i}`] = `value-${i}`;
    expect((await rawRequest(running.url, { path: '/api/status', headers: many })).status).toBe(200);

    const invalidHeader = await new Promise<string>((resolve, reject) => {
      void import('node:net').then(({ createConnection }) => {
        const target = new URL(running.url);
        const socket = createConnection({ host: target.hostname, port: Number(target.port) });
        let data = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (data += chunk));
        socket.on('end', () => {
          resolve(data);
        });
        socket.on('error', reject);
        socket.write('GET /api/status HTTP/1.1\r\nHost: x\r\nBad Header Name: \x01\x02\r\n\r\n');
      });
    });
    expect(invalidHeader).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(invalidHeader).toContain('content-type: application/problem+json; charset=utf-8');
    expect(invalidHeader).toContain('"code":"FND_HTTP_BAD_REQUEST"');
    expect(invalidHeader).not.toContain('stack');
    await expectServicesRunning(running, SERVICES);
  });

  it('HEAD on the stream route is not allowed (it would open a stream)', async () => {
    const response = await running.fetch('/api/status/stream', { method: 'HEAD' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});
