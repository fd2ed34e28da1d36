import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkBearer, secretsEqual } from './bearer-auth.js';

describe('bearer token check', () => {
  it('secretsEqual is string equality, whatever the lengths', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(secretsEqual(a, b)).toBe(a === b);
        expect(secretsEqual(a, a)).toBe(true);
      }),
    );
  });

  it('accepts exactly "Bearer <token>"', () => {
    expect(checkBearer('Bearer abc', 'abc', 'c')).toBeUndefined();
    expect(checkBearer('bearer abc', 'abc', 'c')).toBeUndefined();
    const refusals: Array<[string | undefined, string | undefined, string]> = [
      [undefined, 'abc', 'Missing bearer token: send "Authorization: Bearer <token>"'],
      ['Basic abc', 'abc', 'Missing bearer token: send "Authorization: Bearer <token>"'],
      ['Bearer', 'abc', 'Missing bearer token: send "Authorization: Bearer <token>"'],
      ['Bearer abc def', 'abc', 'Missing bearer token: send "Authorization: Bearer <token>"'],
      ['Bearer abd', 'abc', 'Invalid bearer token'],
      ['Bearer abcd', 'abc', 'Invalid bearer token'],
      ['Bearer abc', undefined, 'Mutating requests are disabled: the control bus has no token configured'],
      ['Bearer ', '', 'Mutating requests are disabled: the control bus has no token configured'],
    ];
    for (const [header, token, message] of refusals) {
      const error = checkBearer(header, token, 'corr');
      expect(error?.code).toBe('FND_EXTERNAL_AUTHENTICATION_FAILED');
      expect(error?.message).toBe(message);
      expect(error?.correlationId).toBe('corr');
    }
  });
});
