/**
 * Fuzz: environment variables. Random values (numbers, booleans, JSON, garbage, huge strings) under random
 * variable names — the config's own keys, case and separator variations, deeper or unknown paths, other
 * prefixes — go into a config's environment layer. The config either starts on a value the schema accepts,
 * or is refused with a catalog code; a secret's value never appears in the error (message, context or
 * causes), whatever happens.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ManagedConfig } from '../../src/config/config-api.js';
import { createConfig } from '../../src/config/config.js';
import { isFoundationError } from '../../src/errors/index.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { fuzz, hasCatalogCode, STACK_TRACE } from './fuzz.js';

const schema = z.object({
  limits: z
    .object({
      rps: z.number().int().positive().default(100),
      burst: z.number().int().min(0).max(1000).default(10),
    })
    .prefault({}),
  flags: z.object({ enabled: z.boolean().default(false) }).prefault({}),
  mode: z.enum(['fast', 'safe']).default('safe'),
  tags: z.array(z.string()).max(5).default([]),
  db: z
    .object({ url: z.string().default('postgres://db'), password: z.string().default('none') })
    .prefault({}),
});

const VARIABLES = [
  'APP_LIMITS__RPS',
  'APP_LIMITS__BURST',
  'APP_FLAGS__ENABLED',
  'APP_MODE',
  'APP_TAGS',
  'APP_DB__URL',
  'APP_LIMITS',
  'APP_DB',
  'APP_LIMITS__RPS__DEEP',
  'APP_UNKNOWN__KEY',
  'APP_limits__rps',
  'APP_Flags__Enabled',
  'APP___',
  'APP_',
  'APP__PROTO__',
  'APP___PROTO____POLLUTED',
  'APP_CONSTRUCTOR__PROTOTYPE',
  'OTHER_MODE',
] as const;

/** The secret's variable; its values carry a marker so a leak is easy to find. */
const SECRET_VARIABLE = 'APP_DB__PASSWORD';
const SECRET_MARKER = 'Zq7-secret-';

const value = fc.oneof(
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom(
    'true',
    'false',
    'yes',
    'off',
    '1',
    '0',
    '',
    ' ',
    'null',
    '[]',
    '{}',
    'NaN',
    '1e400',
    '0x10',
  ),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 40 }),
  fc.constant('x'.repeat(70_000)),
);

const env = fc.record({
  vars: fc.dictionary(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...VARIABLES) },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => `APP_${s}`) },
    ),
    value,
    { maxKeys: 5 },
  ),
  secret: fc.option(
    fc.string({ minLength: 1, maxLength: 20 }).map((s) => `${SECRET_MARKER}${s}`),
    { nil: undefined },
  ),
});

/** Everything an error says: messages and contexts of it and its causes. */
function everything(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 10; depth++) {
    if (current instanceof Error) {
      parts.push(current.message);
      if (isFoundationError(current)) parts.push(JSON.stringify(current.context));
      current = current.cause;
    } else {
      parts.push(`${typeof current}: ${JSON.stringify(current)}`);
      current = undefined;
    }
  }
  return parts.join('\n');
}

describe('fuzz: env', () => {
  it('fuzz: env — random variables give a valid config or a catalog error that never shows the secret', async (context) => {
    const outcomes = { started: 0, refused: 0 };
    await fuzz(
      context,
      fc.asyncProperty(env, async ({ vars, secret }) => {
        const variables: Record<string, string> = { ...vars };
        if (secret !== undefined) variables[SECRET_VARIABLE] = secret;
        const where = JSON.stringify(variables).slice(0, 300);
        let config: ManagedConfig<z.infer<typeof schema>>;
        try {
          config = createConfig(
            { schema, env: { prefix: 'APP_', env: variables }, secrets: ['db.password'] },
            { clock: new FakeClock() },
          );
          await config.start();
        } catch (error) {
          outcomes.refused += 1;
          expect(hasCatalogCode(error), `${where}: ${String(error)}`).toBe(true);
          const said = everything(error);
          expect(said, where).not.toMatch(STACK_TRACE);
          if (secret !== undefined) expect(said, where).not.toContain(SECRET_MARKER);
          return;
        }
        try {
          outcomes.started += 1;
          expect(schema.safeParse(config.snapshot()).success, where).toBe(true);
          if (secret !== undefined) {
            expect(config.get('db.password'), where).toBe(secret);
            expect(JSON.stringify(await config.history({ limit: 10 })), where).not.toContain(SECRET_MARKER);
          }
        } finally {
          await config.stop();
        }
      }),
    );
    expect(outcomes.started).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});
