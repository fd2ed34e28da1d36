import { describe, expect, it } from 'vitest';
import { isRejection } from '../../src/protection/errors.js';
import { oursBreaker, oursComposed, oursRetry, oursTimeout } from './ours.js';
import { BREAKER_THRESHOLD, signalFn, valueFn } from './peers.js';

const boom = (): Promise<never> => Promise.reject(new Error('boom'));

describe('protection bench: ours', () => {
  it('answers 1 around the measured functions, in both timeout modes', async () => {
    expect(await oursBreaker().execute(valueFn)).toBe(1);
    expect(await oursRetry().execute(valueFn)).toBe(1);
    for (const mode of ['cooperative', 'aggressive'] as const) {
      expect(await oursTimeout(mode).execute(valueFn)).toBe(1);
      expect(await oursComposed(mode).execute(valueFn)).toBe(1);
      expect(await oursComposed(mode).execute(signalFn)).toBe(1);
    }
  });

  it('hands the function a real AbortSignal when it reads one', async () => {
    let seen: unknown;
    await oursComposed('cooperative').execute(({ signal }) => {
      seen = signal;
      return 1;
    });
    expect(seen).toBeInstanceOf(AbortSignal);
  });

  it('opens the breaker after 5 consecutive failures, not before', async () => {
    const policy = oursBreaker();
    for (let i = 0; i < BREAKER_THRESHOLD - 1; i++)
      await expect(policy.execute(boom)).rejects.toThrow('boom');
    expect(policy.status()[0]).toMatchObject({ kind: 'breaker', state: 'closed' });
    await expect(policy.execute(boom)).rejects.toThrow('boom');
    expect(policy.status()[0]).toMatchObject({ kind: 'breaker', state: 'open' });
    const refused: unknown = await policy.execute(valueFn).catch((error: unknown) => error);
    expect(isRejection(refused) && refused.code).toBe('FND_PROTECT_CIRCUIT_OPEN');
  });

  it('composes retry, breaker and timeout, outermost first', () => {
    expect(
      oursComposed('cooperative')
        .status()
        .map((layer) => layer.kind),
    ).toEqual(['retry', 'breaker', 'timeout']);
  });
});
