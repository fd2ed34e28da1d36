/**
 * The rate limit store contract on the memory store, on a fake clock (time passes through `advance`).
 */
import { MemoryRateLimitStore } from '../../src/protection/rate-limit/memory-store.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { rateLimitStoreContract } from './rate-limit-store.contract.js';

rateLimitStoreContract('memory', () => {
  const clock = new FakeClock();
  const store = new MemoryRateLimitStore({ clock });
  return Promise.resolve({
    store,
    advance: (ms: number) => {
      clock.advance(ms);
    },
    cleanup: () => store.close(),
  });
});
