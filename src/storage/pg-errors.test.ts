import { describe, expect, it } from 'vitest';
import { FoundationError } from '../errors/foundation-error.js';
import { classifyPgError } from './pg-errors.js';

function pgError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('classifyPgError', () => {
  it.each([
    ['connection refused', pgError('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' })],
    ['connection reset', pgError('read ECONNRESET', { code: 'ECONNRESET' })],
    ['host not found', pgError('getaddrinfo ENOTFOUND nope', { code: 'ENOTFOUND' })],
    [
      'admin shutdown (pg_terminate_backend)',
      pgError('terminating connection due to administrator command', { code: '57P01' }),
    ],
    ['cannot connect now', pgError('the database system is starting up', { code: '57P03' })],
    ['connection exception class 08', pgError('connection failure', { code: '08006' })],
    ['too many connections', pgError('sorry, too many clients already', { code: '53300' })],
    ['terminated without code', new Error('Connection terminated unexpectedly')],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['ended pool', new Error('Cannot use a pool after calling end on the pool')],
    [
      'aggregate of refused addresses',
      Object.assign(
        new AggregateError([pgError('connect ECONNREFUSED ::1:1', { code: 'ECONNREFUSED' })], ''),
        {},
      ),
    ],
  ])('%s → FND_STORAGE_UNAVAILABLE (retryable)', (_name, error) => {
    const classified = classifyPgError(error);
    expect(classified.code).toBe('FND_STORAGE_UNAVAILABLE');
    expect(classified.retryStrategy).toBe('exponential_backoff');
    expect(classified.cause).toBe(error);
  });

  it.each([
    ['unknown database', '3D000'],
    ['failed password', '28P01'],
    ['bad authorization', '28000'],
  ])('%s → FND_STORAGE_UNAVAILABLE without retry', (_name, code) => {
    const error = pgError('nope', { code });
    const classified = classifyPgError(error);
    expect(classified.code).toBe('FND_STORAGE_UNAVAILABLE');
    expect(classified.retryStrategy).toBe('no_retry');
    expect(classified.context).toEqual({ code });
  });

  it('maps statement errors to FND_STORAGE_QUERY_FAILED with SQLSTATE and names, not the detail', () => {
    const error = pgError('duplicate key value violates unique constraint "t_pkey"', {
      code: '23505',
      constraint: 't_pkey',
      table: 't',
      detail: 'Key (id)=(secret-value) already exists.',
    });
    const classified = classifyPgError(error);
    expect(classified.code).toBe('FND_STORAGE_QUERY_FAILED');
    expect(classified.context).toEqual({ sqlState: '23505', constraint: 't_pkey', table: 't' });
    expect(classified.message).toContain('duplicate key');
    expect(JSON.stringify(classified.context)).not.toContain('secret-value');
    expect(classified.cause).toBe(error);
  });

  it('maps syntax errors and non-errors to FND_STORAGE_QUERY_FAILED', () => {
    expect(classifyPgError(pgError('syntax error at or near "SELEC"', { code: '42601' })).code).toBe(
      'FND_STORAGE_QUERY_FAILED',
    );
    expect(classifyPgError('weird').code).toBe('FND_STORAGE_QUERY_FAILED');
    expect(classifyPgError(undefined).code).toBe('FND_STORAGE_QUERY_FAILED');
  });

  it('returns a FoundationError unchanged', () => {
    const error = new FoundationError('FND_STORAGE_UNAVAILABLE');
    expect(classifyPgError(error)).toBe(error);
  });
});
