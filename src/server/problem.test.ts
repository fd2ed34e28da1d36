import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, FoundationError } from '../errors/index.js';
import { problemBody, toHttpError } from './problem.js';

function fastifyError(code: string, statusCode: number, message = 'internal detail /srv/app.js:12'): Error {
  return Object.assign(new Error(message), { code, statusCode });
}

describe('control-bus problem details', () => {
  it('maps fastify request errors to HTTP catalog codes with safe details', () => {
    const cases: Array<[Error, string, string]> = [
      [
        fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413),
        'FND_HTTP_PAYLOAD_TOO_LARGE',
        'The request body exceeds the size limit',
      ],
      [
        fastifyError('FST_ERR_CTP_INVALID_JSON_BODY', 400),
        'FND_HTTP_BAD_REQUEST',
        'The body is not valid JSON',
      ],
      [
        fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415),
        'FND_HTTP_UNSUPPORTED_MEDIA_TYPE',
        'The request content type is not supported; send application/json',
      ],
      [
        fastifyError('FST_ERR_SOMETHING_NEW', 413),
        'FND_HTTP_PAYLOAD_TOO_LARGE',
        'The request body is too large',
      ],
      [fastifyError('FST_ERR_SOMETHING_NEW', 422), 'FND_HTTP_BAD_REQUEST', 'The request is malformed'],
    ];
    for (const [error, code, detail] of cases) {
      const mapped = toHttpError(error, 'corr-1');
      expect(mapped.code).toBe(code);
      expect(mapped.message).toBe(detail);
      expect(mapped.correlationId).toBe('corr-1');
      expect(mapped.cause).toBe(error);
    }
  });

  it('serves anything unexpected as FND_SYSTEM_INTERNAL without its message', () => {
    const secret = new TypeError('cannot read x of undefined at /srv/secret/path.js:42');
    const mapped = toHttpError(secret, 'corr-2');
    expect(mapped.code).toBe('FND_SYSTEM_INTERNAL');
    const body = JSON.stringify(problemBody(mapped, 'corr-2'));
    expect(body).not.toContain('secret');
    expect(body).not.toContain('stack');
    expect(JSON.parse(body)).toMatchObject({
      status: 500,
      code: 'FND_SYSTEM_INTERNAL',
      correlationId: 'corr-2',
    });
  });

  it('every catalog code yields a body with an HTTP error status, its code, the given correlation id and no stack', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ERROR_CODES),
        fc.string({ maxLength: 40 }),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue(), { maxKeys: 3 }),
        (code, message, extensions) => {
          const error = new FoundationError(code, message === '' ? {} : { message });
          const body = problemBody(error, 'corr-3', extensions);
          expect(body.code).toBe(code);
          expect(body.correlationId).toBe('corr-3');
          expect(body.status).toBeGreaterThanOrEqual(400);
          expect(body.status).toBeLessThanOrEqual(599);
          expect(body.type).toBe(`urn:elixirscope:foundation:error:${code}`);
          expect(JSON.stringify(body)).not.toMatch(/"stack"/);
        },
      ),
    );
  });
});
