import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../types.js';
import { envSegmentToCamel, readEnvLayer } from './env.js';

const SECRET = 's3cr3t-VALUE-xyz';

const errorOf = (fn: () => unknown): { code: string; message: string; context: Record<string, unknown> } => {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string; context: Record<string, unknown> };
  }
  throw new Error('expected a throw');
};

const base: JsonObject = {
  port: 3000,
  debug: false,
  name: 'svc',
  tags: ['a'],
  limits: { maxRps: 10, 'burst-size': 5, max_conn: 1 },
  db: { password: 'x', options: { ssl: true } },
  nothing: null,
};

const read = (env: Record<string, string | undefined>, b: JsonObject = base, separator?: string) =>
  readEnvLayer({ prefix: 'APP_', env, ...(separator === undefined ? {} : { separator }) }, b);

describe('envSegmentToCamel', () => {
  it('turns names into lower camelCase', () => {
    expect(envSegmentToCamel('MAX_RPS')).toBe('maxRps');
    expect(envSegmentToCamel('TIMEOUT')).toBe('timeout');
    expect(envSegmentToCamel('A_B_C')).toBe('aBC');
    expect(envSegmentToCamel('_X_')).toBe('x');
  });
});

describe('readEnvLayer', () => {
  it('reads only prefixed variables with a value', () => {
    const { value, vars } = read({ APP_PORT: '8080', OTHER: '1', app_port: '1', APP_NAME: undefined });
    expect(value).toEqual({ port: 8080 });
    expect([...vars]).toEqual([['port', 'APP_PORT']]);
    expect(Object.isFrozen(value)).toBe(true);
  });

  it('resolves segments against the base keys, else camelCase', () => {
    const { value, vars } = read({
      APP_LIMITS__MAX_RPS: '50',
      APP_LIMITS__BURST_SIZE: '7',
      APP_LIMITS__MAXCONN: '2',
      APP_LIMITS__NEW_THING: 'x',
      APP_NEW__DEEP_KEY: 'y',
    });
    expect(value).toEqual({
      limits: { maxRps: 50, 'burst-size': 7, max_conn: 2, newThing: 'x' },
      new: { deepKey: 'y' },
    });
    expect(vars.get('limits.maxRps')).toBe('APP_LIMITS__MAX_RPS');
    expect(vars.get('limits.burst-size')).toBe('APP_LIMITS__BURST_SIZE');
    expect(vars.get('new.deepKey')).toBe('APP_NEW__DEEP_KEY');
  });

  it('honours a custom separator', () => {
    expect(read({ APP_LIMITS_MAXRPS: '3' }, base, '_').value).toEqual({ limits: { maxRps: 3 } });
  });

  it('coerces numbers strictly', () => {
    for (const [raw, n] of [
      ['42', 42],
      [' -1.5 ', -1.5],
      ['+3', 3],
      ['.5', 0.5],
      ['1e3', 1000],
      ['5.', 5],
      ['-0', 0],
    ] as const) {
      expect(read({ APP_PORT: raw }).value).toEqual({ port: n });
    }
    for (const raw of ['', 'abc', '0x10', '1_000', 'Infinity', '1e999', '12px', 'NaN']) {
      const error = errorOf(() => read({ APP_PORT: raw }));
      expect(error.code).toBe('FND_CONFIG_ENV_INVALID');
      expect(error.message).toContain('APP_PORT');
      expect(error.message).toContain('number');
      expect(error.context['expected']).toBe('number');
    }
  });

  it('coerces booleans', () => {
    for (const raw of ['true', 'TRUE', '1', 'yes', 'On', ' on '])
      expect(read({ APP_DEBUG: raw }).value).toEqual({ debug: true });
    for (const raw of ['false', '0', 'NO', 'off'])
      expect(read({ APP_DEBUG: raw }).value).toEqual({ debug: false });
    const error = errorOf(() => read({ APP_DEBUG: 'maybe' }));
    expect(error.code).toBe('FND_CONFIG_ENV_INVALID');
    expect(error.context['expected']).toBe('boolean');
    expect(read({ APP_DB__OPTIONS__SSL: 'off' }).value).toEqual({ db: { options: { ssl: false } } });
  });

  it('keeps strings as they are', () => {
    expect(read({ APP_NAME: ' 42 ' }).value).toEqual({ name: ' 42 ' });
    expect(read({ APP_NAME: '' }).value).toEqual({ name: '' });
  });

  it('parses arrays and objects as JSON of the same kind', () => {
    expect(read({ APP_TAGS: '["x", 1]' }).value).toEqual({ tags: ['x', 1] });
    expect(read({ APP_LIMITS: '{"maxRps": 1}' }).value).toEqual({ limits: { maxRps: 1 } });
    expect(errorOf(() => read({ APP_TAGS: '{"a":1}' })).context['expected']).toBe('a JSON array');
    expect(errorOf(() => read({ APP_LIMITS: '[1]' })).context['expected']).toBe('a JSON object');
    expect(errorOf(() => read({ APP_LIMITS: 'nope' })).code).toBe('FND_CONFIG_ENV_INVALID');
    const proto = errorOf(() => read({ APP_LIMITS: '{"__proto__": {"x": 1}}' }));
    expect(proto.code).toBe('FND_CONFIG_ENV_INVALID');
    expect((proto as unknown as { cause: { code: string } }).cause.code).toBe('FND_CONFIG_INVALID_PATH');
    let deep = '1';
    for (let i = 0; i < 25; i++) deep = `[${deep}]`;
    expect(errorOf(() => read({ APP_TAGS: deep })).code).toBe('FND_CONFIG_ENV_INVALID');
  });

  it('guesses JSON where the base has no value (or null)', () => {
    expect(
      read({
        APP_A: '12',
        APP_B: 'true',
        APP_C: 'null',
        APP_D: '{"x":[1]}',
        APP_E: '[1,2]',
        APP_F: 'hello',
        APP_G: '{not json',
        APP_H: 'True',
        APP_NOTHING: '5',
      }).value,
    ).toEqual({
      a: 12,
      b: true,
      c: null,
      d: { x: [1] },
      e: [1, 2],
      f: 'hello',
      g: '{not json',
      h: 'True',
      nothing: 5,
    });
    expect(errorOf(() => read({ APP_X: '{"constructor": 1}' })).code).toBe('FND_CONFIG_ENV_INVALID');
  });

  it('refuses names that map to no valid path', () => {
    for (const name of [
      'APP_',
      'APP_A____B',
      'APP_CONSTRUCTOR',
      'APP_A__PROTOTYPE',
      'APP___PROTO__',
      'APP_A.B',
      'APP_É',
    ]) {
      const error = errorOf(() => read({ [name]: '1' }));
      expect(error.code).toBe('FND_CONFIG_ENV_INVALID');
      expect(error.context['variable']).toBe(name);
    }
  });

  it('refuses a value over 64 KiB', () => {
    const error = errorOf(() => read({ APP_NAME: 'x'.repeat(65_537) }));
    expect(error.code).toBe('FND_CONFIG_ENV_INVALID');
    expect(read({ APP_NAME: 'x'.repeat(65_536) }).value).toEqual({ name: 'x'.repeat(65_536) });
  });

  it('refuses two variables for one path, or for a path and its parent', () => {
    const same = errorOf(() => read({ APP_LIMITS__MAX_RPS: '1', APP_LIMITS__MAXRPS: '2' }));
    expect(same.code).toBe('FND_CONFIG_ENV_INVALID');
    expect(same.message).toContain('APP_LIMITS__MAX_RPS');
    expect(same.message).toContain('APP_LIMITS__MAXRPS');
    const parent = errorOf(() => read({ APP_LIMITS: '{}', APP_LIMITS__MAX_RPS: '1', APP_LIMITS__ZZ: '1' }));
    expect(parent.code).toBe('FND_CONFIG_ENV_INVALID');
    expect(parent.message).toContain('APP_LIMITS');
    expect(read({ APP_LIMITS__MAX_RPS: '1', APP_LIMITS__X: '2' }).value).toEqual({
      limits: { maxRps: 1, x: 2 },
    });
  });

  it('never puts the value in an error (property over every error kind)', () => {
    const cases: Array<Record<string, string>> = [
      { APP_PORT: SECRET },
      { APP_DEBUG: SECRET },
      { APP_TAGS: `{"k":"${SECRET}"}` },
      { APP_TAGS: `[${SECRET}` },
      { APP_LIMITS: `["${SECRET}"]` },
      { APP_X: `{"__proto__":"${SECRET}"}` },
      { APP_NAME: SECRET.repeat(5000) },
      { APP_DB__PASSWORD: SECRET, APP_DB__PASS_WORD: SECRET },
    ];
    for (const env of cases) {
      const error = errorOf(() => read(env));
      expect(error.code).toBe('FND_CONFIG_ENV_INVALID');
      expect(error.message).not.toContain(SECRET);
      expect(JSON.stringify(error.context)).not.toContain(SECRET);
    }
    fc.assert(
      fc.property(fc.string({ minLength: 3 }), (value) => {
        fc.pre(!/^\s*[+-]?(\d|\.\d)/.test(value) && !['$', '0x'].some((p) => value.startsWith(p)));
        try {
          read({ APP_PORT: `${value}!` });
        } catch (error) {
          const e = error as { message: string; context: unknown };
          expect(e.message).not.toContain(`${value}!`);
          expect(JSON.stringify(e.context)).not.toContain(JSON.stringify(`${value}!`).slice(1, -1));
        }
      }),
    );
  });
});
