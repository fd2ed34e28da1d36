/**
 * The combined schema of a foundation's config off the usual path: a value that is not an object, a user
 * schema that validates asynchronously or produces something other than an object; and a subscriber that
 * is not an object.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FoundationError } from '../errors/index.js';
import { FakeClock } from '../testing/index.js';
import { createConfig } from './config.js';
import { withFoundationSection } from './foundation-settings.js';

function userSchema(
  validate: (value: unknown) => StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>,
): StandardSchemaV1 {
  return { '~standard': { version: 1, vendor: 'test', validate } };
}

describe('withFoundationSection', () => {
  it('refuses a configuration that is not an object', () => {
    const schema = withFoundationSection(undefined);
    for (const value of [null, 3, ['a']]) {
      expect(schema['~standard'].validate(value)).toEqual({
        issues: [{ message: 'The configuration must be an object' }],
      });
    }
  });

  it('passes the rest through without a user schema and fills the foundation defaults', () => {
    const result = withFoundationSection(undefined)['~standard'].validate({ app: { name: 'x' } });
    expect(result).toMatchObject({
      value: { app: { name: 'x' }, foundation: expect.any(Object) as unknown },
    });
  });

  it('waits for a user schema that validates asynchronously and combines both results', async () => {
    const schema = withFoundationSection(userSchema((value) => Promise.resolve({ value })));
    const pending = schema['~standard'].validate({ app: 1 });
    expect(pending).toBeInstanceOf(Promise);
    const result = await pending;
    expect(result).toMatchObject({ value: { app: 1, foundation: expect.any(Object) as unknown } });

    const failing = withFoundationSection(
      userSchema(() => Promise.resolve({ issues: [{ message: 'no', path: ['app'] }] })),
    );
    expect(await failing['~standard'].validate({ app: 1 })).toEqual({
      issues: [{ message: 'no', path: ['app'] }],
    });
  });

  it('refuses a user schema whose output is not an object', () => {
    const schema = withFoundationSection(userSchema(() => ({ value: 'text' })));
    expect(schema['~standard'].validate({})).toEqual({
      issues: [{ message: 'The user schema must produce an object' }],
    });
  });

  it('reports issues of the foundation section under `foundation`', () => {
    const result = withFoundationSection(z.object({}))['~standard'].validate({ foundation: 'nope' });
    expect(result).toMatchObject({ issues: [{ path: ['foundation'] }] });
  });
});

describe('subscribing with something that is not a subscriber object', () => {
  it('is refused with FND_CONFIG_INVALID_STRUCTURE and registers nothing', () => {
    const config = createConfig(
      { schema: z.object({ a: z.number().default(1) }) },
      { clock: new FakeClock() },
    );
    config.subscribe('a', { onChange: () => undefined });
    const notSubscribers: unknown[] = ['x', {}, null];
    for (const subscriber of notSubscribers) {
      let error: unknown;
      try {
        config.subscribe('a', subscriber as never);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(FoundationError);
      expect((error as FoundationError).code).toBe('FND_CONFIG_INVALID_STRUCTURE');
      expect((error as FoundationError).context).toEqual({ prefix: 'a' });
    }
    expect(config.status().subscribers).toBe(1);
  });
});
