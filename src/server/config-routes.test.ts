import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFoundationError } from '../errors/index.js';
import { thrown } from '../testing/index.js';
import { DEFAULT_CONFIG_ACTOR, parseRollbackBody, parseUpdateBody } from './config-routes.js';

const CID = 'cid-test';

function refusal(fn: () => unknown): unknown {
  const error = thrown(fn);
  expect(isFoundationError(error, 'FND_HTTP_BAD_REQUEST')).toBe(true);
  return error;
}

describe('config routes: body parsing', () => {
  it('reads changes and options; the actor defaults to control-bus and the correlation id is the request’s', () => {
    expect(
      parseUpdateBody(
        {
          changes: [
            { path: 'limits.rps', value: 20 },
            { path: 'limits.burst', unset: true },
            { path: 'name', value: null, unset: false },
          ],
          expectedVersion: 3,
          dryRun: true,
          reason: 'load test',
        },
        CID,
      ),
    ).toEqual({
      changes: [
        { path: 'limits.rps', value: 20 },
        { path: 'limits.burst', unset: true },
        { path: 'name', value: null },
      ],
      options: {
        expectedVersion: 3,
        dryRun: true,
        reason: 'load test',
        actor: DEFAULT_CONFIG_ACTOR,
        correlationId: CID,
      },
    });
    expect(parseRollbackBody({ version: 2, actor: 'ops' }, CID)).toEqual({
      version: 2,
      options: { actor: 'ops', correlationId: CID },
    });
  });

  it.each([
    undefined,
    null,
    'text',
    42,
    [],
    [{ path: 'a', value: 1 }],
    {},
    { changes: [] },
    { changes: {} },
    { changes: [{ path: 'a', value: 1 }], extra: true },
    { changes: [null] },
    { changes: [[]] },
    { changes: [{ path: 'a' }] },
    { changes: [{ value: 1 }] },
    { changes: [{ path: '', value: 1 }] },
    { changes: [{ path: 7, value: 1 }] },
    { changes: [{ path: 'a'.repeat(1025), value: 1 }] },
    { changes: [{ path: 'a', value: 1, unset: true }] },
    { changes: [{ path: 'a', unset: 'yes' }] },
    { changes: [{ path: 'a', value: 1, extra: 1 }] },
    { changes: Array.from({ length: 1001 }, () => ({ path: 'a', value: 1 })) },
    { changes: [{ path: 'a', value: 1 }], expectedVersion: 0 },
    { changes: [{ path: 'a', value: 1 }], expectedVersion: 1.5 },
    { changes: [{ path: 'a', value: 1 }], expectedVersion: '3' },
    { changes: [{ path: 'a', value: 1 }], dryRun: 'true' },
    { changes: [{ path: 'a', value: 1 }], reason: 5 },
    { changes: [{ path: 'a', value: 1 }], reason: 'r'.repeat(501) },
    { changes: [{ path: 'a', value: 1 }], actor: 'a'.repeat(201) },
  ])('%# refuses update body %j with FND_HTTP_BAD_REQUEST', (body) => {
    refusal(() => parseUpdateBody(body, CID));
  });

  it.each([
    undefined,
    {},
    { version: 0 },
    { version: '2' },
    { version: 2, changes: [] },
    { version: 2, expectedVersion: -1 },
  ])('%# refuses rollback body %j with FND_HTTP_BAD_REQUEST', (body) => {
    refusal(() => parseRollbackBody(body, CID));
  });

  it('any JSON body is either read or refused with FND_HTTP_BAD_REQUEST (never another error)', () => {
    const change = fc.record(
      {
        path: fc.oneof(fc.string(), fc.integer()),
        value: fc.jsonValue(),
        unset: fc.oneof(fc.boolean(), fc.string()),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          changes: fc.oneof(fc.array(change), fc.jsonValue()),
          expectedVersion: fc.oneof(fc.integer(), fc.jsonValue()),
          dryRun: fc.oneof(fc.boolean(), fc.jsonValue()),
          reason: fc.oneof(fc.string(), fc.jsonValue()),
          actor: fc.string(),
          version: fc.integer(),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(body, (raw) => {
        for (const parse of [parseUpdateBody, parseRollbackBody]) {
          try {
            parse(raw, CID);
          } catch (error) {
            expect(isFoundationError(error, 'FND_HTTP_BAD_REQUEST')).toBe(true);
          }
        }
      }),
    );
  });
});
