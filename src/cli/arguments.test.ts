import fc from 'fast-check';
import { thrown } from '../testing/index.js';
import { describe, expect, it } from 'vitest';
import { isFoundationError } from '../errors/index.js';
import { parseDuration, parseFlags, parseHost, parseName, parsePort, parseUrl, pick } from './arguments.js';

describe('CLI argument parsing', () => {
  it('parsePort accepts exactly the integers 0–65535', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65_535 }), (port) => {
        expect(parsePort(String(port), '--port')).toBe(port);
      }),
    );
    for (const bad of ['65536', '-1', '1.5', '', ' ', 'abc', '0x10', '1e3', '999999']) {
      const error = thrown(() => parsePort(bad, '--port'));
      expect(isFoundationError(error, 'FND_CLI_INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toBe(
        `--port must be an integer from 0 to 65535, got ${JSON.stringify(bad)}`,
      );
    }
  });

  it('parseDuration reads ms, s and m suffixes and bare milliseconds, within 1 ms–1 h', () => {
    expect(parseDuration('500ms', '--t')).toBe(500);
    expect(parseDuration('10s', '--t')).toBe(10_000);
    expect(parseDuration('2m', '--t')).toBe(120_000);
    expect(parseDuration('250', '--t')).toBe(250);
    for (const bad of ['0', '0s', '61m', 'soon', '1.5s', '-1s', '']) {
      expect(
        isFoundationError(
          thrown(() => parseDuration(bad, '--t')),
          'FND_CLI_INVALID_ARGUMENT',
        ),
      ).toBe(true);
    }
  });

  it('parseHost, parseName and parseUrl refuse empty and malformed values, naming the source', () => {
    expect(parseHost(' 0.0.0.0 ', '--host')).toBe('0.0.0.0');
    expect(parseHost('::1', '--host')).toBe('::1');
    expect((thrown(() => parseHost('', 'FOUNDATION_HOST')) as Error).message).toMatch(
      /^FOUNDATION_HOST must/,
    );
    expect(isFoundationError(thrown(() => parseHost('http://x', '--host')))).toBe(true);
    expect(parseName('orders-1', '--name')).toBe('orders-1');
    expect(isFoundationError(thrown(() => parseName('x'.repeat(65), '--name')))).toBe(true);
    expect(isFoundationError(thrown(() => parseName('-x', '--name')))).toBe(true);
    expect(parseUrl('http://127.0.0.1:4000/', '--url').origin).toBe('http://127.0.0.1:4000');
    expect(isFoundationError(thrown(() => parseUrl('localhost:4000', '--url')))).toBe(true);
    expect(isFoundationError(thrown(() => parseUrl('file:///etc/passwd', '--url')))).toBe(true);
  });

  it('pick prefers the flag, then a non-empty environment variable', () => {
    const env = { FOUNDATION_PORT: '5000', FOUNDATION_HOST: '' };
    expect(pick({ port: '6000' }, 'port', env, 'FOUNDATION_PORT')).toEqual({
      value: '6000',
      source: '--port',
    });
    expect(pick({}, 'port', env, 'FOUNDATION_PORT')).toEqual({ value: '5000', source: 'FOUNDATION_PORT' });
    expect(pick({}, 'host', env, 'FOUNDATION_HOST')).toBeUndefined();
  });

  it('parseFlags turns parseArgs errors into FND_CLI_INVALID_ARGUMENT with a hint', () => {
    const options = { port: { type: 'string' } } as const;
    expect(parseFlags('start', ['--port', '1'], options)).toEqual({ port: '1' });
    const unknown = thrown(() => parseFlags('start', ['--nope'], options));
    expect(isFoundationError(unknown, 'FND_CLI_INVALID_ARGUMENT')).toBe(true);
    expect((unknown as Error).message).toMatch(
      /^foundation start: Unknown option '--nope'.*See "foundation start --help"$/,
    );
    const positional = thrown(() => parseFlags('start', ['x'], options));
    expect((positional as Error).message).toMatch(/Unexpected argument 'x'/);
  });
});
