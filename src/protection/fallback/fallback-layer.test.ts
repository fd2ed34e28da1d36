import { describe, expect, it } from 'vitest';
import { FoundationError } from '../../errors/index.js';
import { FakeClock } from '../../testing/fake-clock.js';
import { CoarseTimer } from '../coarse-timer.js';
import { pipeline } from '../pipeline.js';
import { createTimeoutLayer } from '../timeout/timeout-layer.js';
import { createFallbackLayer } from './fallback-layer.js';

function setup() {
  const clock = new FakeClock();
  return { clock, timer: new CoarseTimer(clock, 10) };
}

describe('fallback layer', () => {
  it('answers with a value on an error or a rejection by an inner layer', async () => {
    const runtime = setup();
    const layer = createFallbackLayer({ value: 'cached' });
    const policy = pipeline('svc', [layer, createTimeoutLayer({ ms: 100 })], runtime);
    await expect(policy.execute(() => Promise.reject(new Error('down')))).resolves.toBe('cached');
    const slow = policy.execute(() => new Promise<string>(() => undefined));
    await runtime.clock.advanceAsync(110);
    await expect(slow).resolves.toBe('cached');
    await expect(policy.execute(() => 'fresh')).resolves.toBe('fresh');
    expect(layer.status()).toEqual({ kind: 'fallback', fallbacks: 2 });
  });

  it('computes the answer from the error and the attempt; honours when', async () => {
    const policy = pipeline(
      'svc',
      [
        createFallbackLayer({
          fn: (error, attempt) => `${(error as Error).message}@${String(attempt.attempt)}`,
          when: (error) => !(error instanceof TypeError),
        }),
      ],
      setup(),
    );
    await expect(policy.execute(() => Promise.reject(new Error('down')))).resolves.toBe('down@1');
    await expect(policy.execute(() => Promise.reject(new TypeError('bug')))).rejects.toBeInstanceOf(
      TypeError,
    );
  });

  it('never replaces a cancellation by default; validates', async () => {
    const policy = pipeline('svc', [createFallbackLayer({ value: 1 })], setup());
    await expect(
      policy.execute(() => Promise.reject(new FoundationError('FND_PROTECT_CANCELLED'))),
    ).rejects.toMatchObject({ code: 'FND_PROTECT_CANCELLED' });
    expect(() => createFallbackLayer({} as never)).toThrow(
      expect.objectContaining({ code: 'FND_PROTECT_INVALID_POLICY' }),
    );
  });
});
